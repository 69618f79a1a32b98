package policy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/beevik/etree"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
	"github.com/apigo/apigo/policy/httptarget"
	"github.com/apigo/apigo/policy/template"
)

func init() { Register("ServiceCallout", "servicecallout", buildServiceCallout) }

// ServiceCallout is a built <ServiceCallout> policy: it prepares a request
// message, sends it through an HTTPTargetConnection (a URL or a
// LoadBalancer) or in process through a LocalTargetConnection, and stores
// the response in a message variable.
//
// Faults are 500 steps.servicecallout.ExecutionFailed with Apigee's
// faultstring "Execution of ServiceCallout <name> failed. Reason: <reason>".
// The reasons are Apigee's for a non-success status ("ResponseCode 401 is
// treated as error") and a timeout ("timeout occurred in <name>"); for other
// network failures apigo chooses the texts of calloutReasons (Apigee's are
// undocumented). After a non-success status the response variable holds the
// error response, so continueOnError flows can test <resp>.status.code;
// after a network failure no response exists and the policy does not write
// the variable: unset (null) unless an earlier step had set it.
//
// A built ServiceCallout holding an HTTP connection has a Close method
// (stopping health monitors, closing idle connections) that the engine
// calls on shutdown.
type ServiceCallout struct {
	Name string
	// Request is the <Request> element; nil sends a new empty GET.
	Request *CalloutRequest
	// Response names the message variable receiving the response; ""
	// discards it (the call is still made).
	Response string
	// Timeout is <Timeout> in milliseconds; zero leaves the connection's
	// io.timeout.millis alone.
	Timeout time.Duration
	// URL is HTTPTargetConnection/URL (a message template); nil with a
	// LoadBalancer or a LocalTargetConnection.
	URL *template.Template
	// Local is the LocalTargetConnection; nil for an HTTP callout.
	Local *LocalCallout
	// Auth is HTTPTargetConnection/Authentication; nil when absent.
	Auth *GoogleAuth
	// ExpectedCN is SSLInfo/CommonName, "" when absent.
	ExpectedCN string

	conn    *httptarget.Connection
	tokens  *tokenCache
	urlVar  string // servicecallout.<name>.target.url
	cnVar   string // servicecallout.<name>.expectedcn
	strict  bool
	command []string // Options.GoogleTokenCommand, split
}

// CalloutRequest is the <Request> element.
type CalloutRequest struct {
	// Variable names the message variable to use or create; "" makes a new
	// message per execution that no variable holds.
	Variable string
	// ClearPayload empties the request body after the call.
	ClearPayload bool
	// IgnoreUnresolved is <IgnoreUnresolvedVariables>.
	IgnoreUnresolved bool
	// Ops are the nested Set/Add/Copy/Remove/AssignVariable.
	Ops *MessageOps
}

// LocalCallout is a ServiceCallout's <LocalTargetConnection>.
type LocalCallout struct {
	APIProxy, ProxyEndpoint string
	Path                    *template.Template // nil when absent
}

var serviceCalloutChildren = map[string]bool{
	"DisplayName": true, "Description": true, "Properties": true, "FaultRules": true,
}

func buildServiceCallout(bc *BuildContext, p *bundle.Policy) Policy {
	before := countErrors(bc.Problems)
	sc := &ServiceCallout{
		Name:   p.Name,
		urlVar: "servicecallout." + p.Name + ".target.url",
		cnVar:  "servicecallout." + p.Name + ".expectedcn",
		tokens: &tokenCache{},
	}
	if bc.Options != nil {
		sc.strict = bc.Options.StrictTemplates
		sc.command = strings.Fields(bc.Options.GoogleTokenCommand)
	}
	var httpEl, localEl *etree.Element
	for _, el := range p.Element.ChildElements() {
		switch el.Tag {
		case "Request":
			sc.Request = compileCalloutRequest(bc, p, el)
		case "Response":
			sc.Response = compileResponseVar(bc, p, el)
		case "Timeout":
			sc.Timeout = compileTimeout(bc, p, el)
		case "HTTPTargetConnection":
			httpEl = el
		case "LocalTargetConnection":
			localEl = el
		default:
			if !serviceCalloutChildren[el.Tag] {
				bc.Problems.Warnf(p.Doc.Pos(el), "unknown element <%s> in <ServiceCallout>, ignored", el.Tag)
			}
		}
	}
	switch {
	case httpEl != nil && localEl != nil:
		bc.Problems.Errorf(p.Doc.Pos(localEl), "<ServiceCallout> has both <HTTPTargetConnection> and <LocalTargetConnection>")
	case httpEl != nil:
		sc.compileHTTP(bc, p, httpEl)
	case localEl != nil:
		sc.Local = compileLocalCallout(bc, p, localEl)
	default:
		bc.Problems.Errorf(p.Doc.Pos(p.Element), "<ServiceCallout> needs an <HTTPTargetConnection> or a <LocalTargetConnection>")
	}
	if countErrors(bc.Problems) > before {
		sc.Close()
		return nil
	}
	return sc
}

