package flow

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/apigo/apigo/bundle"
)

// sharedFlowFiles is a shared flow bundle under a workspace.
func sharedFlowFiles(name string, steps string, policies map[string]string) map[string]string {
	base := "src/main/apigee/sharedflows/" + name + "/sharedflowbundle/"
	m := map[string]string{
		base + name + ".xml":             `<SharedFlowBundle name="` + name + `"/>`,
		base + "sharedflows/default.xml": `<SharedFlow name="default">` + steps + `</SharedFlow>`,
	}
	for n, xml := range policies {
		m[base+"policies/"+n+".xml"] = xml
	}
	return m
}

func recordXML(label string) string {
	return `<Record name="` + label + `"><Label>` + label + `</Label></Record>`
}

func hookWorkspace(hooks string) map[string]string {
	proxy := "src/main/apigee/apiproxies/p/apiproxy/"
	return merge(
		map[string]string{
			proxy + "proxies/default.xml": proxyXML("default", "/p", `
				<PreFlow><Request><Step><Name>P-Pre</Name></Step><Step><Name>FC-Auth</Name></Step></Request>
				  <Response><Step><Name>AM-Order</Name></Step></Response></PreFlow>
				<RouteRule name="t"><TargetEndpoint>t</TargetEndpoint></RouteRule>`),
			proxy + "targets/t.xml":         targetXML("t", "http://backend.test", `<PreFlow><Request><Step><Name>T-Pre</Name></Step></Request></PreFlow>`),
			proxy + "policies/P-Pre.xml":    recordXML("P-Pre"),
			proxy + "policies/T-Pre.xml":    recordXML("T-Pre"),
			proxy + "policies/AM-Order.xml": amOrder,
			proxy + "policies/FC-Auth.xml": `<FlowCallout name="FC-Auth"><SharedFlowBundle>auth</SharedFlowBundle>
				<Parameters><Parameter name="auth.mode">strict</Parameter><Parameter name="auth.from" ref="request.header.x-user"/></Parameters></FlowCallout>`,
			"src/main/apigee/environments/dev/deployments.json": `{"proxies":["p"],"sharedflows":["auth","hooks"]}`,
			"src/main/apigee/environments/dev/flowhooks.json":   hooks,
		},
		sharedFlowFiles("auth", `<Step><Name>SF-Auth</Name></Step><Step><Name>RF-Deny</Name><Condition>auth.from = "mallory"</Condition></Step>`,
			map[string]string{
				"SF-Auth": `<AssignMessage name="SF-Auth"><AssignVariable><Name>order</Name><Template>{order},SF-Auth:{auth.mode}:{auth.from}</Template></AssignVariable></AssignMessage>`,
				"RF-Deny": `<RaiseFault name="RF-Deny"><FaultResponse><Set><StatusCode>403</StatusCode><Payload contentType="text/plain">denied by shared flow</Payload></Set></FaultResponse></RaiseFault>`,
			}),
		sharedFlowFiles("hooks", `<Step><Name>H</Name></Step><Step><Name>RF-Hook</Name><Condition>request.header.x-hook-fail = "true"</Condition></Step>`,
			map[string]string{
				"H":       `<AssignMessage name="H"><AssignVariable><Name>order</Name><Template>{order},hook@{current.flow.name}</Template></AssignVariable></AssignMessage>`,
				"RF-Hook": `<RaiseFault name="RF-Hook"/>`,
			}),
	)
}

func startWorkspace(t *testing.T, files map[string]string) string {
	t.Helper()
	be := backend(t)
	dir := writeFiles(t, files)
	set, ps := bundle.Load([]string{dir}, bundle.Options{Env: "dev"})
	if ps.HasErrors() {
		t.Fatal(ps.String())
	}
	eng, bps := Build(set, Options{MapURL: []URLMap{{From: "http://backend.test", To: be.URL}}})
	if eng == nil {
		t.Fatal(bps.String())
	}
	srv := httptest.NewServer(eng)
	t.Cleanup(func() { srv.Close(); eng.Close() })
	return srv.URL
}

func TestFlowCalloutAndHooks(t *testing.T) {
	hooks := `{
	  "PreProxyFlowHook": {"sharedFlow": "hooks", "continueOnError": false},
	  "PreTargetFlowHook": {"sharedFlow": "hooks"},
	  "PostTargetFlowHook": {"sharedFlow": "hooks"},
	  "PostProxyFlowHook": {"sharedFlow": "hooks", "continueOnError": true}
	}`
	url := startWorkspace(t, hookWorkspace(hooks))
	status, hdr, body := do(t, "GET", url+"/p/x", "", "X-User", "alice")
	if status != 200 || body != "backend GET /x" {
		t.Fatalf("status %d body %q", status, body)
	}
	// Hooks run before the proxy PreFlow, before the target PreFlow and
	// after the target PostFlow response (so the proxy PreFlow response
	// step sees all three); current.flow.name inside is the shared flow's.
	want := ",hook@hooks,P-Pre,SF-Auth:strict:alice,hook@hooks,T-Pre,hook@hooks"
	if got := hdr.Get("X-Order"); got != want {
		t.Errorf("order = %q\nwant    %q", got, want)
	}
	// A fault inside the FlowCallout's shared flow reaches the caller.
	status, _, body = do(t, "GET", url+"/p/x", "", "X-User", "mallory")
	if status != 403 || body != "denied by shared flow" {
		t.Errorf("fault in shared flow: %d %q", status, body)
	}
	// PreProxyFlowHook has continueOnError false: its fault stops the request.
	status, _, body = do(t, "GET", url+"/p/x", "", "X-Hook-Fail", "true")
	if status != 500 || !strings.Contains(body, "steps.raisefault.RaiseFault") {
		t.Errorf("hook fault: %d %q", status, body)
	}
}

func TestFlowHookContinueOnError(t *testing.T) {
	url := startWorkspace(t, hookWorkspace(`{"PreProxyFlowHook": {"sharedFlow": "hooks", "continueOnError": true}}`))
	status, _, body := do(t, "GET", url+"/p/x", "", "X-Hook-Fail", "true", "X-User", "bob")
	if status != 200 || body != "backend GET /x" {
		t.Errorf("continueOnError hook: %d %q, want the request to go on", status, body)
	}
}

func TestFlowCalloutNotDeployed(t *testing.T) {
	files := hookWorkspace(`{}`)
	files["src/main/apigee/environments/dev/deployments.json"] = `{"proxies":["p"],"sharedflows":["hooks"]}`
	set, _ := bundle.Load([]string{writeFiles(t, files)}, bundle.Options{Env: "dev"})
	eng, ps := Build(set, Options{})
	if eng == nil {
		t.Fatalf("an undeployed shared flow is a warning, not an error: %s", ps.String())
	}
	defer eng.Close()
	srv := httptest.NewServer(eng)
	defer srv.Close()
	status, _, body := do(t, "GET", srv.URL+"/p/x", "")
	if status != 500 || !strings.Contains(body, "steps.flowcallout.SharedFlowNotFound") {
		t.Errorf("calling an undeployed shared flow: %d %q", status, body)
	}
	if !strings.Contains(ps.String(), `warning: FlowCallout "FC-Auth": shared flow "auth" is not deployed`) || !strings.Contains(ps.String(), "FC-Auth.xml:1:") {
		t.Errorf("problems = %s", ps.String())
	}
}
