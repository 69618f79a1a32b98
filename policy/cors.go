package policy

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/beevik/etree"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
	"github.com/apigo/apigo/policy/template"
)

func init() {
	Register("CORS", "cors", buildCORS)
	RegisterFinalizer(ApplyCORSHeaders)
}

// CORS is a built <CORS> policy (Apigee X). For a request whose Origin
// matches AllowOrigins it adds the CORS response headers; it answers an
// OPTIONS preflight itself (200, no target call) when
// GeneratePreflightResponse is true. A request without Origin, or with one
// that does not match, gets no CORS headers and no fault.
//
// Run in a request flow, the policy cannot touch the final response, which
// does not exist yet: it leaves the headers in the flow variable
// CORSHeadersVar, and the engine adds them with ApplyCORSHeaders just
// before writing the response. Run in a response flow, it sets them on the
// response at once.
type CORS struct {
	Name string
	// AllowOrigins is a message template rendering to "*" or a comma
	// separated list of origins.
	AllowOrigins *template.Template
	// AllowMethods, upper case; ["*"] allows any. Default GET, PUT, POST,
	// DELETE.
	AllowMethods []string
	// AllowHeaders, lower case; ["*"] allows any. Default origin,
	// x-requested-with, accept, content-type.
	AllowHeaders []string
	// ExposeHeaders is Access-Control-Expose-Headers, "" for none (the
	// default).
	ExposeHeaders string
	// MaxAge is Access-Control-Max-Age in seconds; -1 omits it. Default
	// 1800.
	MaxAge int
	// AllowCredentials (default false) sends Access-Control-Allow-Credentials
	// and makes "*" origins echo the request's Origin.
	AllowCredentials bool
	// GeneratePreflight is GeneratePreflightResponse (default true).
	GeneratePreflight bool
	// IgnoreUnresolved is IgnoreUnresolvedVariables (default false): an
	// unresolved reference in AllowOrigins renders as "" instead of failing
	// with steps.cors.UnresolvedVariable.
	IgnoreUnresolved bool
}

// Variables the CORS policy sets [?]: Apigee X documents no variable
// names; these follow the reference's cors.isPreflight style.
const (
	// CORSPreflightVar is true for an OPTIONS request carrying Origin and
	// Access-Control-Request-Method, false otherwise.
	CORSPreflightVar = "cors.isPreflight"
	// CORSHeadersVar holds the headers a request-flow CORS policy wants on
	// the final response, one "Name: value" per line.
	CORSHeadersVar = "cors.responseHeaders"
)

func buildCORS(bc *BuildContext, p *bundle.Policy) Policy {
	before := countErrors(bc.Problems)
	c := &CORS{
		Name: p.Name, MaxAge: 1800, GeneratePreflight: true,
		AllowMethods: []string{"GET", "PUT", "POST", "DELETE"},
		AllowHeaders: []string{"origin", "x-requested-with", "accept", "content-type"},
	}
	for _, el := range p.Element.ChildElements() {
		c.child(bc, p, el)
	}
	if c.AllowOrigins == nil && countErrors(bc.Problems) == before {
		bc.Problems.Errorf(p.Doc.Pos(p.Element), "<CORS> %q needs <AllowOrigins>", p.Name)
	}
	if countErrors(bc.Problems) > before {
		return nil
	}
	return c
}

func (c *CORS) child(bc *BuildContext, p *bundle.Policy, el *etree.Element) {
	text := strings.TrimSpace(el.Text())
	switch el.Tag {
	case "AllowOrigins":
		t, err := template.Parse(text)
		if err != nil {
			bc.Problems.Errorf(p.Doc.TextPos(el), "<AllowOrigins>: invalid message template: %v", err)
			return
		}
		c.AllowOrigins = t
	case "AllowMethods":
		c.AllowMethods = splitList(strings.ToUpper(text))
	case "AllowHeaders":
		c.AllowHeaders = splitList(strings.ToLower(text))
	case "ExposeHeaders":
		c.ExposeHeaders = strings.Join(splitList(text), ", ")
	case "MaxAge":
		n, err := strconv.Atoi(text)
		if err != nil || n < -1 {
			bc.Problems.Errorf(p.Doc.TextPos(el), "<MaxAge> %q is not a number of seconds or -1", text)
			return
		}
		c.MaxAge = n
	case "AllowCredentials":
		c.AllowCredentials = boolText(bc, p.Doc, el)
	case "GeneratePreflightResponse":
		c.GeneratePreflight = boolText(bc, p.Doc, el)
	case "IgnoreUnresolvedVariables":
		c.IgnoreUnresolved = boolText(bc, p.Doc, el)
	case "DisplayName", "Description", "Properties", "FaultRules":
	default:
		bc.Problems.Warnf(p.Doc.Pos(el), "unknown element <%s> in <CORS>, ignored", el.Tag)
	}
}

// splitList splits a comma separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, item := range list {
		if item == "*" || strings.EqualFold(item, s) {
			return true
		}
	}
	return false
}