func compileCalloutRequest(bc *BuildContext, p *bundle.Policy, el *etree.Element) *CalloutRequest {
	r := &CalloutRequest{
		Variable: strings.TrimSpace(el.SelectAttrValue("variable", "")),
		Ops:      CompileMessageOps(bc, p, el),
	}
	if a := el.SelectAttr("clearPayload"); a != nil {
		r.ClearPayload = parseBoolAttr(bc, p, el, a)
	}
	switch r.Variable {
	case "request":
		bc.Problems.Warnf(p.Doc.Pos(el), "<Request variable=\"request\"> modifies and sends the proxy's own request message")
	case "response", "error", "message":
		bc.Problems.Errorf(p.Doc.Pos(el), "<Request variable=%q>: the callout request cannot be the %s message", r.Variable, r.Variable)
	}
	for _, ch := range el.ChildElements() {
		switch {
		case ch.Tag == "IgnoreUnresolvedVariables":
			r.IgnoreUnresolved = boolText(bc, p.Doc, ch)
		case IsMessageOp(ch.Tag):
		default:
			bc.Problems.Warnf(p.Doc.Pos(ch), "unknown element <%s> in <Request>, ignored", ch.Tag)
		}
	}
	return r
}

func compileResponseVar(bc *BuildContext, p *bundle.Policy, el *etree.Element) string {
	name := strings.TrimSpace(el.Text())
	switch {
	case name == "":
		bc.Problems.Warnf(p.Doc.Pos(el), "empty <Response>: the response is discarded")
	case strings.ContainsAny(name, " \t\r\n"):
		bc.Problems.Errorf(p.Doc.Pos(el), "<Response> %q: a message variable name has no spaces", name)
	case name == "message" || name == "error":
		bc.Problems.Errorf(p.Doc.Pos(el), "<Response> %q: the callout response cannot replace the %s message", name, name)
	case name == "request":
		bc.Problems.Warnf(p.Doc.Pos(el), "<Response>request</Response>: the callout response's headers and body replace the proxy request's")
	case name == "response":
		bc.Problems.Warnf(p.Doc.Pos(el), "<Response>response</Response> replaces the proxy's own response message")
	}
	return name
}

func compileTimeout(bc *BuildContext, p *bundle.Policy, el *etree.Element) time.Duration {
	s := strings.TrimSpace(el.Text())
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > int64(24*time.Hour/time.Millisecond) {
		bc.Problems.Errorf(p.Doc.TextPos(el), "<Timeout>: %q is not a positive number of milliseconds", s)
		return 0
	}
	return time.Duration(n) * time.Millisecond
}

// compileHTTP builds the connection through httptarget (which reports
// URL, LoadBalancer, property and SSLInfo problems) and reads what it
// leaves to the callout: the Authentication and the expected CN.
func (sc *ServiceCallout) compileHTTP(bc *BuildContext, p *bundle.Policy, el *etree.Element) {
	hc := p.Doc.HTTPTargetConnection(el, bc.Problems)
	for _, ch := range el.ChildElements() {
		if ch.Tag == "Authentication" {
			sc.Auth = compileAuthentication(bc, p, ch)
		}
	}
	if hc.SSLInfo != nil {
		if cn := hc.SSLInfo.SelectElement("CommonName"); cn != nil {
			sc.ExpectedCN = strings.TrimSpace(cn.Text())
		}
	}
	var opts httptarget.Options
	if bc.Options != nil {
		opts = bc.Options.Target
	}
	sc.conn = httptarget.Build(hc, p.Doc, bc.Env, opts, bc.Problems)
	sc.URL = sc.conn.URL()
}

