package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/beevik/etree"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
)

// echoed is what echoBackend answers: the request it received.
type echoed struct {
	Method, URI, Body, Auth, Custom, ContentType string
}

// echoBackend answers every request with a JSON echo of it, the header
// X-Backend: echo, and the status asked for in X-Want-Status (default 200).
// /slow blocks until the client gives up. hits counts requests.
func echoBackend(t testing.TB) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/slow" {
			<-r.Context().Done()
			return
		}
		b, _ := io.ReadAll(r.Body)
		e := echoed{Method: r.Method, URI: r.URL.RequestURI(), Body: string(b), Auth: r.Header.Get("Authorization"),
			Custom: r.Header.Get("X-Custom"), ContentType: r.Header.Get("Content-Type")}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Backend", "echo")
		if s, err := strconv.Atoi(r.Header.Get("X-Want-Status")); err == nil {
			w.WriteHeader(s)
		}
		json.NewEncoder(w).Encode(e)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// closedURL is an http URL on a loopback port nothing listens on.
func closedURL(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// calloutXML wraps inner in a ServiceCallout named SC.
func calloutXML(inner string) string {
	return `<ServiceCallout name="SC">` + inner + `</ServiceCallout>`
}

func httpConn(url string, extra ...string) string {
	return `<HTTPTargetConnection><URL>` + url + `</URL>` + strings.Join(extra, "") + `</HTTPTargetConnection>`
}

// echoOf decodes the echo held in message variable name.
func echoOf(t *testing.T, x *exchange.Exchange, name string) echoed {
	t.Helper()
	m := x.Message(name)
	if m == nil {
		t.Fatalf("message variable %s = nil", name)
	}
	var e echoed
	if err := json.Unmarshal(m.Body, &e); err != nil {
		t.Fatalf("%s.content = %q: %v", name, m.Body, err)
	}
	return e
}

func getString(x *exchange.Exchange, name string) string {
	s, _ := x.GetString(name)
	return s
}

func wantFault(t *testing.T, err error, code, faultString string) *Fault {
	t.Helper()
	var f *Fault
	if !errors.As(err, &f) {
		t.Fatalf("Execute() = %v, want a *Fault %s", err, code)
	}
	if f.Code != code || f.FaultString != faultString || f.HTTPStatus() != 500 || f.Policy != "SC" || f.Source != "policy" {
		t.Errorf("fault = {%s %q %d %q %q}, want {%s %q 500 SC policy}", f.Code, f.FaultString, f.HTTPStatus(), f.Policy, f.Source, code, faultString)
	}
	return f
}

func TestServiceCalloutOutputs(t *testing.T) {
	srv, _ := echoBackend(t)
	pol := mustBuild(t, calloutXML(`
		<Request variable="lookupReq" clearPayload="false">
			<Set>
				<Verb>POST</Verb>
				<Path>v2/items/{id}</Path>
				<Headers><Header name="X-Custom">{user.name}</Header></Headers>
				<QueryParams><QueryParam name="q">a b</QueryParam></QueryParams>
				<Payload contentType="application/json">{"id":{id}}</Payload>
			</Set>
		</Request>
		<Response>lookupResp</Response>
		`+httpConn("{be}/api", `<SSLInfo><Enabled>false</Enabled><CommonName>api.example.com</CommonName></SSLInfo>`)), nil)
	x := sampleExchange()
	x.Set("be", srv.URL)
	x.Set("id", "7")
	if err := execute(t, pol, x); err != nil {
		t.Fatalf("Execute() = %v", err)
	}
	e := echoOf(t, x, "lookupResp")
	want(t, "backend method", e.Method, "POST")
	want(t, "backend URI", e.URI, "/api/v2/items/7?q=a+b")
	want(t, "backend body", e.Body, `{"id":7}`)
	want(t, "backend X-Custom", e.Custom, "ada")
	want(t, "backend Content-Type", e.ContentType, "application/json")
	vars := []struct{ name, want string }{
		{"lookupResp.status.code", "200"},
		{"lookupResp.header.X-Backend", "echo"},
		{"lookupResp.header.content-type", "application/json"},
		{"lookupReq.verb", "POST"},
		{"lookupReq.content", `{"id":7}`},
		{"servicecallout.requesturi", "/api/v2/items/7?q=a+b"},
		{"servicecallout.SC.target.url", srv.URL + "/api"},
		{"servicecallout.SC.expectedcn", "api.example.com"},
	}
	for _, v := range vars {
		if got := getString(x, v.name); got != v.want {
			t.Errorf("GetString(%q) = %q, want %q", v.name, got, v.want)
		}
	}
	if c := getString(x, "lookupResp.content"); !strings.Contains(c, `"Method":"POST"`) {
		t.Errorf("lookupResp.content = %q, want the echo", c)
	}
}

func TestServiceCalloutURLJoin(t *testing.T) {
	srv, _ := echoBackend(t)
	tests := []struct {
		name, url, request, override, wantURI string
	}{
		{"no request", "{be}", ``, "", "/"},
		{"URL path only", "{be}/a/b", `<Request/>`, "", "/a/b"},
		{"path without slash", "{be}/api", `<Request><Set><Path>v1/x</Path></Set></Request>`, "", "/api/v1/x"},
		{"slashes on both sides", "{be}/api/", `<Request><Set><Path>/v1/x</Path></Set></Request>`, "", "/api/v1/x"},
		{"query from URL and message", "{be}/api?key=k1", `<Request><Set><QueryParams><QueryParam name="q">2</QueryParam></QueryParams></Set></Request>`, "", "/api?key=k1&q=2"},
		{"path with query", "{be}", `<Request><Set><Path>/p?x=1</Path></Set></Request>`, "", "/p?x=1"},
		{"templated host and path", "{be}/{seg}", ``, "", "/tenant-9"},
		{"target.url override", "http://127.0.0.1:1/unused", `<Request><Set><Path>z</Path></Set></Request>`, "{be}/over", "/over/z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pol := mustBuild(t, calloutXML(tc.request+`<Response>r</Response>`+httpConn(tc.url)), nil)
			x := sampleExchange()
			x.Set("be", srv.URL)
			x.Set("seg", "tenant-9")
			if tc.override != "" {
				x.Set("servicecallout.SC.target.url", strings.ReplaceAll(tc.override, "{be}", srv.URL))
			}
			if err := execute(t, pol, x); err != nil {
				t.Fatalf("Execute() = %v", err)
			}
			if got := echoOf(t, x, "r").URI; got != tc.wantURI {
				t.Errorf("backend URI = %q, want %q", got, tc.wantURI)
			}
			if got := getString(x, "servicecallout.requesturi"); got != tc.wantURI {
				t.Errorf("servicecallout.requesturi = %q, want %q", got, tc.wantURI)
			}
		})
	}
}