// Execute adds CORS headers for an allowed origin and answers a preflight.
func (c *CORS) Execute(_ context.Context, x *exchange.Exchange) error {
	req := x.Request()
	origin := req.Header.Get("Origin")
	preflight := req.Verb == http.MethodOptions && origin != "" && req.Header.Get("Access-Control-Request-Method") != ""
	_ = x.Set(CORSPreflightVar, preflight)
	if origin == "" {
		return nil
	}
	allowed, err := c.allowedOrigin(x, origin)
	if err != nil {
		return err
	}
	var h http.Header
	if allowed != "" {
		if preflight {
			h = c.preflightHeaders(req, allowed)
		} else {
			h = c.actualHeaders(allowed)
		}
	}
	if preflight && c.GeneratePreflight {
		rsp := exchange.NewResponse()
		for k, vs := range h {
			rsp.Header[k] = vs
		}
		x.SetResponse(rsp)
		return ErrResponseReady
	}
	if h == nil {
		return nil
	}
	if x.CurrentName() == "response" {
		mergeHeaders(x.Response(), h)
		return nil
	}
	// The response here is the engine's placeholder (kept when there is no
	// target); the final one gets the headers through ApplyCORSHeaders.
	if rsp := x.Response(); rsp != nil {
		mergeHeaders(rsp, h)
	}
	_ = x.Set(CORSHeadersVar, encodeHeaderLines(h))
	return nil
}

// allowedOrigin returns the Access-Control-Allow-Origin value for origin,
// "" when AllowOrigins does not allow it.
func (c *CORS) allowedOrigin(x *exchange.Exchange, origin string) (string, error) {
	list, missing := c.AllowOrigins.Execute(x)
	if len(missing) > 0 && !c.IgnoreUnresolved {
		return "", &Fault{
			Name: "UnresolvedVariable", Code: "steps.cors.UnresolvedVariable",
			FaultString: "Unresolved variable : " + missing[0], Status: http.StatusInternalServerError,
			Source: "policy", Policy: c.Name,
		}
	}
	for _, o := range splitList(list) {
		switch {
		case o == "*" && !c.AllowCredentials:
			return "*", nil
		case o == "*", strings.EqualFold(o, origin):
			return origin, nil
		}
	}
	return "", nil
}

// preflightHeaders answers a preflight; nil when the requested method or
// headers are not allowed.
func (c *CORS) preflightHeaders(req *exchange.Message, allowed string) http.Header {
	method := strings.TrimSpace(req.Header.Get("Access-Control-Request-Method"))
	if !containsFold(c.AllowMethods, method) {
		return nil
	}
	requested := splitList(strings.Join(req.Header.Values("Access-Control-Request-Headers"), ","))
	for _, name := range requested {
		if !containsFold(c.AllowHeaders, name) {
			return nil
		}
	}
	h := c.originHeaders(allowed)
	h.Set("Access-Control-Allow-Methods", strings.Join(c.AllowMethods, ", "))
	allowHeaders := strings.Join(c.AllowHeaders, ", ")
	if allowHeaders == "*" && c.AllowCredentials {
		allowHeaders = strings.Join(requested, ", ") // with credentials "*" is taken literally
	}
	if allowHeaders != "" {
		h.Set("Access-Control-Allow-Headers", allowHeaders)
	}
	if c.MaxAge >= 0 {
		h.Set("Access-Control-Max-Age", strconv.Itoa(c.MaxAge))
	}
	return h
}

func (c *CORS) actualHeaders(allowed string) http.Header {
	h := c.originHeaders(allowed)
	if c.ExposeHeaders != "" {
		h.Set("Access-Control-Expose-Headers", c.ExposeHeaders)
	}
	return h
}

func (c *CORS) originHeaders(allowed string) http.Header {
	h := http.Header{}
	h.Set("Access-Control-Allow-Origin", allowed)
	if allowed != "*" {
		h.Set("Vary", "Origin")
	}
	if c.AllowCredentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	return h
}

// mergeHeaders sets h on m; Vary is added to, not replaced.
func mergeHeaders(m *exchange.Message, h http.Header) {
	for k, vs := range h {
		if k == "Vary" && m.Header.Get("Vary") != "" {
			if !containsFold(splitList(strings.Join(m.Header.Values("Vary"), ",")), vs[0]) {
				m.Header.Add("Vary", vs[0])
			}
			continue
		}
		m.Header[k] = append([]string(nil), vs...)
	}
}

func encodeHeaderLines(h http.Header) string {
	var b strings.Builder
	for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Expose-Headers", "Vary"} {
		if v := h.Get(k); v != "" {
			b.WriteString(k + ": " + v + "\n")
		}
	}
	return b.String()
}

// ApplyCORSHeaders adds to m (the response about to be written to the
// client, a fault response included) the headers a CORS policy left in
// CORSHeadersVar. It does nothing when no CORS policy matched. The engine
// calls it once, just before writing the response.
func ApplyCORSHeaders(x *exchange.Exchange, m *exchange.Message) {
	if m == nil {
		return
	}
	lines, ok := x.GetString(CORSHeadersVar)
	if !ok || lines == "" {
		return
	}
	h := http.Header{}
	for _, line := range strings.Split(lines, "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok {
			h.Set(k, v)
		}
	}
	mergeHeaders(m, h)
}
