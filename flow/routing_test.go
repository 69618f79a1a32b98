package flow

import (
	"encoding/json"
	"net"
	"strings"
	"testing"
)

// proxyXML wraps inner elements in a ProxyEndpoint with a base path.
func proxyXML(name, basePath, inner string) string {
	return `<ProxyEndpoint name="` + name + `">` + inner +
		`<HTTPProxyConnection><BasePath>` + basePath + `</BasePath></HTTPProxyConnection></ProxyEndpoint>`
}

func targetXML(name, url, inner string) string {
	return `<TargetEndpoint name="` + name + `">` + inner +
		`<HTTPTargetConnection><URL>` + url + `</URL></HTTPTargetConnection></TargetEndpoint>`
}

// faultOf decodes a default fault body.
func faultOf(t *testing.T, body string) (faultstring, errorcode string) {
	t.Helper()
	var f struct {
		Fault struct {
			FaultString string `json:"faultstring"`
			Detail      struct {
				ErrorCode string `json:"errorcode"`
			} `json:"detail"`
		} `json:"fault"`
	}
	if err := json.Unmarshal([]byte(body), &f); err != nil {
		t.Fatalf("body %q is not a fault: %v", body, err)
	}
	return f.Fault.FaultString, f.Fault.Detail.ErrorCode
}

func TestRouteRulesFirstMatch(t *testing.T) {
	be := backend(t)
	dir := writeFiles(t, map[string]string{
		"apiproxy/proxies/default.xml": proxyXML("default", "/shop", `
			<RouteRule name="users"><Condition>proxy.pathsuffix MatchesPath "/users/**"</Condition><TargetEndpoint>users</TargetEndpoint></RouteRule>
			<RouteRule name="orders"><Condition>proxy.pathsuffix MatchesPath "/orders/**"</Condition><TargetEndpoint>orders</TargetEndpoint></RouteRule>
			<RouteRule name="mock"><Condition>request.header.x-mock = "true"</Condition></RouteRule>
			<RouteRule name="orders-again"><Condition>proxy.pathsuffix MatchesPath "/orders/**"</Condition><TargetEndpoint>users</TargetEndpoint></RouteRule>
			<RouteRule name="direct"><Condition>request.queryparam.direct = "1"</Condition><URL>http://backend.test/direct</URL></RouteRule>`),
		"apiproxy/targets/users.xml":  targetXML("users", "http://backend.test/users-svc", ""),
		"apiproxy/targets/orders.xml": targetXML("orders", "http://backend.test/orders-svc", ""),
	})
	_, srv := startEngine(t, Options{MapURL: []URLMap{{From: "http://backend.test", To: be.URL}}}, dir)
	cases := []struct {
		path, hdrName, hdrVal string
		status                int
		backendPath           string
	}{
		{"/shop/users/1", "", "", 200, "/users-svc/users/1"},
		{"/shop/orders/9/lines", "", "", 200, "/orders-svc/orders/9/lines"},
		{"/shop/other", "x-mock", "true", 200, ""},
		// A URL route appends the path suffix and query like a TargetEndpoint.
		{"/shop/x?direct=1", "", "", 200, "/direct/x"},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			status, hdr, body := do(t, "GET", srv.URL+c.path, "", c.hdrName, c.hdrVal)
			if status != c.status {
				t.Fatalf("status = %d, want %d (%s)", status, c.status, body)
			}
			if got := hdr.Get("X-Backend-Path"); got != c.backendPath {
				t.Errorf("backend path = %q, want %q", got, c.backendPath)
			}
		})
	}
	// No RouteRule matches.
	status, _, body := do(t, "GET", srv.URL+"/shop/none", "")
	fs, code := faultOf(t, body)
	if status != 500 || code != "messaging.runtime.RouteFailed" || fs != "Unable to route the message to a Target Endpoint" {
		t.Errorf("no route: %d %q %q", status, fs, code)
	}
}

