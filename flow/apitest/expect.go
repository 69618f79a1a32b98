package apitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/apigo/apigo/policy/exchange"
	"github.com/apigo/apigo/policy/template"
)

// outcome is what one exchange produced.
type outcome struct {
	status int
	header http.Header
	body   []byte
	x      *exchange.Exchange // nil when no proxy matched the path
	calls  []Call
}

// maxShown bounds bodies quoted in failure messages.
const maxShown = 300

// check returns one message per unmet expectation, each saying what was
// expected and what came back.
func (e *Expect) check(o *outcome) []string {
	var fails []string
	add := func(format string, args ...any) { fails = append(fails, fmt.Sprintf(format, args...)) }
	for _, c := range o.calls {
		if c.Mock == "" && !c.Network {
			add("unmocked call: %s %s (no mock matches it; add one, or set network: true)", c.Method, c.URL)
		}
	}
	if e.Status != 0 && e.Status != o.status {
		add("status: expected %d, got %d", e.Status, o.status)
	}
	for _, h := range e.Headers {
		if msg := checkHeader(h, o.header); msg != "" {
			add("%s", msg)
		}
	}
	fails = append(fails, e.checkBody(o.body)...)
	for _, v := range e.Variables {
		if msg := checkVariable(v, o.x); msg != "" {
			add("%s", msg)
		}
	}
	if msg := e.checkFault(o.x); msg != "" {
		add("%s", msg)
	}
	counts := map[string]int{}
	for _, c := range o.calls {
		if c.Mock != "" {
			counts[c.Mock]++
		}
	}
	for _, tc := range e.TargetCalled {
		if got := counts[tc.mock]; got != tc.count {
			add("target_called %s: expected %s, got %d", tc.mock, plural(tc.count, "call"), got)
		}
	}
	return fails
}

func checkHeader(h headerMatch, got http.Header) string {
	vs, ok := got[h.name]
	switch {
	case h.absent && ok:
		return fmt.Sprintf("header %s: expected none, got %q", h.name, strings.Join(vs, ", "))
	case h.absent:
		return ""
	case !ok:
		return fmt.Sprintf("header %s: expected %s, got none", h.name, h.want)
	}
	if v := strings.Join(vs, ", "); !h.want.match(v) {
		return fmt.Sprintf("header %s: expected %s, got %q", h.name, h.want, v)
	}
	return ""
}

func (e *Expect) checkBody(body []byte) []string {
	var fails []string
	text := string(body)
	if e.Body != nil && *e.Body != text {
		fails = append(fails, fmt.Sprintf("body: expected %s, got %s", shown(*e.Body), shown(text)))
	}
	for _, s := range e.BodyContains {
		if !strings.Contains(text, s) {
			fails = append(fails, fmt.Sprintf("body: expected to contain %q, got %s", s, shown(text)))
		}
	}
	for _, je := range e.BodyJSON {
		if msg := je.check(text); msg != "" {
			fails = append(fails, msg)
		}
	}
	return fails
}

func (je jsonExpect) check(body string) string {
	res, err := je.path.Eval(body)
	if err != nil {
		return fmt.Sprintf("body_json %s: body is not JSON (%v): %s", je.path, err, shown(body))
	}
	if len(res) == 0 {
		return fmt.Sprintf("body_json %s: expected %s, got no match", je.path, je.expected())
	}
	got := any(res)
	if len(res) == 1 {
		got = res[0]
	}
	got, _ = normalize(got)
	if je.re != nil {
		if text := template.JSONText(got); !je.re.match(text) {
			return fmt.Sprintf("body_json %s: expected %s, got %s", je.path, je.re, jsonText(got))
		}
		return ""
	}
	if !reflect.DeepEqual(got, je.want) {
		return fmt.Sprintf("body_json %s: expected %s, got %s", je.path, je.expected(), jsonText(got))
	}
	return ""
}

func (je jsonExpect) expected() string {
	if je.re != nil {
		return je.re.String()
	}
	return jsonText(je.want)
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func checkVariable(v varExpect, x *exchange.Exchange) string {
	var val any
	ok := false
	if x != nil {
		val, ok = x.Lookup(v.name)
		ok = ok && val != nil
	}
	switch {
	case v.absent && ok:
		return fmt.Sprintf("variable %s: expected unset, got %q", v.name, exchange.Format(val))
	case v.absent:
		return ""
	case !ok:
		return fmt.Sprintf("variable %s: expected %s, got unset", v.name, v.want)
	}
	if s := exchange.Format(val); !v.want.match(s) {
		return fmt.Sprintf("variable %s: expected %s, got %q", v.name, v.want, s)
	}
	return ""
}

func (e *Expect) checkFault(x *exchange.Exchange) string {
	if e.Fault == nil {
		return ""
	}
	got := "ApplicationNotFound" // no proxy matched the path
	if x != nil {
		got, _ = x.GetString("fault.name")
	}
	switch {
	case e.Fault.none && got != "":
		return fmt.Sprintf("fault: expected none, got %q", got)
	case e.Fault.none:
		return ""
	case got == "":
		return fmt.Sprintf("fault: expected %q, got none", e.Fault.name)
	case got != e.Fault.name:
		return fmt.Sprintf("fault: expected %q, got %q", e.Fault.name, got)
	}
	return ""
}

// shown quotes a body for a message, cut to maxShown bytes.
func shown(s string) string {
	if len(s) > maxShown {
		return strconv.Quote(s[:maxShown]) + "…"
	}
	return strconv.Quote(s)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}