func compileLocalCallout(bc *BuildContext, p *bundle.Policy, el *etree.Element) *LocalCallout {
	lc := &LocalCallout{}
	for _, ch := range el.ChildElements() {
		text := strings.TrimSpace(ch.Text())
		switch ch.Tag {
		case "APIProxy":
			lc.APIProxy = text
		case "ProxyEndpoint":
			lc.ProxyEndpoint = text
		case "Path":
			t, err := template.Parse(text)
			if err != nil {
				bc.Problems.Errorf(p.Doc.TextPos(ch), "<Path>: invalid message template: %v", err)
				continue
			}
			lc.Path = t
		default:
			bc.Problems.Warnf(p.Doc.Pos(ch), "unknown element <%s> in <LocalTargetConnection>, ignored", ch.Tag)
		}
	}
	if lc.APIProxy == "" && lc.Path == nil {
		bc.Problems.Errorf(p.Doc.Pos(el), "<LocalTargetConnection> needs <APIProxy> or <Path>")
	}
	return lc
}

// Close releases the HTTP connection: health monitors stop, idle
// connections close. The engine calls it on shutdown.
func (sc *ServiceCallout) Close() {
	if sc.conn != nil {
		sc.conn.Close()
	}
}

// Execute prepares the request, calls the target and stores the response.
func (sc *ServiceCallout) Execute(ctx context.Context, x *exchange.Exchange) error {
	oc := sc.opsContext(x)
	req, err := sc.requestMessage(oc)
	if err != nil {
		return err
	}
	if sc.Request != nil {
		if err := sc.Request.Ops.Apply(oc, req); err != nil {
			return err
		}
	}
	if sc.ExpectedCN != "" {
		x.SetSystem(sc.cnVar, sc.ExpectedCN)
	}
	if sc.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, sc.Timeout)
		defer cancel()
	}
	resp, err := sc.call(ctx, oc, req)
	if sc.Request != nil && sc.Request.ClearPayload {
		dropStream(req)
		req.Body = nil
	}
	if err != nil {
		return err
	}
	sc.storeResponse(x, resp)
	if !sc.isSuccess(resp.Status) {
		return sc.failed("ResponseCode " + strconv.Itoa(resp.Status) + " is treated as error")
	}
	return nil
}

// storeResponse puts resp into the Response variable. "request" (seen in
// old Edge samples) keeps the proxy request a request: the callout
// response's headers and body replace its own.
func (sc *ServiceCallout) storeResponse(x *exchange.Exchange, resp *exchange.Message) {
	switch sc.Response {
	case "":
	case "request":
		req := x.Request()
		dropStream(req)
		req.Header, req.Body = resp.Header, resp.Body
	default:
		x.SetMessage(sc.Response, resp)
	}
}

func (sc *ServiceCallout) opsContext(x *exchange.Exchange) *OpsContext {
	oc := &OpsContext{X: x, Policy: sc.Name, Kind: "ServiceCallout", Prefix: "servicecallout", StrictTemplates: sc.strict}
	if sc.Request != nil {
		oc.IgnoreUnresolved = sc.Request.IgnoreUnresolved
	}
	return oc
}

// requestMessage finds or creates the message to send. A new message has
// an empty path, so only a Set/Path adds one to the URL.
func (sc *ServiceCallout) requestMessage(oc *OpsContext) (*exchange.Message, error) {
	name := ""
	if sc.Request != nil {
		name = sc.Request.Variable
	}
	if name != "" {
		if m := oc.X.Message(name); m != nil {
			if !m.IsRequest {
				return nil, oc.fault("RequestVariableNotRequestMessageType",
					fmt.Sprintf("ServiceCallout[%s]: request variable %s value is not of type Request Message", sc.Name, name))
			}
			return m, nil
		}
		if v, ok := oc.X.Lookup(name); ok && v != nil {
			return nil, oc.fault("RequestVariableNotMessageType",
				fmt.Sprintf("ServiceCallout[%s]: request variable %s value is not of type Message", sc.Name, name))
		}
	}
	m := exchange.NewRequest()
	m.Path = ""
	if name != "" {
		oc.X.SetMessage(name, m)
	}
	return m, nil
}

func (sc *ServiceCallout) isSuccess(code int) bool {
	if sc.conn != nil {
		return sc.conn.IsSuccess(code)
	}
	return code >= 100 && code < 400
}

