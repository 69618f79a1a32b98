package flow

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// secFaultRule and secFaultPolicy copy fault.name into X-Fault-Name on
// every fault, so the tests see it over HTTP.
const secFaultRule = `<DefaultFaultRule name="dfr"><AlwaysEnforce>true</AlwaysEnforce><Step><Name>AM-SecFault</Name></Step></DefaultFaultRule>`

var secFaultPolicy = map[string]string{
	"apiproxy/policies/AM-SecFault.xml": `<AssignMessage name="AM-SecFault"><AssignTo createNew="false" type="response"/>
	  <Set><Headers><Header name="X-Fault-Name">{fault.name}</Header></Headers></Set></AssignMessage>`,
}

// echoBackend answers 200 with the Authorization header it received and
// counts its hits.
func echoBackend(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("X-Backend-Authorization", r.Header.Get("Authorization"))
		_, _ = io.WriteString(w, "backend ok")
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// flowFor is a conditional Flow running one policy for a path suffix.
func flowFor(suffix, policy string) string {
	return `<Flow name="` + policy + `"><Condition>proxy.pathsuffix = "` + suffix + `"</Condition>
		<Request><Step><Name>` + policy + `</Name></Step></Request></Flow>`
}

func securityProxy(t *testing.T, backendURL string) string {
	flows := flowFor("/ip", "AC-DenyLoopback") + flowFor("/xff", "AC-FirstXFF") + flowFor("/json", "JTP-1") +
		flowFor("/xml", "XTP-1") + flowFor("/regex", "REP-1") + flowFor("/basic", "BA-Decode") + flowFor("/encode", "BA-Encode")
	return writeFiles(t, merge(secFaultPolicy, map[string]string{
		"apiproxy/secure.xml": `<APIProxy name="secure"/>`,
		"apiproxy/proxies/default.xml": proxyXML("default", "/secure", secFaultRule+`<Flows>`+flows+`</Flows>
			<PostFlow><Response><Step><Condition>proxy.pathsuffix = "/basic"</Condition><Name>AM-User</Name></Step></Response></PostFlow>
			<RouteRule name="backend"><TargetEndpoint>default</TargetEndpoint></RouteRule>`),
		"apiproxy/targets/default.xml": targetXML("default", backendURL, ""),
		"apiproxy/policies/AC-DenyLoopback.xml": `<AccessControl name="AC-DenyLoopback"><IPRules noRuleMatchAction="ALLOW">
			<MatchRule action="DENY"><SourceAddress mask="8">127.0.0.0</SourceAddress><SourceAddress>::1</SourceAddress></MatchRule></IPRules></AccessControl>`,
		"apiproxy/policies/AC-FirstXFF.xml": `<AccessControl name="AC-FirstXFF"><IPRules noRuleMatchAction="DENY">
			<MatchRule action="ALLOW"><SourceAddress mask="8">10.0.0.0</SourceAddress></MatchRule></IPRules>
			<ValidateBasedOn>X_FORWARDED_FOR_FIRST_IP</ValidateBasedOn></AccessControl>`,
		"apiproxy/policies/JTP-1.xml": `<JSONThreatProtection name="JTP-1"><ArrayElementCount>3</ArrayElementCount>
			<ContainerDepth>3</ContainerDepth><ObjectEntryNameLength>8</ObjectEntryNameLength><StringValueLength>10</StringValueLength>
			<Source>request</Source></JSONThreatProtection>`,
		"apiproxy/policies/XTP-1.xml": `<XMLThreatProtection name="XTP-1"><Source>request</Source>
			<NameLimits><Element>8</Element></NameLimits><StructureLimits><NodeDepth>3</NodeDepth></StructureLimits>
			<ValueLimits><Text>10</Text></ValueLimits></XMLThreatProtection>`,
		"apiproxy/policies/REP-1.xml": `<RegularExpressionProtection name="REP-1"><Source>request</Source>
			<QueryParam name="q"><Pattern>(?i)(drop\s+table|;\s*delete)</Pattern></QueryParam></RegularExpressionProtection>`,
		"apiproxy/policies/BA-Decode.xml": `<BasicAuthentication name="BA-Decode"><Operation>Decode</Operation>
			<User ref="ba.user"/><Password ref="ba.pass"/><Source>request.header.Authorization</Source></BasicAuthentication>`,
		"apiproxy/policies/BA-Encode.xml": `<BasicAuthentication name="BA-Encode"><Operation>Encode</Operation>
			<User ref="request.queryparam.u"/><Password ref="request.queryparam.p"/>
			<AssignTo createNew="true">request.header.Authorization</AssignTo></BasicAuthentication>`,
		"apiproxy/policies/AM-User.xml": `<AssignMessage name="AM-User"><AssignTo createNew="false" type="response"/>
			<Set><Headers><Header name="X-User">{ba.user}</Header></Headers></Set></AssignMessage>`,
	}))
}

func secFaultJSON(faultstring, code string) string {
	return `{"fault":{"faultstring":"` + faultstring + `","detail":{"errorcode":"` + code + `"}}}`
}

func TestSecurityPolicyFaults(t *testing.T) {
	be, _ := echoBackend(t)
	_, srv := startEngine(t, Options{Env: "test"}, securityProxy(t, be.URL))
	basic := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	cases := []struct {
		name, method, path, body string
		hdr                      []string
		status                   int
		fault, wantBody          string
	}{
		{"blocked IP", "GET", "/ip", "", nil, 403, "IPDeniedAccess",
			secFaultJSON("Access Denied for client ip : 127.0.0.1", "accesscontrol.IPDeniedAccess")},
		{"X-Forwarded-For first IP allowed", "GET", "/xff", "", []string{"X-Forwarded-For", "10.1.2.3, 8.8.8.8"}, 200, "", "backend ok"},
		{"X-Forwarded-For first IP denied", "GET", "/xff", "", []string{"X-Forwarded-For", "8.8.8.8, 10.1.2.3"}, 403, "IPDeniedAccess",
			secFaultJSON("Access Denied for client ip : 8.8.8.8", "accesscontrol.IPDeniedAccess")},
		{"JSON within limits", "POST", "/json", `{"a":[1,2,3]}`, []string{"Content-Type", "application/json"}, 200, "", "backend ok"},
		{"oversized JSON array", "POST", "/json", "{\"a\":\n[1,2,3,4]}", []string{"Content-Type", "application/json"}, 400, "ExecutionFailed",
			secFaultJSON("JSONThreatProtection[JTP-1]: Execution failed. reason: JSONThreatProtection[JTP-1]: Exceeded array element count at line 2",
				"steps.jsonthreatprotection.ExecutionFailed")},
		{"JSON too deep", "POST", "/json", `[[[[1]]]]`, []string{"Content-Type", "application/json"}, 400, "ExecutionFailed",
			secFaultJSON("JSONThreatProtection[JTP-1]: Execution failed. reason: JSONThreatProtection[JTP-1]: Exceeded container depth at line 1",
				"steps.jsonthreatprotection.ExecutionFailed")},
		{"long JSON string", "POST", "/json", `{"a":"0123456789ab"}`, []string{"Content-Type", "application/json"}, 400, "ExecutionFailed",
			secFaultJSON("JSONThreatProtection[JTP-1]: Execution failed. reason: JSONThreatProtection[JTP-1]: Exceeded string value length at line 1",
				"steps.jsonthreatprotection.ExecutionFailed")},
		{"JSON rules skip other content", "POST", "/json", `[1,2,3,4,5]`, []string{"Content-Type", "text/plain"}, 200, "", "backend ok"},
		{"XML too deep", "POST", "/xml", "<a>\n<b><c><d/></c></b></a>", []string{"Content-Type", "application/xml"}, 400, "ExecutionFailed",
			secFaultJSON("XMLThreatProtection stepDefinition XTP-1: Execution failed. reason: XMLThreatProtection stepDefinition XTP-1: Node depth exceeded (3) at line 2(possibly around char 11)",
				"steps.xmlthreatprotection.ExecutionFailed")},
		{"XML long text", "POST", "/xml", "<a>0123456789ab</a>", []string{"Content-Type", "text/xml"}, 400, "ExecutionFailed",
			secFaultJSON("XMLThreatProtection stepDefinition XTP-1: Execution failed. reason: XMLThreatProtection stepDefinition XTP-1: Text length exceeded (10) at line 1(possibly around char 16)",
				"steps.xmlthreatprotection.ExecutionFailed")},
		{"XML within limits", "POST", "/xml", "<a><b>ok</b></a>", []string{"Content-Type", "text/xml"}, 200, "", "backend ok"},
		{"regex threat in a query parameter", "GET", "/regex?q=x%3B%20DELETE%20FROM%20t", "", nil, 400, "ThreatDetected",
			secFaultJSON(`Regular Expression Threat Detected in REP-1: regex: (?i)(drop\\s+table|;\\s*delete) input: x; DELETE FROM t`,
				"steps.regularexpressionprotection.ThreatDetected")},
		{"regex clean", "GET", "/regex?q=tables", "", nil, 200, "", "backend ok"},
		{"basic auth missing header", "GET", "/basic", "", nil, 500, "UnresolvedVariable",
			secFaultJSON("Unresolved variable : request.header.Authorization", "steps.basicauthentication.UnresolvedVariable")},
		{"basic auth malformed header", "GET", "/basic", "", []string{"Authorization", "Bearer abc"}, 500, "InvalidBasicAuthenticationSource",
			secFaultJSON("Source variable : request.header.Authorization for basic authentication decode policy is not valid",
				"steps.basicauthentication.InvalidBasicAuthenticationSource")},
		{"basic auth decoded", "GET", "/basic", "", []string{"Authorization", basic("ada:pw")}, 200, "", "backend ok"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, hdr, body := do(t, c.method, srv.URL+"/secure"+c.path, c.body, c.hdr...)
			if status != c.status || hdr.Get("X-Fault-Name") != c.fault || body != c.wantBody {
				t.Errorf("%s %s = %d fault %q body %s\nwant %d fault %q body %s", c.method, c.path, status, hdr.Get("X-Fault-Name"), body, c.status, c.fault, c.wantBody)
			}
		})
	}

	t.Run("decoded user reaches the response flow", func(t *testing.T) {
		_, hdr, _ := do(t, "GET", srv.URL+"/secure/basic", "", "Authorization", basic("ada:pw"))
		if got := hdr.Get("X-User"); got != "ada" {
			t.Errorf("X-User = %q, want ada", got)
		}
	})
	t.Run("encoded header reaches the target", func(t *testing.T) {
		_, hdr, _ := do(t, "GET", srv.URL+"/secure/encode?u=ada&p=s3cret", "")
		if got, want := hdr.Get("X-Backend-Authorization"), basic("ada:s3cret"); got != want {
			t.Errorf("backend saw Authorization %q, want %q", got, want)
		}
	})
}

