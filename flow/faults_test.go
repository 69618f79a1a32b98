package flow

import (
	"testing"
)

// faultBundle has FaultRules on both endpoints; always sets AlwaysEnforce
// on the ProxyEndpoint's DefaultFaultRule.
func faultBundle(always string) map[string]string {
	return merge(map[string]string{
		"apiproxy/proxies/default.xml": proxyXML("default", "/v1", `
			<FaultRules>
			  <FaultRule name="catch-all"><Step><Name>R-ProxyCatchAll</Name></Step></FaultRule>
			  <FaultRule name="rf"><Condition>fault.name = "RaiseFault"</Condition><Step><Name>R-ProxyRF</Name></Step></FaultRule>
			  <FaultRule name="never"><Condition>fault.name = "Nope"</Condition><Step><Name>R-Never</Name></Step></FaultRule>
			  <FaultRule name="raise-in-rule"><Condition>proxy.pathsuffix = "/raise-in-rule"</Condition>
			    <Step><Name>RF-InRule</Name></Step><Step><Name>R-AfterRaise</Name></Step></FaultRule>
			</FaultRules>
			<DefaultFaultRule name="dfr"><AlwaysEnforce>`+always+`</AlwaysEnforce><Step><Name>R-ProxyDFR</Name></Step></DefaultFaultRule>
			<PreFlow><Request>
			  <Step><Name>RF-Continue</Name><Condition>proxy.pathsuffix = "/continue"</Condition></Step>
			  <Step><Name>RF-Disabled</Name></Step>
			  <Step><Name>RF-Proxy</Name><Condition>proxy.pathsuffix = "/raise" or proxy.pathsuffix = "/raise-in-rule"</Condition></Step>
			</Request></PreFlow>
			<PostFlow><Response><Step><Name>AM-Flags</Name></Step></Response></PostFlow>
			<RouteRule name="r"><TargetEndpoint>default</TargetEndpoint></RouteRule>`),
		"apiproxy/targets/default.xml": targetXML("default", "http://backend.test", `
			<FaultRules>
			  <FaultRule name="t-rf"><Condition>fault.name = "RaiseFault"</Condition><Step><Name>R-T1</Name></Step></FaultRule>
			  <FaultRule name="t-catch-all"><Step><Name>R-T2</Name></Step></FaultRule>
			</FaultRules>
			<PreFlow><Request><Step><Name>RF-Target</Name><Condition>proxy.pathsuffix = "/target-raise"</Condition></Step></Request></PreFlow>`),
		"apiproxy/policies/RF-Proxy.xml":    `<RaiseFault name="RF-Proxy"/>`,
		"apiproxy/policies/RF-Target.xml":   `<RaiseFault name="RF-Target"/>`,
		"apiproxy/policies/RF-Continue.xml": `<RaiseFault name="RF-Continue" continueOnError="true"/>`,
		"apiproxy/policies/RF-Disabled.xml": `<RaiseFault name="RF-Disabled" enabled="false"/>`,
		"apiproxy/policies/RF-InRule.xml": `<RaiseFault name="RF-InRule"><FaultResponse><Set><StatusCode>418</StatusCode>
			<Payload contentType="text/plain">teapot</Payload></Set></FaultResponse></RaiseFault>`,
		"apiproxy/policies/AM-Flags.xml": `<AssignMessage name="AM-Flags"><Set><Headers>
			<Header name="X-Continue-Failed">{raisefault.RF-Continue.failed}</Header></Headers></Set></AssignMessage>`,
	}, recordPolicies("R-ProxyCatchAll", "R-ProxyRF", "R-Never", "R-AfterRaise", "R-ProxyDFR", "R-T1", "R-T2"))
}