// failed is the ExecutionFailed fault with reason.
func (sc *ServiceCallout) failed(reason string) *Fault {
	return &Fault{
		Name:        "ExecutionFailed",
		Code:        "steps.servicecallout.ExecutionFailed",
		FaultString: "Execution of ServiceCallout " + sc.Name + " failed. Reason: " + reason,
		Status:      500,
		Source:      "policy",
		Policy:      sc.Name,
	}
}

// call sends req through the local dispatcher or the HTTP connection.
func (sc *ServiceCallout) call(ctx context.Context, oc *OpsContext, req *exchange.Message) (*exchange.Message, error) {
	if sc.Local != nil {
		return sc.callLocal(ctx, oc, req)
	}
	u, err := sc.outgoingURL(oc, req)
	if err != nil {
		return nil, err
	}
	out, err := sc.authenticate(ctx, oc, req, u)
	if err != nil {
		return nil, err
	}
	resp, info, err := sc.conn.Send(ctx, out, u, false)
	if info != nil && sc.conn.LoadBalanced() && info.URL != "" {
		oc.X.SetSystem(sc.urlVar, info.URL)
		oc.X.SetSystem("servicecallout.requesturi", requestURI(info.URL))
	}
	if err != nil {
		f := sc.failed(sc.networkReason(err))
		f.Cause = err
		return nil, f
	}
	return resp, nil
}

// outgoingURL is, for a URL connection, the base URL (the target.url
// variable when set, else the rendered URL template) joined with the
// message's path and query; for a LoadBalancer, the rendered <Path> joined
// with the message's path and query (httptarget prefixes the server).
func (sc *ServiceCallout) outgoingURL(oc *OpsContext, req *exchange.Message) (string, error) {
	if sc.conn.LoadBalanced() {
		prefix := ""
		if t := sc.conn.Path(); t != nil {
			s, err := oc.render(t)
			if err != nil {
				return "", err
			}
			prefix = s
		}
		u := joinURL(prefix, req)
		if !strings.HasPrefix(u, "/") {
			u = "/" + u
		}
		return u, nil
	}
	base, ok := oc.X.GetString(sc.urlVar)
	if !ok || base == "" {
		s, err := oc.render(sc.URL)
		if err != nil {
			return "", err
		}
		base = strings.TrimSpace(s)
		// Read/write: later steps see the URL, and setting it overrides.
		oc.X.SetSystem(sc.urlVar, base)
	}
	u := joinURL(base, req)
	oc.X.SetSystem("servicecallout.requesturi", requestURI(u))
	return u, nil
}

// joinURL appends the message's path (joined with a single "/") and query
// parameters to base, which may carry its own query string.
func joinURL(base string, req *exchange.Message) string {
	u, query, _ := strings.Cut(base, "?")
	if p := req.Path; p != "" && p != "/" {
		u = strings.TrimSuffix(u, "/") + "/" + strings.TrimPrefix(p, "/")
	}
	if len(req.Query) > 0 {
		if query != "" {
			query += "&"
		}
		query += req.Query.Encode()
	}
	if query != "" {
		u += "?" + query
	}
	return u
}

// requestURI is the URL without scheme and authority
// (servicecallout.requesturi).
func requestURI(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		rest := u[i+3:]
		if j := strings.IndexAny(rest, "/?"); j >= 0 {
			return rest[j:]
		}
		return "/"
	}
	return u
}

// calloutReasons are the Reason texts of network failures. Apigee's are
// documented for timeouts only; the others are apigo's choice.
var calloutReasons = map[httptarget.Kind]string{
	httptarget.ConnectRefused:  "Connection refused",
	httptarget.NoActiveTargets: "No active targets",
	httptarget.BadURL:          "Invalid target URL",
	httptarget.TLS:             "SSL handshake failed",
	httptarget.Canceled:        "Request canceled",
	httptarget.Other:           "Unexpected EOF at target",
}

func (sc *ServiceCallout) networkReason(err error) string {
	var te *httptarget.Error
	if !errors.As(err, &te) {
		if errors.Is(err, context.DeadlineExceeded) {
			return "timeout occurred in " + sc.Name
		}
		return err.Error()
	}
	switch te.Kind {
	case httptarget.ConnectTimeout, httptarget.ReadTimeout, httptarget.WriteTimeout:
		return "timeout occurred in " + sc.Name
	}
	if r, ok := calloutReasons[te.Kind]; ok {
		return r
	}
	return te.Error()
}

