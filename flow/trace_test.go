package flow

import (
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func TestTrace(t *testing.T) {
	be := backend(t)
	dir := writeFiles(t, merge(map[string]string{
		"apiproxy/proxies/default.xml":   orderProxy,
		"apiproxy/targets/default.xml":   orderTarget,
		"apiproxy/policies/AM-Order.xml": amOrder,
	}, recordPolicies("P-PreReq", "P-PreRsp", "P-OtherReq", "P-FlowReq", "P-FlowRsp", "P-Second", "P-PostReq", "P-PostRsp",
		"P-PostClient", "T-PreReq", "T-PreRsp", "T-FlowReq", "T-FlowRsp", "T-PostReq", "T-PostRsp")))
	var mu sync.Mutex
	var traces []*Trace
	eng, srv := startEngine(t, Options{
		MapURL: []URLMap{{From: "http://backend.test", To: be.URL}},
		Trace:  func(tr *Trace) { mu.Lock(); traces = append(traces, tr); mu.Unlock() },
	}, dir)
	do(t, "GET", srv.URL+"/v1/items/7", "")
	mu.Lock()
	if len(traces) != 1 {
		t.Fatalf("got %d traces, want 1", len(traces))
	}
	tr := traces[0]
	mu.Unlock()
	var lines []string
	for _, ev := range tr.Events {
		s := ev.Kind + " " + ev.Endpoint + " " + ev.Flow + " " + ev.Name
		if ev.Result != nil {
			s += map[bool]string{true: " =true", false: " =false"}[*ev.Result]
		}
		if ev.Kind == "set" {
			s += " " + ev.Var
		}
		lines = append(lines, s)
	}
	got := strings.Join(lines, "\n")
	for _, want := range []string{
		"flow ProxyEndpoint default PreFlow request\nstep ProxyEndpoint default PreFlow P-PreReq\nset ProxyEndpoint default PreFlow  order",
		"condition ProxyEndpoint default PreFlow  =false\ncondition ProxyEndpoint default PreFlow  =true\nflow ProxyEndpoint default items selected",
		"route ProxyEndpoint default PostFlow to-target",
		"flow TargetEndpoint default PreFlow request",
		"target TargetEndpoint default PostFlow GET",
		"flow ProxyEndpoint default PostClientFlow response\nstep ProxyEndpoint default PostClientFlow P-PostClient",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("trace lacks\n%s\n--- trace:\n%s", want, got)
		}
	}
	if tr.Response.Status != 200 || tr.Request.URI != "/v1/items/7" || tr.MessageID == "" || tr.Proxy == "" {
		t.Errorf("trace header = %+v", tr)
	}
	for _, ev := range tr.Events {
		if (ev.Kind == "step" || ev.Kind == "condition") && !strings.Contains(ev.Element, "default.xml:") {
			t.Errorf("event %s has no element position: %q", ev.Kind, ev.Element)
		}
	}

	// ServeExchange returns the exchange for variable checks.
	rec := httptest.NewRecorder()
	x, tr2 := eng.ServeExchange(rec, httptest.NewRequest("GET", "/v1/other", nil), true)
	if got, _ := x.GetString("order"); !strings.HasPrefix(got, "P-PreReq,P-OtherReq,P-PostReq") {
		t.Errorf("order variable = %q", got)
	}
	if tr2 == nil || len(tr2.Events) == 0 {
		t.Fatal("no trace from ServeExchange")
	}
	if s := tr2.Events[0].String(); !strings.Contains(s, "flow") || !strings.Contains(s, "PreFlow") {
		t.Errorf("event line = %q", s)
	}
	// Elements lists Flows, Steps and RouteRules with positions.
	kinds := map[string]int{}
	for _, el := range eng.Elements() {
		kinds[el.Kind]++
	}
	if kinds["Flow"] != 4 || kinds["RouteRule"] != 1 || kinds["Step"] < 15 {
		t.Errorf("elements by kind = %v", kinds)
	}
}

func TestOptionsVariables(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"apiproxy/proxies/default.xml": proxyXML("default", "/v", `<PostFlow><Response><Step><Name>AM</Name></Step></Response></PostFlow><RouteRule name="n"/>`),
		"apiproxy/policies/AM.xml":     `<AssignMessage name="AM"><Set><Headers><Header name="X-Tier">{app.tier}</Header><Header name="X-Org">{organization.name}</Header></Headers></Set></AssignMessage>`,
	})
	_, srv := startEngine(t, Options{Org: "acme", Variables: map[string]any{"app.tier": "gold"}}, dir)
	_, hdr, _ := do(t, "GET", srv.URL+"/v", "")
	if hdr.Get("X-Tier") != "gold" || hdr.Get("X-Org") != "acme" {
		t.Errorf("fixed variables not set: %v", hdr)
	}
}

func TestTraceMasksSecrets(t *testing.T) {
	cases := []struct{ in, want string }{
		{`{"access_token":"abc","token_type":"Bearer","refresh_token" : "r1"}`, `{"access_token":"********","token_type":"Bearer","refresh_token" : "********"}`},
		{`grant_type=password&password=hunter2&username=u`, `grant_type=password&password=********&username=u`},
		{`{"greeting":"hi"}`, `{"greeting":"hi"}`},
	}
	for _, c := range cases {
		if got := maskBody(c.in); got != c.want {
			t.Errorf("maskBody(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	h := maskHeaders(map[string][]string{"Authorization": {"Bearer t"}, "Accept": {"x"}})
	if h["Authorization"][0] != "********" || h["Accept"][0] != "x" {
		t.Errorf("maskHeaders = %v", h)
	}
}

func TestTraceMasksSecretVariables(t *testing.T) {
	tr := &tracer{t: &Trace{}}
	for _, name := range []string{"private.key", "jwt.JWT-Gen.generated_jwt", "my.access_token", "request.header.authorization", "hmac.H.output", "flow.apikey"} {
		tr.VarSet(name, "s3cr3t", nil)
	}
	tr.VarSet("flow.region", "eu", nil)
	for _, ev := range tr.t.Events {
		secret := ev.Var != "flow.region"
		if secret && ev.Value != masked || !secret && ev.Value != "eu" {
			t.Errorf("trace value of %s = %q", ev.Var, ev.Value)
		}
	}
}
