package flow

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy"
	"github.com/apigo/apigo/policy/httptarget"
)

// jsPolicy is a Javascript policy file running jsc://<file>.
func jsPolicy(name, attrs, file string) string {
	return `<Javascript name="` + name + `" ` + attrs + `><ResourceURL>jsc://` + file + `</ResourceURL></Javascript>`
}

// jsOptions routes backend.test to be, for targets and httpClient alike.
func jsOptions(be *httptest.Server) Options {
	return Options{
		MapURL: []URLMap{{From: "http://backend.test", To: be.URL}},
		Policy: policy.Options{Target: httptarget.Options{MapURL: []httptarget.URLMap{{From: "http://backend.test", To: be.URL}}}},
	}
}

func TestJavascriptRewritesJSON(t *testing.T) {
	be := backend(t)
	dir := writeFiles(t, map[string]string{
		"apiproxy/proxies/default.xml": proxyXML("default", "/js", `
			<PreFlow><Request><Step><Name>JS-Read</Name></Step></Request>
			<Response><Step><Name>JS-Rewrite</Name></Step></Response></PreFlow>
			<RouteRule name="r"><TargetEndpoint>default</TargetEndpoint></RouteRule>`),
		"apiproxy/targets/default.xml":     targetXML("default", "http://backend.test", ""),
		"apiproxy/policies/JS-Read.xml":    jsPolicy("JS-Read", `timeLimit="500"`, "read.js"),
		"apiproxy/policies/JS-Rewrite.xml": jsPolicy("JS-Rewrite", `timeLimit="500"`, "rewrite.js"),
		"apiproxy/resources/jsc/read.js":   `var body = JSON.parse(request.content); context.setVariable("order.qty", body.qty); context.session.customer = body.customer;`,
		"apiproxy/resources/jsc/rewrite.js": `
var out = {backend: response.content, qty: context.getVariable("order.qty") * 2, customer: context.session.customer, flow: context.flow};
response.content = JSON.stringify(out);
response.headers["Content-Type"] = "application/json";
response.status.code = 201;`,
	})
	_, srv := startEngine(t, jsOptions(be), dir)
	status, hdr, body := do(t, "POST", srv.URL+"/js/orders", `{"qty": 21, "customer": {"name": "ada"}}`, "Content-Type", "application/json")
	if status != 201 || hdr.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, content type %q; body %s", status, hdr.Get("Content-Type"), body)
	}
	var got struct {
		Backend  string
		Qty      int
		Customer struct{ Name string }
		Flow     string
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	if got.Backend != "backend POST /orders" || got.Qty != 42 || got.Customer.Name != "ada" || got.Flow != "PROXY_RESP_FLOW" {
		t.Errorf("rewritten body = %+v", got)
	}
}

func TestJavascriptDynamicRouting(t *testing.T) {
	be := backend(t)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "other "+r.URL.RequestURI())
	}))
	defer other.Close()
	dir := writeFiles(t, map[string]string{
		"apiproxy/proxies/default.xml": proxyXML("default", "/route", `
			<RouteRule name="r"><TargetEndpoint>default</TargetEndpoint></RouteRule>`),
		"apiproxy/targets/default.xml": targetXML("default", "http://backend.test/base", `
			<PreFlow><Request><Step><Name>JS-Route</Name></Step></Request></PreFlow>`),
		"apiproxy/policies/JS-Route.xml": jsPolicy("JS-Route", `timeLimit="500"`, "route.js"),
		"apiproxy/resources/jsc/route.js": `
if (context.flow == "TARGET_REQ_FLOW" && request.queryParams["dest"] == "other") {
  context.setVariable("target.copy.pathsuffix", false);
  context.setVariable("target.url", "` + other.URL + `/fixed");
}`,
	})
	_, srv := startEngine(t, jsOptions(be), dir)
	cases := []struct{ path, want string }{
		{"/route/a/b?dest=other", "other /fixed?dest=other"},
		{"/route/a/b?dest=main", "backend GET /base/a/b?dest=main"},
	}
	for _, c := range cases {
		status, _, body := do(t, "GET", srv.URL+c.path, "")
		if status != 200 || body != c.want {
			t.Errorf("GET %s = %d %q, want 200 %q", c.path, status, body, c.want)
		}
	}
}

func TestJavascriptHTTPClientE2E(t *testing.T) {
	be := backend(t)
	dir := writeFiles(t, map[string]string{
		"apiproxy/proxies/default.xml": proxyXML("default", "/call", `
			<PreFlow><Request><Step><Name>JS-Call</Name></Step><Step><Name>RF</Name></Step></Request></PreFlow>
			<RouteRule name="null"/>`),
		"apiproxy/policies/JS-Call.xml": jsPolicy("JS-Call", `timeLimit="2000"`, "call.js"),
		"apiproxy/policies/RF.xml": `<AssignMessage name="RF"><AssignTo createNew="false" type="response"/>
			<Set><Payload contentType="text/plain">{lookup}</Payload></Set></AssignMessage>`,
		"apiproxy/resources/jsc/call.js": `
var ex = httpClient.send(new Request("http://backend.test/lookup?id=" + request.queryParams.id, "GET"));
ex.waitForComplete();
if (ex.isSuccess()) { context.setVariable("lookup", ex.getResponse().content + " " + ex.getResponse().status.code); }
else { context.setVariable("lookup", "error " + ex.getError()); }`,
	})
	_, srv := startEngine(t, jsOptions(be), dir)
	status, _, body := do(t, "GET", srv.URL+"/call?id=7", "")
	if status != 200 || body != "backend GET /lookup?id=7 200" {
		t.Errorf("GET /call = %d %q, want 200 %q", status, body, "backend GET /lookup?id=7 200")
	}
}