func TestFaultRules(t *testing.T) {
	be := backend(t)
	cases := []struct {
		always, path string
		status       int
		recorded     string
		body         string // "" = default fault JSON with errorcode
		code         string
	}{
		// ProxyEndpoint rules: bottom to top, one runs; no DFR without AlwaysEnforce.
		{"false", "/raise", 500, "R-ProxyRF", "", "steps.raisefault.RaiseFault"},
		{"true", "/raise", 500, "R-ProxyRF,R-ProxyDFR", "", "steps.raisefault.RaiseFault"},
		// TargetEndpoint rules: top to bottom; then the proxy DFR, never proxy FaultRules.
		{"false", "/target-raise", 500, "R-T1,R-ProxyDFR", "", "steps.raisefault.RaiseFault"},
		{"false", "/status/500", 500, "R-T2,R-ProxyDFR", "backend broke", ""},
		// A RaiseFault in a FaultRule: later steps still run, the DFR does not.
		{"true", "/raise-in-rule", 418, "R-AfterRaise", "teapot", ""},
	}
	for _, c := range cases {
		t.Run(c.always+c.path, func(t *testing.T) {
			dir := writeFiles(t, faultBundle(c.always))
			_, srv := startEngine(t, Options{MapURL: []URLMap{{From: "http://backend.test", To: be.URL}}}, dir)
			status, hdr, body := do(t, "GET", srv.URL+"/v1"+c.path, "")
			if status != c.status {
				t.Errorf("status = %d, want %d (%s)", status, c.status, body)
			}
			if got := hdr.Get("X-Recorded"); got != c.recorded {
				t.Errorf("fault steps = %q, want %q", got, c.recorded)
			}
			if c.body != "" {
				if body != c.body {
					t.Errorf("body = %q, want %q", body, c.body)
				}
			} else {
				fs, code := faultOf(t, body)
				if code != c.code {
					t.Errorf("errorcode = %q, want %q", code, c.code)
				}
				if fs == "" {
					t.Errorf("empty faultstring")
				}
			}
		})
	}
}

func TestContinueOnErrorAndDisabled(t *testing.T) {
	be := backend(t)
	dir := writeFiles(t, faultBundle("false"))
	_, srv := startEngine(t, Options{MapURL: []URLMap{{From: "http://backend.test", To: be.URL}}}, dir)
	status, hdr, body := do(t, "GET", srv.URL+"/v1/continue", "")
	if status != 200 || body != "backend GET /continue" {
		t.Fatalf("continueOnError: %d %q, want the backend's 200", status, body)
	}
	if got := hdr.Get("X-Continue-Failed"); got != "true" {
		t.Errorf("raisefault.RF-Continue.failed = %q, want true", got)
	}
	// RF-Disabled (enabled="false") runs on every request and is skipped.
	if status, _, _ := do(t, "GET", srv.URL+"/v1/other", ""); status != 200 {
		t.Errorf("disabled policy ran: status %d", status)
	}
}

// TestProxyDefaultFaultRuleSwitch: with the switch off, a target-side fault
// handled by a TargetEndpoint FaultRule runs the proxy's DefaultFaultRule
// only with AlwaysEnforce.
func TestProxyDefaultFaultRuleSwitch(t *testing.T) {
	be := backend(t)
	off := false
	for _, c := range []struct {
		always, recorded string
	}{{"false", "R-T1"}, {"true", "R-T1,R-ProxyDFR"}} {
		dir := writeFiles(t, faultBundle(c.always))
		_, srv := startEngine(t, Options{MapURL: []URLMap{{From: "http://backend.test", To: be.URL}}, ProxyDefaultFaultRuleAfterTargetFault: &off}, dir)
		_, hdr, _ := do(t, "GET", srv.URL+"/v1/target-raise", "")
		if got := hdr.Get("X-Recorded"); got != c.recorded {
			t.Errorf("AlwaysEnforce=%s: fault steps = %q, want %q", c.always, got, c.recorded)
		}
	}
}

// TestPolicyPanicBecomesFault: a panicking policy answers a 500 fault and
// the next request is served normally.
func TestPolicyPanicBecomesFault(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"apiproxy/proxies/default.xml": proxyXML("default", "/p", `<PreFlow><Request>
			<Step><Name>Boom</Name><Condition>request.header.x-boom = "1"</Condition></Step></Request></PreFlow><RouteRule name="n"/>`),
		"apiproxy/policies/Boom.xml": `<Panic name="Boom"/>`,
	})
	_, srv := startEngine(t, Options{}, dir)
	status, _, body := do(t, "GET", srv.URL+"/p", "", "X-Boom", "1")
	if _, code := faultOf(t, body); status != 500 || code != "steps.panic.ExecutionFailed" {
		t.Errorf("panicking policy: %d %q", status, body)
	}
	if status, _, _ := do(t, "GET", srv.URL+"/p", ""); status != 200 {
		t.Errorf("next request: %d, want 200", status)
	}
}