// callLocal dispatches req in process through the engine's
// LocalDispatcher. The path passed is the rendered <Path> joined with the
// message's own path; the query parameters travel in req.
func (sc *ServiceCallout) callLocal(ctx context.Context, oc *OpsContext, req *exchange.Message) (*exchange.Message, error) {
	path := ""
	if sc.Local.Path != nil {
		s, err := oc.render(sc.Local.Path)
		if err != nil {
			return nil, err
		}
		path = strings.TrimSpace(s)
	}
	if p := req.Path; p != "" && p != "/" {
		path = strings.TrimSuffix(path, "/") + "/" + strings.TrimPrefix(p, "/")
	}
	if path != "" && !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	oc.X.SetSystem("servicecallout.requesturi", joinURL(path, &exchange.Message{Query: req.Query}))
	d := LocalDispatcherFrom(ctx)
	if d == nil {
		return nil, sc.failed("LocalTargetConnection is not available (no local dispatcher)")
	}
	resp, err := d.DispatchLocal(ctx, sc.Local.APIProxy, sc.Local.ProxyEndpoint, path, req)
	if err != nil {
		reason := err.Error()
		if errors.Is(err, context.DeadlineExceeded) {
			reason = "timeout occurred in " + sc.Name
		}
		f := sc.failed(reason)
		f.Cause = err
		return nil, f
	}
	if resp == nil {
		return nil, sc.failed("the local proxy returned no response")
	}
	return resp, nil
}

// GoogleAuth is HTTPTargetConnection/Authentication: a Google OAuth access
// token (<GoogleAccessToken>) or an OpenID Connect ID token
// (<GoogleIDToken>) sent as "Authorization: Bearer <token>".
//
// Locally the token comes from the environment variable
// APIGO_GOOGLE_ACCESS_TOKEN or APIGO_GOOGLE_ID_TOKEN when set, else from
// Options.GoogleTokenCommand, run as
//
//	<command> access-token <scope>...
//	<command> id-token <audience> [--include-email]
//
// whose trimmed output is the token, cached for LifetimeInSeconds (default
// 3600). With neither, the callout faults naming the variable to set.
type GoogleAuth struct {
	IDToken      bool
	Scopes       []string           // GoogleAccessToken/Scopes/Scope
	Lifetime     time.Duration      // GoogleAccessToken/LifetimeInSeconds, default 1h
	Audience     *template.Template // GoogleIDToken/Audience; nil means the target URL
	IncludeEmail bool               // GoogleIDToken/IncludeEmail
	HeaderName   string             // Authentication/HeaderName, default Authorization
}

const defaultTokenLifetime = time.Hour

func compileAuthentication(bc *BuildContext, p *bundle.Policy, el *etree.Element) *GoogleAuth {
	a := &GoogleAuth{Lifetime: defaultTokenLifetime, HeaderName: "Authorization"}
	found := 0
	for _, ch := range el.ChildElements() {
		switch ch.Tag {
		case "GoogleAccessToken":
			found++
			compileAccessToken(bc, p, ch, a)
		case "GoogleIDToken":
			found++
			a.IDToken = true
			compileIDToken(bc, p, ch, a)
		case "HeaderName":
			if h := strings.TrimSpace(ch.Text()); h != "" {
				a.HeaderName = h
			}
		default:
			bc.Problems.Warnf(p.Doc.Pos(ch), "unknown element <%s> in <Authentication>, ignored", ch.Tag)
		}
	}
	if found != 1 {
		bc.Problems.Errorf(p.Doc.Pos(el), "<Authentication> needs exactly one of <GoogleAccessToken> or <GoogleIDToken>")
	}
	return a
}

func compileAccessToken(bc *BuildContext, p *bundle.Policy, el *etree.Element, a *GoogleAuth) {
	for _, ch := range el.ChildElements() {
		switch ch.Tag {
		case "Scopes":
			for _, s := range ch.SelectElements("Scope") {
				if v := strings.TrimSpace(s.Text()); v != "" {
					a.Scopes = append(a.Scopes, v)
				}
			}
		case "LifetimeInSeconds":
			s := strings.TrimSpace(ch.Text())
			n, err := strconv.Atoi(s)
			if err != nil || n <= 0 {
				bc.Problems.Errorf(p.Doc.TextPos(ch), "<LifetimeInSeconds>: %q is not a positive number of seconds", s)
				continue
			}
			a.Lifetime = time.Duration(n) * time.Second
		default:
			bc.Problems.Warnf(p.Doc.Pos(ch), "unknown element <%s> in <GoogleAccessToken>, ignored", ch.Tag)
		}
	}
	if len(a.Scopes) == 0 {
		bc.Problems.Errorf(p.Doc.Pos(el), "<GoogleAccessToken> needs at least one <Scopes><Scope>")
	}
}