func corsProxy(t *testing.T, backendURL string) string {
	return writeFiles(t, map[string]string{
		"apiproxy/web.xml": `<APIProxy name="web"/>`,
		"apiproxy/proxies/default.xml": proxyXML("default", "/web", `<PreFlow><Request><Step><Name>CORS-1</Name></Step></Request></PreFlow>
			<RouteRule name="none"><Condition>proxy.pathsuffix = "/local"</Condition></RouteRule>
			<RouteRule name="backend"><TargetEndpoint>default</TargetEndpoint></RouteRule>`),
		"apiproxy/targets/default.xml": targetXML("default", backendURL, ""),
		"apiproxy/policies/CORS-1.xml": `<CORS name="CORS-1">
			<AllowOrigins>https://app.example.com, {request.header.x-extra-origin}</AllowOrigins>
			<AllowMethods>GET, POST</AllowMethods><AllowHeaders>content-type, x-api-key</AllowHeaders>
			<ExposeHeaders>X-Total</ExposeHeaders><MaxAge>600</MaxAge>
			<AllowCredentials>false</AllowCredentials><GeneratePreflightResponse>true</GeneratePreflightResponse>
			<IgnoreUnresolvedVariables>true</IgnoreUnresolvedVariables></CORS>`,
	})
}

func TestCORSEndToEnd(t *testing.T) {
	be, hits := echoBackend(t)
	_, srv := startEngine(t, Options{Env: "test"}, corsProxy(t, be.URL))

	t.Run("preflight answered without the target", func(t *testing.T) {
		before := hits.Load()
		status, hdr, body := do(t, "OPTIONS", srv.URL+"/web/items", "", "Origin", "https://app.example.com",
			"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type")
		if status != 200 || body != "" || hits.Load() != before {
			t.Fatalf("preflight = %d %q, backend hits %d, want 200, empty, none", status, body, hits.Load()-before)
		}
		for k, want := range map[string]string{
			"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Methods": "GET, POST",
			"Access-Control-Allow-Headers": "content-type, x-api-key", "Access-Control-Max-Age": "600", "Vary": "Origin",
		} {
			if got := hdr.Get(k); got != want {
				t.Errorf("preflight %s = %q, want %q", k, got, want)
			}
		}
	})
	t.Run("preflight from another origin gets no CORS headers", func(t *testing.T) {
		status, hdr, _ := do(t, "OPTIONS", srv.URL+"/web/items", "", "Origin", "https://evil.example.com", "Access-Control-Request-Method", "POST")
		if status != 200 || hdr.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight = %d, Allow-Origin %q, want 200 and none", status, hdr.Get("Access-Control-Allow-Origin"))
		}
	})
	t.Run("origin from a template, no target", func(t *testing.T) {
		_, hdr, _ := do(t, "GET", srv.URL+"/web/local", "", "Origin", "https://b.example.com", "X-Extra-Origin", "https://b.example.com")
		if got := hdr.Get("Access-Control-Allow-Origin"); got != "https://b.example.com" || hdr.Get("Access-Control-Expose-Headers") != "X-Total" {
			t.Errorf("Allow-Origin %q Expose %q, want the origin and X-Total", got, hdr.Get("Access-Control-Expose-Headers"))
		}
	})
	t.Run("non-matching origin, no headers", func(t *testing.T) {
		status, hdr, body := do(t, "GET", srv.URL+"/web/items", "", "Origin", "https://evil.example.com")
		if status != 200 || body != "backend ok" || hdr.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("GET = %d %q Allow-Origin %q, want 200 from the backend and none", status, body, hdr.Get("Access-Control-Allow-Origin"))
		}
	})
	t.Run("headers on the target's response", func(t *testing.T) {
		status, hdr, body := do(t, "GET", srv.URL+"/web/items", "", "Origin", "https://app.example.com")
		if status != 200 || body != "backend ok" {
			t.Fatalf("GET = %d %q, want 200 from the backend", status, body)
		}
		got := hdr.Get("Access-Control-Allow-Origin")
		if got != "https://app.example.com" || hdr.Get("Access-Control-Expose-Headers") != "X-Total" {
			t.Errorf("Allow-Origin %q Expose %q, want the origin and X-Total", got, hdr.Get("Access-Control-Expose-Headers"))
		}
	})
}
