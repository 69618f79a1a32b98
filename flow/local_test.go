package flow

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/apigo/apigo/bundle"
)

func TestProxyChaining(t *testing.T) {
	front := writeFiles(t, map[string]string{
		"apiproxy/front.xml": `<APIProxy name="front"/>`,
		"apiproxy/proxies/default.xml": proxyXML("default", "/front", `
			<RouteRule name="by-path"><Condition>request.header.x-by = "path"</Condition><TargetEndpoint>by-path</TargetEndpoint></RouteRule>
			<RouteRule name="loop"><Condition>request.header.x-by = "loop"</Condition><TargetEndpoint>loop</TargetEndpoint></RouteRule>
			<RouteRule name="by-name"><TargetEndpoint>by-name</TargetEndpoint></RouteRule>`),
		"apiproxy/targets/by-name.xml": `<TargetEndpoint name="by-name"><PostFlow><Response><Step><Name>AM-Mark</Name></Step></Response></PostFlow>
			<LocalTargetConnection><APIProxy>back</APIProxy><ProxyEndpoint>default</ProxyEndpoint></LocalTargetConnection></TargetEndpoint>`,
		"apiproxy/targets/by-path.xml":  `<TargetEndpoint name="by-path"><LocalTargetConnection><Path>/back/v2</Path></LocalTargetConnection></TargetEndpoint>`,
		"apiproxy/targets/loop.xml":     `<TargetEndpoint name="loop"><LocalTargetConnection><APIProxy>front</APIProxy></LocalTargetConnection></TargetEndpoint>`,
		"apiproxy/policies/AM-Mark.xml": `<AssignMessage name="AM-Mark"><Set><Headers><Header name="X-Front">{target.name}</Header></Headers></Set></AssignMessage>`,
	})
	back := writeFiles(t, map[string]string{
		"apiproxy/back.xml": `<APIProxy name="back"/>`,
		"apiproxy/proxies/default.xml": proxyXML("default", "/back", `
			<PostFlow><Response><Step><Name>AM-Answer</Name></Step></Response></PostFlow><RouteRule name="null"/>`),
		"apiproxy/policies/AM-Answer.xml": `<AssignMessage name="AM-Answer"><AssignTo type="response"/><Set>
			<Payload contentType="text/plain">{apiproxy.name} {proxy.pathsuffix} q={request.queryparam.q} h={request.header.x-in}</Payload></Set></AssignMessage>`,
	})
	_, srv := startEngine(t, Options{}, front, back)
	status, hdr, body := do(t, "GET", srv.URL+"/front/items/1?q=7", "", "X-In", "hello")
	if status != 200 || body != "back /items/1 q=7 h=hello" {
		t.Errorf("by name: %d %q", status, body)
	}
	if hdr.Get("X-Front") != "by-name" {
		t.Errorf("front target response flow did not run: %v", hdr)
	}
	status, _, body = do(t, "GET", srv.URL+"/front/x", "", "X-By", "path")
	if status != 200 || body != "back /v2/x q= h=" {
		t.Errorf("by path: %d %q", status, body)
	}
	status, _, body = do(t, "GET", srv.URL+"/front/x", "", "X-By", "loop")
	if status != 500 || !strings.Contains(body, "ChainingLoop") {
		t.Errorf("loop: %d %q", status, body)
	}
}

func TestServiceCalloutLocalTarget(t *testing.T) {
	back := writeFiles(t, map[string]string{
		"apiproxy/back.xml": `<APIProxy name="back"/>`,
		"apiproxy/proxies/default.xml": proxyXML("default", "/back", `
			<PostFlow><Response><Step><Name>AM-Answer</Name></Step></Response></PostFlow><RouteRule name="null"/>`),
		"apiproxy/policies/AM-Answer.xml": `<AssignMessage name="AM-Answer"><AssignTo type="response"/><Set>
			<Payload contentType="text/plain">back saw {proxy.pathsuffix}</Payload></Set></AssignMessage>`,
	})
	front := writeFiles(t, map[string]string{
		"apiproxy/front.xml": `<APIProxy name="front"/>`,
		"apiproxy/proxies/default.xml": proxyXML("default", "/front", `
			<PreFlow><Request><Step><Name>SC-Local</Name></Step></Request></PreFlow>
			<PostFlow><Response><Step><Name>AM-Use</Name></Step></Response></PostFlow><RouteRule name="null"/>`),
		"apiproxy/policies/SC-Local.xml": `<ServiceCallout name="SC-Local"><Request variable="calloutReq"><Set><Path>/inner</Path></Set></Request>
			<Response>calloutRsp</Response><LocalTargetConnection><APIProxy>back</APIProxy><ProxyEndpoint>default</ProxyEndpoint></LocalTargetConnection></ServiceCallout>`,
		"apiproxy/policies/AM-Use.xml": `<AssignMessage name="AM-Use"><AssignTo type="response"/><Set>
			<Payload contentType="text/plain">{calloutRsp.status.code}: {calloutRsp.content}</Payload></Set></AssignMessage>`,
	})
	_, srv := startEngine(t, Options{}, front, back)
	status, _, body := do(t, "GET", srv.URL+"/front", "")
	if status != 200 || body != "200: back saw /inner" {
		t.Errorf("local ServiceCallout: %d %q", status, body)
	}
}

func TestProxyChainingToUndeployedProxy(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"apiproxy/proxies/default.xml": proxyXML("default", "/front", `<RouteRule name="r"><TargetEndpoint>t</TargetEndpoint></RouteRule>`),
		"apiproxy/targets/t.xml":       `<TargetEndpoint name="t"><LocalTargetConnection><APIProxy>elsewhere</APIProxy></LocalTargetConnection></TargetEndpoint>`,
	})
	set, _ := bundle.Load([]string{dir}, bundle.Options{})
	eng, ps := Build(set, Options{})
	if eng == nil || !strings.Contains(ps.String(), `warning: LocalTargetConnection: no deployed proxy "elsewhere"`) {
		t.Fatalf("want a warning and an engine: %s", ps.String())
	}
	defer eng.Close()
	srv := httptest.NewServer(eng)
	defer srv.Close()
	status, _, body := do(t, "GET", srv.URL+"/front", "")
	if status != 404 || !strings.Contains(body, "ApplicationNotFound") {
		t.Errorf("chaining to an undeployed proxy: %d %q", status, body)
	}
}