func TestNullRouteAndBasePathDispatch(t *testing.T) {
	dirA := writeFiles(t, map[string]string{
		"apiproxy/a.xml":               `<APIProxy name="proxy-a" revision="3"/>`,
		"apiproxy/proxies/default.xml": proxyXML("default", "/v1", `<PostFlow><Response><Step><Name>AM-Who</Name></Step></Response></PostFlow><RouteRule name="null"/>`),
		"apiproxy/policies/AM-Who.xml": `<AssignMessage name="AM-Who"><Set><Headers><Header name="X-Who">{apiproxy.name} {apiproxy.revision} [{proxy.basepath}] [{proxy.pathsuffix}]</Header></Headers></Set></AssignMessage>`,
	})
	dirB := writeFiles(t, map[string]string{
		"apiproxy/b.xml":               `<APIProxy name="proxy-b"/>`,
		"apiproxy/proxies/default.xml": proxyXML("default", "/v1/foo", `<PostFlow><Response><Step><Name>AM-Who</Name></Step></Response></PostFlow><RouteRule name="null"/>`),
		"apiproxy/policies/AM-Who.xml": `<AssignMessage name="AM-Who"><Set><Headers><Header name="X-Who">{apiproxy.name} [{proxy.basepath}] [{proxy.pathsuffix}]</Header></Headers></Set></AssignMessage>`,
	})
	_, srv := startEngine(t, Options{}, dirA, dirB)
	cases := []struct{ path, who string }{
		{"/v1", "proxy-a 3 [/v1] []"},
		{"/v1/bar", "proxy-a 3 [/v1] [/bar]"},
		{"/v1/foobar", "proxy-a 3 [/v1] [/foobar]"},
		{"/v1/foo", "proxy-b [/v1/foo] []"},
		{"/v1/foo/x/y", "proxy-b [/v1/foo] [/x/y]"},
	}
	for _, c := range cases {
		status, hdr, body := do(t, "GET", srv.URL+c.path, "")
		if status != 200 || body != "" {
			t.Errorf("%s: status %d body %q, want empty 200 from the null route", c.path, status, body)
		}
		if got := hdr.Get("X-Who"); got != c.who {
			t.Errorf("%s: X-Who = %q, want %q", c.path, got, c.who)
		}
	}
	status, _, body := do(t, "GET", srv.URL+"/v2/nope", "")
	fs, code := faultOf(t, body)
	if status != 404 || code != "messaging.adaptors.http.flow.ApplicationNotFound" || !strings.Contains(fs, "/v2/nope") {
		t.Errorf("unknown base path: %d %q %q", status, fs, code)
	}
}

func TestPathRewriteWithTargetURL(t *testing.T) {
	be := backend(t)
	dir := writeFiles(t, map[string]string{
		"apiproxy/proxies/default.xml": proxyXML("default", "/v1", `<RouteRule name="r"><TargetEndpoint>default</TargetEndpoint></RouteRule>`),
		"apiproxy/targets/default.xml": targetXML("default", "http://backend.test/ignored",
			`<PreFlow><Request><Step><Name>AM-Rewrite</Name></Step></Request></PreFlow>`),
		"apiproxy/policies/AM-Rewrite.xml": `<AssignMessage name="AM-Rewrite">
			<AssignVariable><Name>target.copy.pathsuffix</Name><Value>false</Value></AssignVariable>
			<AssignVariable><Name>target.url</Name><Template>http://backend.test/api{proxy.pathsuffix}</Template></AssignVariable>
			</AssignMessage>`,
	})
	_, srv := startEngine(t, Options{MapURL: []URLMap{{From: "http://backend.test", To: be.URL}}}, dir)
	status, hdr, body := do(t, "GET", srv.URL+"/v1/products/42?x=1", "")
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	if got := hdr.Get("X-Backend-Path"); got != "/api/products/42" {
		t.Errorf("backend path = %q, want /api/products/42", got)
	}
	if got := hdr.Get("X-Backend-Query"); got != "x=1" {
		t.Errorf("backend query = %q, want x=1", got)
	}
}