func TestJavascriptTimeoutKeepsServing(t *testing.T) {
	be := backend(t)
	dir := writeFiles(t, map[string]string{
		"apiproxy/proxies/default.xml": proxyXML("default", "/loop", `
			<PreFlow><Request><Step><Name>JS-Loop</Name><Condition>request.queryparam.loop = "1"</Condition></Step></Request></PreFlow>
			<RouteRule name="r"><TargetEndpoint>default</TargetEndpoint></RouteRule>`),
		"apiproxy/targets/default.xml":   targetXML("default", "http://backend.test", ""),
		"apiproxy/policies/JS-Loop.xml":  jsPolicy("JS-Loop", `timeLimit="200"`, "loop.js"),
		"apiproxy/resources/jsc/loop.js": `var n = 0; while (true) { n++; }`,
	})
	_, srv := startEngine(t, jsOptions(be), dir)
	start := time.Now()
	status, _, body := do(t, "GET", srv.URL+"/loop/x?loop=1", "")
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("timed-out request took %v", d)
	}
	fs, code := faultOf(t, body)
	if status != 500 || code != "steps.javascript.ScriptExecutionFailed" ||
		fs != "Execution of JS-Loop failed with error: Javascript runtime exceeded limit of 200ms" {
		t.Errorf("looping request = %d %q %q", status, code, fs)
	}
	status, _, body = do(t, "GET", srv.URL+"/loop/x", "")
	if status != 200 || body != "backend GET /x" {
		t.Errorf("next request = %d %q, want 200 %q", status, body, "backend GET /x")
	}
}

func TestJavascriptRuntimeErrorFault(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"apiproxy/proxies/default.xml": proxyXML("default", "/err", `
			<PreFlow><Request><Step><Name>JS-Bad</Name></Step></Request></PreFlow><RouteRule name="null"/>`),
		"apiproxy/policies/JS-Bad.xml":  jsPolicy("JS-Bad", `timeLimit="200"`, "bad.js"),
		"apiproxy/resources/jsc/bad.js": "var x = context.getVariable('missing');\nvar n = x.length;",
	})
	_, srv := startEngine(t, Options{}, dir)
	status, _, body := do(t, "GET", srv.URL+"/err", "")
	fs, code := faultOf(t, body)
	want := `Execution of JS-Bad failed with error: Javascript runtime error: "TypeError: Cannot read property 'length' of undefined. (bad.js:2)"`
	if status != 500 || code != "steps.javascript.ScriptExecutionFailed" || fs != want {
		t.Errorf("GET /err = %d %q %q, want 500 steps.javascript.ScriptExecutionFailed %q", status, code, fs, want)
	}
}

func TestJavascriptConcurrentNoCrossTalk(t *testing.T) {
	be := backend(t)
	dir := writeFiles(t, map[string]string{
		"apiproxy/proxies/default.xml": proxyXML("default", "/cc", `
			<PreFlow><Request><Step><Name>JS-Tag</Name></Step></Request>
			<Response><Step><Name>JS-Echo</Name></Step></Response></PreFlow>
			<RouteRule name="r"><TargetEndpoint>default</TargetEndpoint></RouteRule>`),
		"apiproxy/targets/default.xml":  targetXML("default", "http://backend.test", ""),
		"apiproxy/policies/JS-Tag.xml":  jsPolicy("JS-Tag", `timeLimit="1000"`, "tag.js"),
		"apiproxy/policies/JS-Echo.xml": jsPolicy("JS-Echo", `timeLimit="1000"`, "echo.js"),
		// tag.js leaves a global behind; echo.js must never see another
		// request's id, neither through globals nor through the session.
		"apiproxy/resources/jsc/tag.js": `var prior = typeof mine; mine = request.queryParams.id; context.session.id = mine;
context.setVariable("tag.prior", prior);`,
		"apiproxy/resources/jsc/echo.js": `response.content = context.session.id + "/" + request.queryParams.id + "/" + context.getVariable("tag.prior") + "/" + typeof mine;`,
	})
	_, srv := startEngine(t, jsOptions(be), dir)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprint(i)
			status, _, body := do(t, "GET", srv.URL+"/cc?id="+id, "")
			want := id + "/" + id + "/undefined/undefined"
			if status != 200 || body != want {
				t.Errorf("request %s = %d %q, want 200 %q", id, status, body, want)
			}
		}()
	}
	wg.Wait()
}

func TestJavascriptBuildErrorPositioned(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"apiproxy/proxies/default.xml": proxyXML("default", "/b", `
			<PreFlow><Request><Step><Name>JS-Missing</Name></Step></Request></PreFlow><RouteRule name="null"/>`),
		"apiproxy/policies/JS-Missing.xml": "<Javascript name=\"JS-Missing\">\n  <ResourceURL>jsc://nope.js</ResourceURL>\n</Javascript>",
	})
	set, ps := bundle.Load([]string{dir}, bundle.Options{})
	if ps.HasErrors() {
		t.Fatalf("load: %s", ps.String())
	}
	eng, bps := Build(set, Options{})
	if eng != nil {
		t.Fatal("Build succeeded with a missing script")
	}
	if got := bps.String(); !strings.Contains(got, "JS-Missing.xml:2:") || !strings.Contains(got, "jsc://nope.js not found") {
		t.Errorf("problems = %q, want the missing resource at JS-Missing.xml:2", got)
	}
}
