package flow

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// backend answers with the path and query it received.
func backend(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Backend-Path", r.URL.Path)
		w.Header().Set("X-Backend-Query", r.URL.RawQuery)
		w.Header().Set("Content-Type", "text/plain")
		switch {
		case strings.HasSuffix(r.URL.Path, "/status/404"):
			w.WriteHeader(404)
			_, _ = w.Write([]byte("backend says not found"))
			return
		case strings.HasSuffix(r.URL.Path, "/status/500"):
			w.WriteHeader(500)
			_, _ = w.Write([]byte("backend broke"))
			return
		case strings.HasSuffix(r.URL.Path, "/slow"):
			time.Sleep(300 * time.Millisecond)
		case strings.HasSuffix(r.URL.Path, "/hangup"):
			hj, _ := w.(http.Hijacker)
			c, _, _ := hj.Hijack()
			c.Close()
			return
		}
		_, _ = w.Write([]byte("backend " + r.Method + " " + r.URL.RequestURI()))
	}))
	t.Cleanup(srv.Close)
	return srv
}

const orderProxy = `<ProxyEndpoint name="default">
  <PreFlow><Request><Step><Name>P-PreReq</Name></Step></Request><Response><Step><Name>P-PreRsp</Name></Step></Response></PreFlow>
  <Flows>
    <Flow name="other"><Condition>proxy.pathsuffix MatchesPath "/other"</Condition>
      <Request><Step><Name>P-OtherReq</Name></Step></Request></Flow>
    <Flow name="items"><Condition>proxy.pathsuffix MatchesPath "/items/*"</Condition>
      <Request><Step><Name>P-FlowReq</Name></Step></Request><Response><Step><Name>P-FlowRsp</Name></Step></Response></Flow>
    <Flow name="items-again"><Condition>proxy.pathsuffix MatchesPath "/items/**"</Condition>
      <Request><Step><Name>P-Second</Name></Step></Request></Flow>
  </Flows>
  <PostFlow><Request><Step><Name>P-PostReq</Name></Step></Request>
    <Response><Step><Name>P-PostRsp</Name></Step><Step><Name>AM-Order</Name></Step></Response></PostFlow>
  <PostClientFlow><Response><Step><Name>P-PostClient</Name></Step></Response></PostClientFlow>
  <HTTPProxyConnection><BasePath>/v1</BasePath></HTTPProxyConnection>
  <RouteRule name="to-target"><TargetEndpoint>default</TargetEndpoint></RouteRule>
</ProxyEndpoint>`

const orderTarget = `<TargetEndpoint name="default">
  <PreFlow><Request><Step><Name>T-PreReq</Name></Step></Request><Response><Step><Name>T-PreRsp</Name></Step></Response></PreFlow>
  <Flows>
    <Flow name="titems"><Condition>request.verb = "GET"</Condition>
      <Request><Step><Name>T-FlowReq</Name></Step></Request><Response><Step><Name>T-FlowRsp</Name></Step></Response></Flow>
  </Flows>
  <PostFlow><Request><Step><Name>T-PostReq</Name></Step></Request><Response><Step><Name>T-PostRsp</Name></Step></Response></PostFlow>
  <HTTPTargetConnection><URL>http://backend.test/api</URL></HTTPTargetConnection>
</TargetEndpoint>`

const amOrder = `<AssignMessage name="AM-Order"><AssignTo createNew="false" type="response"/>
  <Set><Headers><Header name="X-Order">{order}</Header><Header name="X-Msg">{messageid}</Header>
  <Header name="X-Flow">{current.flow.name}</Header></Headers></Set></AssignMessage>`

func TestFlowOrder(t *testing.T) {
	be := backend(t)
	dir := writeFiles(t, merge(map[string]string{
		"apiproxy/proxies/default.xml":   orderProxy,
		"apiproxy/targets/default.xml":   orderTarget,
		"apiproxy/policies/AM-Order.xml": amOrder,
	}, recordPolicies("P-PreReq", "P-PreRsp", "P-OtherReq", "P-FlowReq", "P-FlowRsp", "P-Second", "P-PostReq", "P-PostRsp",
		"P-PostClient", "T-PreReq", "T-PreRsp", "T-FlowReq", "T-FlowRsp", "T-PostReq", "T-PostRsp")))
	_, srv := startEngine(t, Options{MapURL: []URLMap{{From: "http://backend.test", To: be.URL}}}, dir)

	status, hdr, body := do(t, "GET", srv.URL+"/v1/items/7?a=b", "")
	if status != 200 {
		t.Fatalf("status = %d, want 200 (body %q)", status, body)
	}
	want := "P-PreReq,P-FlowReq,P-PostReq,T-PreReq,T-FlowReq,T-PostReq,T-PreRsp,T-FlowRsp,T-PostRsp,P-PreRsp,P-FlowRsp,P-PostRsp"
	if got := hdr.Get("X-Order"); got != want {
		t.Errorf("order = %q\nwant    %q", got, want)
	}
	if got := hdr.Get("X-Backend-Path"); got != "/api/items/7" {
		t.Errorf("backend path = %q, want /api/items/7", got)
	}
	if got := hdr.Get("X-Backend-Query"); got != "a=b" {
		t.Errorf("backend query = %q, want a=b", got)
	}
	if got := hdr.Get("X-Flow"); got != "PostFlow" {
		t.Errorf("current.flow.name = %q, want PostFlow", got)
	}
	if body != "backend GET /api/items/7?a=b" {
		t.Errorf("body = %q", body)
	}
	// PostClientFlow runs after the response is written.
	id := hdr.Get("X-Msg")
	deadline := time.Now().Add(2 * time.Second)
	for !strings.HasSuffix(recordedFor(id), "P-PostClient") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := recordedFor(id); got != want+",P-PostClient" {
		t.Errorf("recorded = %q, want PostClientFlow last", got)
	}

	// No conditional flow matches and the target flow's condition is false.
	_, hdr, _ = do(t, "POST", srv.URL+"/v1/nothing", "x")
	want = "P-PreReq,P-PostReq,T-PreReq,T-PostReq,T-PreRsp,T-PostRsp,P-PreRsp,P-PostRsp"
	if got := hdr.Get("X-Order"); got != want {
		t.Errorf("order without flows = %q\nwant %q", got, want)
	}
}