func TestServiceCalloutRequestVariable(t *testing.T) {
	srv, _ := echoBackend(t)
	conn := httpConn(srv.URL)
	t.Run("existing message is reused and modified", func(t *testing.T) {
		pol := mustBuild(t, calloutXML(`<Request variable="myReq"><Add><Headers><Header name="X-Custom">added</Header></Headers></Add></Request><Response>r</Response>`+conn), nil)
		x := sampleExchange()
		m := exchange.NewRequest()
		m.Verb, m.Path, m.Body = "PUT", "/existing", []byte("kept body")
		x.SetMessage("myReq", m)
		if err := execute(t, pol, x); err != nil {
			t.Fatalf("Execute() = %v", err)
		}
		e := echoOf(t, x, "r")
		want(t, "method", e.Method, "PUT")
		want(t, "URI", e.URI, "/existing")
		want(t, "body", e.Body, "kept body")
		want(t, "X-Custom", e.Custom, "added")
		want(t, "same message", x.Message("myReq") == m, true)
		want(t, "header on the variable", m.Header.Get("X-Custom"), "added")
	})
	t.Run("missing variable is created", func(t *testing.T) {
		pol := mustBuild(t, calloutXML(`<Request variable="newReq"><Set><Verb>DELETE</Verb></Set></Request><Response>r</Response>`+conn), nil)
		x := sampleExchange()
		if err := execute(t, pol, x); err != nil {
			t.Fatalf("Execute() = %v", err)
		}
		want(t, "method", echoOf(t, x, "r").Method, "DELETE")
		want(t, "newReq.verb", getString(x, "newReq.verb"), "DELETE")
	})
	t.Run("no Request sends a new GET", func(t *testing.T) {
		pol := mustBuild(t, calloutXML(`<Response>r</Response>`+conn), nil)
		x := sampleExchange()
		if err := execute(t, pol, x); err != nil {
			t.Fatalf("Execute() = %v", err)
		}
		e := echoOf(t, x, "r")
		want(t, "method", e.Method, "GET")
		want(t, "body", e.Body, "")
		want(t, "proxy request untouched", x.Request().Verb, "POST")
	})
	faults := []struct {
		name, setup, code, faultString string
	}{
		{"non-message variable", "scalar", "steps.servicecallout.RequestVariableNotMessageType",
			"ServiceCallout[SC]: request variable myReq value is not of type Message"},
		{"response message", "response", "steps.servicecallout.RequestVariableNotRequestMessageType",
			"ServiceCallout[SC]: request variable myReq value is not of type Request Message"},
	}
	for _, tc := range faults {
		t.Run(tc.name, func(t *testing.T) {
			pol := mustBuild(t, calloutXML(`<Request variable="myReq"/><Response>r</Response>`+conn), nil)
			x := sampleExchange()
			if tc.setup == "scalar" {
				x.Set("myReq", "just a string")
			} else {
				x.SetMessage("myReq", exchange.NewResponse())
			}
			wantFault(t, execute(t, pol, x), tc.code, tc.faultString)
			if x.Message("r") != nil {
				t.Errorf("response variable set after a request fault")
			}
		})
	}
}

