package flow

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apigo/apigo/policy"
	"github.com/apigo/apigo/policy/exchange"
)

// Trace is what happened to one exchange: each flow entered, each step with
// its condition and result, variables written, the route chosen, the target
// call, faults and FaultRules, with times. `apigo serve --trace DIR` writes
// one as JSON per request; `apigo test` prints it for failing cases.
type Trace struct {
	MessageID  string       `json:"messageid"`
	Proxy      string       `json:"proxy,omitempty"`
	Revision   string       `json:"revision,omitempty"`
	Endpoint   string       `json:"endpoint,omitempty"`
	Start      time.Time    `json:"start"`
	DurationUS int64        `json:"duration_us"`
	Request    TraceMessage `json:"request"`
	Response   TraceMessage `json:"response"`
	Events     []Event      `json:"events"`
}

// TraceMessage summarises a message in a trace.
type TraceMessage struct {
	Verb    string              `json:"verb,omitempty"`
	URI     string              `json:"uri,omitempty"`
	Status  int                 `json:"status,omitempty"`
	Headers map[string][]string `json:"headers,omitempty"`
	Body    string              `json:"body,omitempty"`
}

// maxTraceBody bounds message bodies kept in a trace.
const maxTraceBody = 4096

// Event is one thing that happened. Element, when set, is the source
// position of the bundle element involved (a Flow, Step, RouteRule or
// FaultRule): it is the key coverage counts by.
type Event struct {
	AtUS       int64  `json:"at_us"`
	Kind       string `json:"kind"` // flow, condition, step, skip, route, target, fault, faultrule, set, print
	Element    string `json:"element,omitempty"`
	Endpoint   string `json:"endpoint,omitempty"`
	Flow       string `json:"flow,omitempty"`
	Name       string `json:"name,omitempty"`
	Policy     string `json:"policy,omitempty"` // policy type of a step
	Condition  string `json:"condition,omitempty"`
	Result     *bool  `json:"result,omitempty"`
	Fault      string `json:"fault,omitempty"`
	Status     int    `json:"status,omitempty"`
	URL        string `json:"url,omitempty"`
	Var        string `json:"var,omitempty"`
	Value      string `json:"value,omitempty"`
	Error      string `json:"error,omitempty"`
	DurationUS int64  `json:"duration_us,omitempty"`
}

// String renders an event as one readable line.
func (ev Event) String() string {
	var b strings.Builder
	b.WriteString(padLeft(ev.AtUS))
	b.WriteString("µs ")
	b.WriteString(ev.Kind)
	add := func(k, v string) {
		if v != "" {
			b.WriteString(" " + k + "=" + v)
		}
	}
	add("endpoint", ev.Endpoint)
	add("flow", ev.Flow)
	add("name", ev.Name)
	add("policy", ev.Policy)
	add("condition", quoteIf(ev.Condition))
	if ev.Result != nil {
		add("result", map[bool]string{true: "true", false: "false"}[*ev.Result])
	}
	add("fault", ev.Fault)
	if ev.Status != 0 {
		add("status", strconv.Itoa(ev.Status))
	}
	add("url", ev.URL)
	add("var", ev.Var)
	if ev.Kind == "set" || ev.Kind == "print" {
		add("value", quoteIf(ev.Value))
	}
	add("error", ev.Error)
	if ev.DurationUS != 0 {
		add("took", strconv.FormatInt(ev.DurationUS, 10)+"µs")
	}
	add("at", ev.Element)
	return b.String()
}

// tracer collects events for one exchange; it is the exchange's Recorder.
type tracer struct {
	t     *Trace
	start time.Time
	flow  string // current flow segment, for events
	ep    string // current endpoint
}

func newTracer(pe *proxyEndpoint, r *http.Request) *tracer {
	now := time.Now()
	return &tracer{start: now, t: &Trace{
		Proxy: pe.proxy.name, Revision: pe.proxy.revision, Endpoint: pe.name, Start: now,
		Request: TraceMessage{Verb: r.Method, URI: r.URL.RequestURI(), Headers: maskHeaders(r.Header)},
	}}
}