func TestTransportFaults(t *testing.T) {
	be := backend(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	dir := writeFiles(t, map[string]string{
		"apiproxy/proxies/default.xml": proxyXML("default", "/v1", `
			<RouteRule name="dead"><Condition>proxy.pathsuffix = "/dead"</Condition><TargetEndpoint>dead</TargetEndpoint></RouteRule>
			<RouteRule name="codes"><Condition>proxy.pathsuffix StartsWith "/codes"</Condition><TargetEndpoint>codes</TargetEndpoint></RouteRule>
			<RouteRule name="live"><TargetEndpoint>live</TargetEndpoint></RouteRule>`),
		"apiproxy/targets/dead.xml": targetXML("dead", dead, ""),
		"apiproxy/targets/live.xml": `<TargetEndpoint name="live"><HTTPTargetConnection><URL>http://backend.test</URL>
			<Properties><Property name="io.timeout.millis">100</Property></Properties></HTTPTargetConnection></TargetEndpoint>`,
		"apiproxy/policies/AM-Mark.xml": `<AssignMessage name="AM-Mark"><Set><Headers><Header name="X-Response-Flow">ran</Header></Headers></Set></AssignMessage>`,
		"apiproxy/targets/codes.xml": `<TargetEndpoint name="codes"><PostFlow><Response><Step><Name>AM-Mark</Name></Step></Response></PostFlow><HTTPTargetConnection><URL>http://backend.test</URL>
			<Properties><Property name="success.codes">1XX,2XX,3XX,404</Property></Properties></HTTPTargetConnection></TargetEndpoint>`,
	})
	_, srv := startEngine(t, Options{MapURL: []URLMap{{From: "http://backend.test", To: be.URL}}}, dir)
	cases := []struct {
		path       string
		status     int
		code, body string // code for JSON faults, body for passthrough
		mark       string // X-Response-Flow: response flows ran
	}{
		{"/v1/dead", 503, "messaging.adaptors.http.flow.ServiceUnavailable", "", ""},
		{"/v1/slow", 504, "messaging.adaptors.http.flow.GatewayTimeout", "", ""},
		{"/v1/hangup", 502, "messaging.adaptors.http.flow.UnexpectedEOFAtTarget", "", ""},
		{"/v1/status/500", 500, "", "backend broke", ""},
		{"/v1/status/404", 404, "", "backend says not found", ""},
		{"/v1/codes/status/404", 404, "", "backend says not found", "ran"},
		{"/v1/codes/status/500", 500, "", "backend broke", ""},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			status, hdr, body := do(t, "GET", srv.URL+c.path, "")
			if status != c.status {
				t.Fatalf("status = %d, want %d (%s)", status, c.status, body)
			}
			if c.code != "" {
				if _, code := faultOf(t, body); code != c.code {
					t.Errorf("errorcode = %q, want %q", code, c.code)
				}
			} else if body != c.body {
				t.Errorf("body = %q, want the backend's %q", body, c.body)
			}
			if got := hdr.Get("X-Response-Flow"); got != c.mark {
				t.Errorf("response flow mark = %q, want %q (success.codes decide whether response flows run)", got, c.mark)
			}
		})
	}
	// The server keeps serving after faults.
	if status, _, _ := do(t, "GET", srv.URL+"/v1/ok", ""); status != 200 {
		t.Errorf("after faults: status %d", status)
	}
}

// TestTargetBasepath: target.basepath is the path of the configured URL
// (null without one), target.url the URL before suffix and query.
func TestTargetBasepath(t *testing.T) {
	be := backend(t)
	am := `<AssignMessage name="AM-T"><Set><Headers><Header name="X-Basepath">{target.basepath:null}</Header>
		<Header name="X-Url">{target.url}</Header></Headers></Set></AssignMessage>`
	dir := writeFiles(t, map[string]string{
		"apiproxy/proxies/default.xml": proxyXML("default", "/v1", `
			<RouteRule name="bare"><Condition>request.header.x-bare = "1"</Condition><TargetEndpoint>bare</TargetEndpoint></RouteRule>
			<RouteRule name="r"><TargetEndpoint>default</TargetEndpoint></RouteRule>`),
		"apiproxy/targets/default.xml": targetXML("default", "http://backend.test/api/v2", `<PostFlow><Response><Step><Name>AM-T</Name></Step></Response></PostFlow>`),
		"apiproxy/targets/bare.xml":    targetXML("bare", "http://backend.test", `<PostFlow><Response><Step><Name>AM-T</Name></Step></Response></PostFlow>`),
		"apiproxy/policies/AM-T.xml":   am,
	})
	_, srv := startEngine(t, Options{MapURL: []URLMap{{From: "http://backend.test", To: be.URL}}}, dir)
	_, hdr, _ := do(t, "GET", srv.URL+"/v1/x?q=1", "")
	if hdr.Get("X-Basepath") != "/api/v2" || hdr.Get("X-Url") != "http://backend.test/api/v2" {
		t.Errorf("target.basepath %q target.url %q", hdr.Get("X-Basepath"), hdr.Get("X-Url"))
	}
	_, hdr, _ = do(t, "GET", srv.URL+"/v1/x", "", "X-Bare", "1")
	if hdr.Get("X-Basepath") != "null" {
		t.Errorf("target.basepath without a path = %q, want null", hdr.Get("X-Basepath"))
	}
}