func TestServiceCalloutFaults(t *testing.T) {
	srv, hits := echoBackend(t)
	tests := []struct {
		name       string
		xml        string
		status     string // X-Want-Status sent to the backend
		wantFault  string // faultstring; "" for success
		wantStatus string // r.status.code afterwards; "" for unset
	}{
		{"401 is an error", httpConn(srv.URL), "401",
			"Execution of ServiceCallout SC failed. Reason: ResponseCode 401 is treated as error", "401"},
		{"500 is an error", httpConn(srv.URL), "503",
			"Execution of ServiceCallout SC failed. Reason: ResponseCode 503 is treated as error", "503"},
		{"3xx is a success", httpConn(srv.URL), "304", "", "304"},
		{"success.codes admits 401", httpConn(srv.URL, `<Properties><Property name="success.codes">1XX,2XX,3XX,401</Property></Properties>`), "401", "", "401"},
		{"success.codes replaces the default", httpConn(srv.URL, `<Properties><Property name="success.codes">2XX</Property></Properties>`), "302",
			"Execution of ServiceCallout SC failed. Reason: ResponseCode 302 is treated as error", "302"},
		{"Timeout", `<Timeout>50</Timeout>` + httpConn(srv.URL+"/slow"), "",
			"Execution of ServiceCallout SC failed. Reason: timeout occurred in SC", ""},
		{"io.timeout.millis", httpConn(srv.URL+"/slow", `<Properties><Property name="io.timeout.millis">50</Property></Properties>`), "",
			"Execution of ServiceCallout SC failed. Reason: timeout occurred in SC", ""},
		{"connection refused", httpConn(closedURL(t)), "",
			"Execution of ServiceCallout SC failed. Reason: Connection refused", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := `<Request><Set><Headers><Header name="X-Want-Status">` + tc.status + `</Header></Headers></Set></Request>`
			pol := mustBuild(t, calloutXML(req+`<Response>r</Response>`+tc.xml), nil)
			x := sampleExchange()
			before := hits.Load()
			err := execute(t, pol, x)
			if tc.wantFault == "" {
				if err != nil {
					t.Fatalf("Execute() = %v, want nil", err)
				}
			} else {
				wantFault(t, err, "steps.servicecallout.ExecutionFailed", tc.wantFault)
			}
			v, ok := x.GetString("r.status.code")
			if tc.wantStatus == "" && ok {
				t.Errorf("r.status.code = %q after a network failure, want unset", v)
			}
			if tc.wantStatus != "" && v != tc.wantStatus {
				t.Errorf("r.status.code = %q, want %q", v, tc.wantStatus)
			}
			if tc.wantStatus != "" && hits.Load() != before+1 {
				t.Errorf("backend hits = %d, want %d", hits.Load()-before, 1)
			}
		})
	}
}