func (tr *tracer) add(ev Event) {
	ev.AtUS = time.Since(tr.start).Microseconds()
	if ev.Endpoint == "" {
		ev.Endpoint = tr.ep
	}
	if ev.Flow == "" && ev.Kind != "flow" {
		ev.Flow = tr.flow
	}
	tr.t.Events = append(tr.t.Events, ev)
}

func (tr *tracer) cond(element, text string, result bool) {
	tr.add(Event{Kind: "condition", Element: element, Condition: text, Result: &result})
}

// VarSet records a policy's variable write (exchange.Recorder).
func (tr *tracer) VarSet(name string, v any, err error) {
	ev := Event{Kind: "set", Var: name, Value: exchange.Format(v)}
	if exchange.IsPrivate(name) || secretVar.MatchString(name) {
		ev.Value = masked
	}
	if _, isMsg := v.(*exchange.Message); isMsg {
		ev.Value = "(message)"
	}
	if err != nil {
		ev.Error = err.Error()
	}
	tr.add(ev)
}

// Print records a policy's printed output (exchange.Recorder).
func (tr *tracer) Print(policy, text string) {
	tr.add(Event{Kind: "print", Name: policy, Value: text})
}

func (tr *tracer) fault(f *policy.Fault) {
	tr.add(Event{Kind: "fault", Name: f.Name, Fault: f.Code, Status: f.HTTPStatus(), Error: f.FaultString})
}

func (tr *tracer) finish(x *exchange.Exchange) *Trace {
	t := tr.t
	t.DurationUS = time.Since(tr.start).Microseconds()
	t.MessageID, _ = x.GetString("messageid")
	if m := x.Response(); m != nil {
		t.Response = TraceMessage{Status: m.Status, Headers: maskHeaders(m.Header)}
		if m.Stream == nil {
			t.Response.Body = truncate(maskBody(string(m.Body)))
		}
	}
	return t
}

func truncate(s string) string {
	if len(s) > maxTraceBody {
		return s[:maxTraceBody] + "…(truncated)"
	}
	return s
}

func quoteIf(s string) string {
	if s == "" {
		return ""
	}
	return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
}

func padLeft(n int64) string {
	return fmt.Sprintf("%7d", n)
}

// Element is a bundle element coverage counts: a conditional Flow, a Step,
// a RouteRule, a FaultRule or a DefaultFaultRule.
type Element struct {
	ID        string `json:"id"` // file:line:col
	Kind      string `json:"kind"`
	Proxy     string `json:"proxy"`
	Endpoint  string `json:"endpoint"`
	Name      string `json:"name"`
	Condition string `json:"condition,omitempty"` // "" when it has none
}

// Elements lists every element of the deployed proxies that coverage
// tracks, sorted by position.
func (e *Engine) Elements() []Element {
	out := append([]Element(nil), e.elements...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// secretHeaders are masked in traces: they carry API keys, tokens and
// client secrets.
var secretHeaders = map[string]bool{"Authorization": true, "Proxy-Authorization": true, "Cookie": true,
	"Set-Cookie": true, "X-Api-Key": true, "Apikey": true}

const masked = "********"

func maskHeaders(h http.Header) map[string][]string {
	out := make(map[string][]string, len(h))
	for k, vs := range h {
		if secretHeaders[k] {
			out[k] = []string{masked}
			continue
		}
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// secretVar matches variable names whose values are secrets or bearer
// credentials (tokens a policy generates, signed content, passwords).
var secretVar = regexp.MustCompile(`(?i)((^|\.)(access_token|refresh_token|id_token|token|client_secret|secret|password|authorization|generated_jwt|generated_jws|apikey|api_key|x-api-key)$|^hmac\..*\.output$|^jws\..*\.payload$)`)

// secretJSON and secretForm match JSON members and form fields that hold
// secrets (token endpoint answers, password grants).
var (
	secretJSON = regexp.MustCompile(`("(?:access_token|refresh_token|id_token|client_secret|password|code)"\s*:\s*)"[^"]*"`)
	secretForm = regexp.MustCompile(`\b((?:access_token|refresh_token|client_secret|password)=)[^&\s]*`)
)

// maskBody hides secrets a traced body may carry.
func maskBody(s string) string {
	s = secretJSON.ReplaceAllString(s, `${1}"`+masked+`"`)
	return secretForm.ReplaceAllString(s, "${1}"+masked)
}