func compileIDToken(bc *BuildContext, p *bundle.Policy, el *etree.Element, a *GoogleAuth) {
	for _, ch := range el.ChildElements() {
		switch ch.Tag {
		case "Audience":
			text := strings.TrimSpace(ch.Text())
			if text == "" || strings.EqualFold(ch.SelectAttrValue("useTargetUrl", ""), "true") {
				continue
			}
			t, err := template.Parse(text)
			if err != nil {
				bc.Problems.Errorf(p.Doc.TextPos(ch), "<Audience>: invalid message template: %v", err)
				continue
			}
			a.Audience = t
		case "IncludeEmail":
			a.IncludeEmail = boolText(bc, p.Doc, ch)
		default:
			bc.Problems.Warnf(p.Doc.Pos(ch), "unknown element <%s> in <GoogleIDToken>, ignored", ch.Tag)
		}
	}
}

// Environment variables holding tokens, checked before the token command.
const (
	EnvGoogleAccessToken = "APIGO_GOOGLE_ACCESS_TOKEN"
	EnvGoogleIDToken     = "APIGO_GOOGLE_ID_TOKEN"
)

// authenticate returns req with the token header set: a copy with its own
// headers, so the token never lands in the request variable.
func (sc *ServiceCallout) authenticate(ctx context.Context, oc *OpsContext, req *exchange.Message, url string) (*exchange.Message, error) {
	a := sc.Auth
	if a == nil {
		return req, nil
	}
	args, env := []string{"access-token"}, EnvGoogleAccessToken
	if a.IDToken {
		aud, _, _ := strings.Cut(url, "?")
		if a.Audience != nil {
			s, err := oc.render(a.Audience)
			if err != nil {
				return nil, err
			}
			aud = s
		}
		args, env = []string{"id-token", aud}, EnvGoogleIDToken
		if a.IncludeEmail {
			args = append(args, "--include-email")
		}
	} else {
		args = append(args, a.Scopes...)
	}
	tok, err := sc.token(ctx, env, args)
	if err != nil {
		f := sc.failed(err.Error())
		f.Cause = err
		return nil, f
	}
	out := *req
	out.Header = req.Header.Clone()
	out.Header.Set(a.HeaderName, "Bearer "+tok)
	return &out, nil
}

// token reads the token from env, else from the (cached) command.
func (sc *ServiceCallout) token(ctx context.Context, env string, args []string) (string, error) {
	if v := strings.TrimSpace(os.Getenv(env)); v != "" {
		return v, nil
	}
	if len(sc.command) == 0 {
		return "", fmt.Errorf("no Google %s: set the environment variable %s or configure a Google token command",
			strings.ReplaceAll(args[0], "-", " "), env)
	}
	return sc.tokens.get(ctx, sc.command, args, sc.Auth.Lifetime)
}

// tokenCache holds command-issued tokens until their lifetime ends. One
// mutex serializes fetches so concurrent requests run the command once.
type tokenCache struct {
	mu     sync.Mutex
	tokens map[string]cachedToken
}

type cachedToken struct {
	value   string
	expires time.Time
}

// maxTokenCommand bounds a token command's run time.
const maxTokenCommand = 30 * time.Second

func (c *tokenCache) get(ctx context.Context, command, args []string, lifetime time.Duration) (string, error) {
	key := strings.Join(args, "\x00")
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.tokens[key]; ok && time.Now().Before(t.expires) {
		return t.value, nil
	}
	ctx, cancel := context.WithTimeout(ctx, maxTokenCommand)
	defer cancel()
	cmd := exec.CommandContext(ctx, command[0], append(command[1:len(command):len(command)], args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("Google token command %s failed: %v: %s", command[0], err, strings.TrimSpace(stderr.String()))
	}
	tok := strings.TrimSpace(string(out))
	if tok == "" {
		return "", fmt.Errorf("Google token command %s printed no token", command[0])
	}
	if c.tokens == nil {
		c.tokens = map[string]cachedToken{}
	}
	c.tokens[key] = cachedToken{value: tok, expires: time.Now().Add(lifetime)}
	return tok, nil
}