func TestServiceCalloutClearPayloadAndNoResponse(t *testing.T) {
	srv, hits := echoBackend(t)
	t.Run("clearPayload", func(t *testing.T) {
		pol := mustBuild(t, calloutXML(`<Request variable="cr" clearPayload="true"><Set><Verb>POST</Verb><Payload>big body</Payload></Set></Request><Response>r</Response>`+httpConn(srv.URL)), nil)
		x := sampleExchange()
		if err := execute(t, pol, x); err != nil {
			t.Fatalf("Execute() = %v", err)
		}
		want(t, "body sent", echoOf(t, x, "r").Body, "big body")
		want(t, "cr.content after the call", getString(x, "cr.content"), "")
		want(t, "cr.verb kept", getString(x, "cr.verb"), "POST")
	})
	t.Run("Response request", func(t *testing.T) {
		pol := mustBuild(t, calloutXML(`<Response>request</Response>`+httpConn(srv.URL)), nil)
		x := sampleExchange()
		if err := execute(t, pol, x); err != nil {
			t.Fatalf("Execute() = %v", err)
		}
		want(t, "request is still a request", x.Request().IsRequest, true)
		want(t, "request.verb", getString(x, "request.verb"), "POST")
		want(t, "request.header.X-Backend", getString(x, "request.header.X-Backend"), "echo")
		if c := getString(x, "request.content"); !strings.Contains(c, `"Method":"GET"`) {
			t.Errorf("request.content = %q, want the callout's echo", c)
		}
	})
	t.Run("no Response still calls", func(t *testing.T) {
		pol := mustBuild(t, calloutXML(`<Request variable="cr"/>`+httpConn(srv.URL)), nil)
		x := sampleExchange()
		before := hits.Load()
		if err := execute(t, pol, x); err != nil {
			t.Fatalf("Execute() = %v", err)
		}
		want(t, "backend hits", hits.Load()-before, int64(1))
		for _, n := range x.Names() {
			if m := x.Message(n); m != nil && !m.IsRequest {
				t.Errorf("a response message was stored in %s", n)
			}
		}
	})
}

func TestServiceCalloutGoogleAuth(t *testing.T) {
	srv, _ := echoBackend(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "token.sh")
	count := filepath.Join(dir, "count")
	src := "#!/bin/sh\necho run >> " + count + "\necho \"  tok-$1-$2-$3 \"\n"
	if err := os.WriteFile(script, []byte(src), 0o755); err != nil {
		t.Fatal(err)
	}
	access := `<Authentication><GoogleAccessToken><Scopes><Scope>https://www.googleapis.com/auth/cloud-platform</Scope></Scopes></GoogleAccessToken></Authentication>`
	idToken := `<Authentication><GoogleIDToken><Audience>https://aud.example</Audience><IncludeEmail>true</IncludeEmail></GoogleIDToken></Authentication>`
	idTarget := `<Authentication><GoogleIDToken><Audience useTargetUrl="true"/></GoogleIDToken></Authentication>`
	tests := []struct {
		name, auth, env, envValue, command string
		wantAuth, wantFault                string
	}{
		{"access token from env", access, EnvGoogleAccessToken, "ya29.env", "", "Bearer ya29.env", ""},
		{"ID token from env", idToken, EnvGoogleIDToken, "eyJ.id", "", "Bearer eyJ.id", ""},
		{"env wins over command", access, EnvGoogleAccessToken, "ya29.env", script, "Bearer ya29.env", ""},
		{"access token from command", access, "", "", script, "Bearer tok-access-token-https://www.googleapis.com/auth/cloud-platform-", ""},
		{"ID token from command", idToken, "", "", script, "Bearer tok-id-token-https://aud.example---include-email", ""},
		{"ID token for the target URL", idTarget, "", "", script, "Bearer tok-id-token-" + srv.URL + "/p-", ""},
		{"no access token source", access, "", "", "", "",
			"Execution of ServiceCallout SC failed. Reason: no Google access token: set the environment variable APIGO_GOOGLE_ACCESS_TOKEN or configure a Google token command"},
		{"no ID token source", idToken, "", "", "", "",
			"Execution of ServiceCallout SC failed. Reason: no Google id token: set the environment variable APIGO_GOOGLE_ID_TOKEN or configure a Google token command"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvGoogleAccessToken, "")
			t.Setenv(EnvGoogleIDToken, "")
			if tc.env != "" {
				t.Setenv(tc.env, tc.envValue)
			}
			bc := &BuildContext{Options: &Options{GoogleTokenCommand: tc.command}}
			pol := mustBuild(t, calloutXML(`<Request variable="cr"><Set><Path>/p?a=1</Path></Set></Request><Response>r</Response>`+httpConn(srv.URL, tc.auth)), bc)
			x := sampleExchange()
			err := execute(t, pol, x)
			if tc.wantFault != "" {
				wantFault(t, err, "steps.servicecallout.ExecutionFailed", tc.wantFault)
				return
			}
			if err != nil {
				t.Fatalf("Execute() = %v", err)
			}
			want(t, "Authorization", echoOf(t, x, "r").Auth, tc.wantAuth)
			want(t, "token kept off the request variable", getString(x, "cr.header.Authorization"), "")
		})
	}
	t.Run("command output is cached", func(t *testing.T) {
		t.Setenv(EnvGoogleAccessToken, "")
		os.Remove(count)
		bc := &BuildContext{Options: &Options{GoogleTokenCommand: script}}
		pol := mustBuild(t, calloutXML(`<Response>r</Response>`+httpConn(srv.URL, access)), bc)
		for i := 0; i < 3; i++ {
			if err := execute(t, pol, sampleExchange()); err != nil {
				t.Fatalf("Execute() #%d = %v", i, err)
			}
		}
		b, _ := os.ReadFile(count)
		want(t, "command runs", strings.Count(string(b), "run"), 1)
	})
	t.Run("failing command", func(t *testing.T) {
		t.Setenv(EnvGoogleAccessToken, "")
		bc := &BuildContext{Options: &Options{GoogleTokenCommand: "false"}}
		pol := mustBuild(t, calloutXML(`<Response>r</Response>`+httpConn(srv.URL, access)), bc)
		var f *Fault
		if err := execute(t, pol, sampleExchange()); !errors.As(err, &f) || f.Code != "steps.servicecallout.ExecutionFailed" ||
			!strings.Contains(f.FaultString, "Google token command false failed") {
			t.Errorf("Execute() = %v, want ExecutionFailed naming the command", err)
		}
	})
}

// fakeDispatcher answers local callouts and records what it was asked.
type fakeDispatcher struct {
	proxy, endpoint, path, query, body string
	status                             int
	err                                error
}

func (d *fakeDispatcher) DispatchLocal(_ context.Context, apiProxy, endpoint, path string, req *exchange.Message) (*exchange.Message, error) {
	d.proxy, d.endpoint, d.path, d.query, d.body = apiProxy, endpoint, path, req.Query.Encode(), string(req.Body)
	if d.err != nil {
		return nil, d.err
	}
	m := exchange.NewResponse()
	m.Status = d.status
	m.Body = []byte("local answer")
	return m, nil
}

func TestServiceCalloutLocalTarget(t *testing.T) {
	xml := calloutXML(`<Request><Set><Verb>PUT</Verb><QueryParams><QueryParam name="q">1</QueryParam></QueryParams><Payload>hello</Payload></Set></Request>
		<Response>r</Response>
		<LocalTargetConnection><APIProxy>consent</APIProxy><ProxyEndpoint>default</ProxyEndpoint><Path>/consent/{id}</Path></LocalTargetConnection>`)
	pol := mustBuild(t, xml, nil)
	t.Run("dispatched", func(t *testing.T) {
		d := &fakeDispatcher{status: 201}
		x := sampleExchange()
		x.Set("id", "c-1")
		if err := pol.Execute(WithLocalDispatcher(context.Background(), d), x); err != nil {
			t.Fatalf("Execute() = %v", err)
		}
		got := []string{d.proxy, d.endpoint, d.path, d.query, d.body, getString(x, "r.content"), getString(x, "r.status.code"), getString(x, "servicecallout.requesturi")}
		exp := []string{"consent", "default", "/consent/c-1", "q=1", "hello", "local answer", "201", "/consent/c-1?q=1"}
		want(t, "dispatch", strings.Join(got, "|"), strings.Join(exp, "|"))
	})
	t.Run("non-success status", func(t *testing.T) {
		x := sampleExchange()
		err := pol.Execute(WithLocalDispatcher(context.Background(), &fakeDispatcher{status: 404}), x)
		wantFault(t, err, "steps.servicecallout.ExecutionFailed", "Execution of ServiceCallout SC failed. Reason: ResponseCode 404 is treated as error")
		want(t, "r.status.code", getString(x, "r.status.code"), "404")
	})
	t.Run("dispatcher error", func(t *testing.T) {
		err := pol.Execute(WithLocalDispatcher(context.Background(), &fakeDispatcher{err: errors.New("no proxy consent")}), sampleExchange())
		wantFault(t, err, "steps.servicecallout.ExecutionFailed", "Execution of ServiceCallout SC failed. Reason: no proxy consent")
	})
	t.Run("no dispatcher", func(t *testing.T) {
		err := pol.Execute(context.Background(), sampleExchange())
		wantFault(t, err, "steps.servicecallout.ExecutionFailed", "Execution of ServiceCallout SC failed. Reason: LocalTargetConnection is not available (no local dispatcher)")
	})
}

func TestServiceCalloutLoadBalancer(t *testing.T) {
	var a, b atomic.Int64
	mk := func(n *atomic.Int64, name string) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			io.WriteString(w, name+" "+r.URL.RequestURI())
		}))
		t.Cleanup(s.Close)
		return s
	}
	sa, sb := mk(&a, "a"), mk(&b, "b")
	env := &bundle.Environment{TargetServers: map[string]*bundle.TargetServer{}}
	for name, s := range map[string]*httptest.Server{"ts-a": sa, "ts-b": sb} {
		host, port, _ := net.SplitHostPort(strings.TrimPrefix(s.URL, "http://"))
		p, _ := strconv.Atoi(port)
		env.TargetServers[name] = &bundle.TargetServer{Name: name, Host: host, Port: p, IsEnabled: true}
	}
	pol := mustBuild(t, calloutXML(`<Request><Set><Path>items</Path><QueryParams><QueryParam name="q">1</QueryParam></QueryParams></Set></Request><Response>r</Response>
		<HTTPTargetConnection><LoadBalancer><Server name="ts-a"/><Server name="ts-b"/></LoadBalancer><Path>/api/{ver}</Path></HTTPTargetConnection>`),
		&BuildContext{Env: env})
	t.Cleanup(pol.(*ServiceCallout).Close)
	seen := map[string]int{}
	for i := 0; i < 4; i++ {
		x := sampleExchange()
		x.Set("ver", "v2")
		if err := execute(t, pol, x); err != nil {
			t.Fatalf("Execute() = %v", err)
		}
		seen[getString(x, "r.content")]++
		want(t, "servicecallout.requesturi", getString(x, "servicecallout.requesturi"), "/api/v2/items?q=1")
	}
	want(t, "server a answers", seen["a /api/v2/items?q=1"], 2)
	want(t, "server b answers", seen["b /api/v2/items?q=1"], 2)
}

func TestServiceCalloutBuildProblems(t *testing.T) {
	tests := []struct{ name, xml, want string }{
		{"no connection", calloutXML(`<Response>r</Response>`), "needs an <HTTPTargetConnection> or a <LocalTargetConnection>"},
		{"both connections", calloutXML(httpConn("http://x") + `<LocalTargetConnection><Path>/a</Path></LocalTargetConnection>`), "has both"},
		{"bad timeout", calloutXML(`<Timeout>soon</Timeout>` + httpConn("http://x")), `<Timeout>: "soon"`},
		{"response with spaces", calloutXML(`<Response>my resp</Response>` + httpConn("http://x")), "has no spaces"},
		{"request variable response", calloutXML(`<Request variable="response"/>` + httpConn("http://x")), "cannot be the response message"},
		{"bad URL template", calloutXML(httpConn("http://x/{a")), "<URL>"},
		{"no URL", calloutXML(`<HTTPTargetConnection/>`), "HTTPTargetConnection"},
		{"bad success.codes", calloutXML(httpConn("http://x", `<Properties><Property name="success.codes">2XX,abc</Property></Properties>`)), "success.codes"},
		{"access token without scopes", calloutXML(httpConn("http://x", `<Authentication><GoogleAccessToken/></Authentication>`)), "at least one <Scopes><Scope>"},
		{"two token kinds", calloutXML(httpConn("http://x", `<Authentication><GoogleAccessToken><Scopes><Scope>s</Scope></Scopes></GoogleAccessToken><GoogleIDToken/></Authentication>`)), "exactly one"},
		{"bad lifetime", calloutXML(httpConn("http://x", `<Authentication><GoogleAccessToken><Scopes><Scope>s</Scope></Scopes><LifetimeInSeconds>-1</LifetimeInSeconds></GoogleAccessToken></Authentication>`)), "LifetimeInSeconds"},
		{"local without target", calloutXML(`<LocalTargetConnection/>`), "needs <APIProxy> or <Path>"},
		{"bad local path", calloutXML(`<LocalTargetConnection><Path>/a/{b</Path></LocalTargetConnection>`), "<Path>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pol, probs := buildXML(t, tc.xml, nil)
			if pol != nil || !probs.HasErrors() {
				t.Fatalf("build(%s) = %v with problems %q, want an error", tc.name, pol, probs.String())
			}
			if !strings.Contains(probs.String(), tc.want) || !strings.Contains(probs.String(), "x.xml") {
				t.Errorf("problems = %q, want one in x.xml containing %q", probs.String(), tc.want)
			}
		})
	}
}

func TestServiceCalloutTestdata(t *testing.T) {
	srv, _ := echoBackend(t)
	pol := mustBuild(t, readTestdata(t, "servicecallout/SC-Lookup.xml"), nil)
	x := sampleExchange()
	x.SetPropertySets(map[string]map[string]string{"svc": {"base": srv.URL}})
	x.Set("item.id", "42")
	if err := execute(t, pol, x); err != nil {
		t.Fatalf("Execute() = %v", err)
	}
	e := echoOf(t, x, "lookupResp")
	want(t, "URI", e.URI, "/v2/items/42?expand=true")
	want(t, "method", e.Method, "POST")
	want(t, "body", e.Body, `{"id":"42"}`)
	want(t, "lookupReq.content cleared", getString(x, "lookupReq.content"), "")
}

func BenchmarkServiceCallout(b *testing.B) {
	srv, _ := echoBackend(b)
	pol := mustBuild(b, calloutXML(`<Request variable="cr"><Set><Path>/items/{id}</Path><Headers><Header name="X-Custom">{user.name}</Header></Headers></Set></Request><Response>r</Response>`+httpConn("{be}")), nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		x := sampleExchange()
		x.Set("be", srv.URL)
		x.Set("id", "7")
		if err := pol.Execute(context.Background(), x); err != nil {
			b.Fatal(err)
		}
	}
}

// TestServiceCalloutCorpus builds every ServiceCallout of the shared corpus
// (apigeelint's deliberately broken fixtures excluded): none may panic,
// every problem names its file, and the count that builds cleanly is
// reported.
func TestServiceCalloutCorpus(t *testing.T) {
	root := filepath.Join("..", "..", "shared", "corpus")
	if _, err := os.Stat(root); err != nil {
		t.Skip("corpus not present:", err)
	}
	total, clean := 0, 0
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() && d.Name() == "apigeelint" {
			return fs.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".xml") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil || !strings.Contains(string(src), "<ServiceCallout") {
			return nil
		}
		doc := etree.NewDocument()
		if doc.ReadFromBytes(src) != nil || doc.Root() == nil || doc.Root().Tag != "ServiceCallout" {
			return nil
		}
		total++
		p := parsePolicy(t, string(src))
		p.Doc.File = path
		bc := &BuildContext{Problems: &bundle.Problems{}, Options: &Options{}, Env: &bundle.Environment{}}
		pol := buildServiceCallout(bc, p)
		for _, pr := range bc.Problems.List {
			if pr.Pos.File == "" {
				t.Errorf("%s: problem without a file: %v", path, pr)
			}
		}
		if pol != nil && !bc.Problems.HasErrors() {
			clean++
			pol.(*ServiceCallout).Close()
		} else {
			t.Logf("%s: %s", path, strings.TrimSpace(bc.Problems.String()))
		}
		return nil
	})
	t.Logf("ServiceCallout: %d of %d corpus policies build without errors", clean, total)
	if total > 0 && clean == 0 {
		t.Errorf("no corpus ServiceCallout builds")
	}
}

// TestServiceCalloutConcurrent runs one built policy from many goroutines
// (run with -race): per-request state must stay in the exchange.
func TestServiceCalloutConcurrent(t *testing.T) {
	srv, _ := echoBackend(t)
	pol := mustBuild(t, calloutXML(`<Request variable="cr"><Set><Path>/items/{id}</Path></Set></Request><Response>r</Response>`+httpConn("{be}")), nil)
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		go func(g int) {
			for i := 0; i < 20; i++ {
				x := sampleExchange()
				x.Set("be", srv.URL)
				id := strconv.Itoa(g*100 + i)
				x.Set("id", id)
				if err := pol.Execute(context.Background(), x); err != nil {
					errs <- err
					return
				}
				var e echoed
				if err := json.Unmarshal(x.Message("r").Body, &e); err != nil || e.URI != "/items/"+id {
					errs <- fmt.Errorf("goroutine %d: backend URI = %q, want /items/%s (%v)", g, e.URI, id, err)
					return
				}
			}
			errs <- nil
		}(g)
	}
	for g := 0; g < 16; g++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// FuzzServiceCalloutBuild builds arbitrary ServiceCallout XML: no panic,
// and every problem has a file.
func FuzzServiceCalloutBuild(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "servicecallout", "SC-Lookup.xml")); err == nil {
		f.Add(string(b))
	}
	f.Add(calloutXML(`<Request variable="v" clearPayload="maybe"><Set><Path>{a</Path></Set></Request><Timeout>x</Timeout>` + httpConn("{u}")))
	f.Add(calloutXML(`<LocalTargetConnection><Path>/a/{b}</Path></LocalTargetConnection><Response> </Response>`))
	f.Add(calloutXML(httpConn("http://x", `<Authentication><GoogleIDToken><Audience useTargetUrl="true"/></GoogleIDToken></Authentication>`)))
	f.Fuzz(func(t *testing.T, src string) {
		doc := etree.NewDocument()
		if doc.ReadFromString(src) != nil || doc.Root() == nil || doc.Root().Tag != "ServiceCallout" {
			return
		}
		p := parsePolicy(t, src)
		bc := &BuildContext{Problems: &bundle.Problems{}, Options: &Options{}, Env: &bundle.Environment{}}
		if pol := buildServiceCallout(bc, p); pol != nil {
			pol.(*ServiceCallout).Close()
		}
		for _, pr := range bc.Problems.List {
			if pr.Pos.File == "" {
				t.Errorf("problem without a file: %v", pr)
			}
		}
	})
}

func TestServiceCalloutUnresolvedVariables(t *testing.T) {
	srv, hits := echoBackend(t)
	tests := []struct {
		name, ignore string
		strict       bool
		wantFault    string
	}{
		{"lenient templates", "false", false, ""},
		{"strict, not ignored", "false", true, "ServiceCallout[SC]: unable to resolve variable missing.var"},
		{"strict, ignored", "true", true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bc := &BuildContext{Options: &Options{StrictTemplates: tc.strict}}
			pol := mustBuild(t, calloutXML(`<Request><IgnoreUnresolvedVariables>`+tc.ignore+`</IgnoreUnresolvedVariables>
				<Set><Headers><Header name="X-Custom">[{missing.var}]</Header></Headers></Set></Request><Response>r</Response>`+httpConn(srv.URL)), bc)
			x := sampleExchange()
			before := hits.Load()
			err := execute(t, pol, x)
			if tc.wantFault != "" {
				wantFault(t, err, "steps.servicecallout.UnresolvedVariable", tc.wantFault)
				want(t, "backend hits", hits.Load()-before, int64(0))
				return
			}
			if err != nil {
				t.Fatalf("Execute() = %v", err)
			}
			want(t, "X-Custom", echoOf(t, x, "r").Custom, "[]")
		})
	}
}
