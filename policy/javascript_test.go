package policy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
	"github.com/apigo/apigo/policy/httptarget"
)

// jsXML is a <Javascript> policy with the given attributes and children.
func jsXML(name, attrs, inner string) string {
	return `<Javascript name="` + name + `" ` + attrs + `>` + inner + `</Javascript>`
}

// inlineJS is a policy whose inline <Source> is script.
func inlineJS(script string) string {
	return jsXML("JS-Test", `timeLimit="2000"`, `<Source><![CDATA[`+script+`]]></Source>`)
}

// buildJS builds a Javascript policy with the given jsc:// resources.
func buildJS(t testing.TB, src string, resources map[string]string, opts *Options) (Policy, *bundle.Problems) {
	t.Helper()
	b := &bundle.Bundle{Resources: map[string][]byte{}}
	for k, v := range resources {
		b.Resources[k] = []byte(v)
	}
	return buildXML(t, src, &BuildContext{Bundle: b, Options: opts})
}

func mustBuildJS(t testing.TB, src string, resources map[string]string) Policy {
	t.Helper()
	pol, ps := buildJS(t, src, resources, nil)
	if ps.HasErrors() || pol == nil {
		t.Fatalf("build failed:\n%s", ps.String())
	}
	return pol
}

// proxyResponseExchange is sampleExchange in a proxy response flow with a
// JSON response.
func responseExchange() *exchange.Exchange {
	x := sampleExchange()
	rsp := exchange.NewResponse()
	rsp.Header.Set("Content-Type", "application/json")
	rsp.Header.Add("Cache-Control", "public, max-age=60")
	rsp.Body = []byte(`{"items":[1,2,3]}`)
	x.SetResponse(rsp)
	x.SetCurrent("response")
	return x
}

func TestJavascriptObjectModel(t *testing.T) {
	cases := []struct {
		name   string
		script string
		x      func() *exchange.Exchange
		want   any // the value of the variable "out" afterwards
	}{
		{"getVariable string", `context.setVariable("out", context.getVariable("user.name"))`, sampleExchange, "ada"},
		{"getVariable unset is null", `context.setVariable("out", context.getVariable("nope") === null)`, sampleExchange, true},
		{"getVariable int is number", `context.setVariable("out", typeof context.getVariable("n") + ":" + (context.getVariable("n") + 1))`,
			func() *exchange.Exchange { x := sampleExchange(); x.Set("n", 41); return x }, "number:42"},
		{"getVariable bool is boolean", `context.setVariable("out", context.getVariable("b") === true)`,
			func() *exchange.Exchange { x := sampleExchange(); x.Set("b", true); return x }, true},
		{"setVariable integral number is int", `context.setVariable("out", 6 * 7)`, sampleExchange, 42},
		{"setVariable fraction is float", `context.setVariable("out", 1 / 4)`, sampleExchange, 0.25},
		{"setVariable boolean", `context.setVariable("out", 1 > 0)`, sampleExchange, true},
		{"setVariable null", `context.setVariable("out", "x"); context.setVariable("out", null)`, sampleExchange, nil},
		{"setVariable message property", `context.setVariable("request.header.X-New", "v"); context.setVariable("out", request.headers["x-new"] + "")`, sampleExchange, "v"},
		{"removeVariable", `context.removeVariable("user.name"); context.setVariable("out", context.getVariable("user.name"))`, sampleExchange, nil},
		{"read-only variable throws", `try { context.setVariable("proxy.basepath", "/x"); context.setVariable("out", "no") } catch (e) { context.setVariable("out", e.name) }`, sampleExchange, "Error"},
		{"flow proxy request", `context.setVariable("out", context.flow)`, sampleExchange, "PROXY_REQ_FLOW"},
		{"flow target request", `context.setVariable("out", context.flow)`,
			func() *exchange.Exchange { x := sampleExchange(); x.SetSystem("target.name", "default"); return x }, "TARGET_REQ_FLOW"},
		{"flow proxy response without target", `context.setVariable("out", context.flow)`, responseExchange, "PROXY_RESP_FLOW"},
		{"header first value", `context.setVariable("out", response.headers["cache-control"] + "|" + response.headers["Cache-Control"][1] + "|" + response.headers["Cache-Control"].length())`,
			responseExchange, "public|max-age=60|2"},
		{"header string methods", `context.setVariable("out", request.headers["Content-Type"].indexOf("json") > 0 && request.headers["content-type"] == "application/json")`, sampleExchange, true},
		{"header missing is undefined", `context.setVariable("out", typeof request.headers["X-None"])`, sampleExchange, "undefined"},
		{"header set", `request.headers["X-Set"] = "1"; request.headers["X-Multi"] = ["a", "b"]; context.setVariable("out", context.getVariable("request.header.X-Multi.values.count") + context.getVariable("request.header.x-set"))`, sampleExchange, "21"},
		{"header delete", `delete request.headers["X-Trace"]; context.setVariable("out", context.getVariable("request.header.X-Trace"))`, sampleExchange, nil},
		{"header names", `var n = []; for (var h in request.headers) n.push(h); context.setVariable("out", n.sort().join(","))`, sampleExchange, "Accept,Content-Type,X-Trace"},
		{"queryParams", `context.setVariable("out", request.queryParams.a + request.queryParams["a"][1] + request.queryParams.a.length() + request.queryParams.term)`, sampleExchange, "122shoes"},
		{"queryParams set", `request.queryParams.q = "x y"; delete request.queryParams.a; context.setVariable("out", context.getVariable("request.querystring"))`, sampleExchange, "term=shoes&q=x+y"},
		{"content read", `context.setVariable("out", JSON.parse(request.content).id)`, sampleExchange, 7},
		{"content write", `response.content = JSON.stringify({n: response.content.asJSON.items.length}); context.setVariable("out", context.getVariable("response.content"))`, responseExchange, `{"n":3}`},
		{"body asJSON", `context.setVariable("out", request.body.asJSON.id)`, sampleExchange, 7},
		{"body asForm", `context.setVariable("out", request.body.asForm.b + "," + request.body.asForm.a[1])`,
			func() *exchange.Exchange {
				x := sampleExchange()
				x.Request().Body = []byte("a=1&a=2&b=x")
				return x
			}, "x,2"},
		{"method and path", `request.method = "put"; context.setVariable("out", request.method + " " + request.path + " " + context.getVariable("request.verb"))`, sampleExchange, "PUT /v1/items PUT"},
		{"url proxy", `context.setVariable("out", request.url)`,
			func() *exchange.Exchange {
				x := sampleExchange()
				x.SetSystem("proxy.url", "http://localhost:8080/v1/items?a=1")
				return x
			}, "http://localhost:8080/v1/items?a=1"},
		{"url set routes", `context.targetRequest.url = "http://other.test/x"; context.setVariable("out", context.getVariable("target.url"))`,
			func() *exchange.Exchange { x := sampleExchange(); x.SetSystem("target.name", "t"); return x }, "http://other.test/x"},
		{"status read", `context.setVariable("out", response.status.code + " " + response.status.message + " " + (response.status == 200))`, responseExchange, "200 OK true"},
		{"status set code", `response.status.code = 404; context.setVariable("out", context.getVariable("response.status.code") + context.getVariable("response.reason.phrase"))`, responseExchange, "404Not Found"},
		{"status set number", `response.status = 201; context.setVariable("out", context.getVariable("response.status.code"))`, responseExchange, 201},
		{"response created in request flow", `response.content = "early"; context.setVariable("out", context.getVariable("response.content"))`, sampleExchange, "early"},
		{"context message objects", `context.setVariable("out", context.proxyRequest.method + context.targetRequest.path + context.proxyResponse.status.code)`, responseExchange, "POST/v1/items200"},
		{"properties", `context.setVariable("out", "none:" + typeof properties.none)`, sampleExchange, "none:undefined"},
		{"crypto sha256", `var h = crypto.getSHA256(); h.update("abc"); context.setVariable("out", h.digest())`, sampleExchange,
			"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"crypto md5 digest64", `var h = crypto.getMD5(); h.update("a"); h.update("bc"); context.setVariable("out", h.digest64())`, sampleExchange, "kAFQmDzST7DWlj99KOF/cg=="},
		{"crypto sha1", `var h = crypto.getSHA1(); h.update("abc"); context.setVariable("out", h.digest())`, sampleExchange, "a9993e364706816aba3e25717850c26c9cd0d89d"},
		{"crypto sha512", `var h = crypto.getSHA512(); h.update(""); context.setVariable("out", h.digest().substring(0, 16))`, sampleExchange, "cf83e1357eefb8bd"},
		{"crypto getHash", `var h = crypto.getHash("SHA-1"); h.update("abc"); context.setVariable("out", h.digest().substring(0, 8))`, sampleExchange, "a9993e36"},
		{"crypto dateFormat", `context.setVariable("out", crypto.dateFormat("yyyy-MM-dd'T'HH:mm:ss.SSSZ", "UTC", 1700000000123))`, sampleExchange, "2023-11-14T22:13:20.123+0000"},
		{"print", `print("hello", 42); context.setVariable("out", "printed")`, sampleExchange, "printed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pol := mustBuildJS(t, inlineJS(c.script), nil)
			x := c.x()
			if err := execute(t, pol, x); err != nil {
				t.Fatalf("Execute(%q) = %v", c.script, err)
			}
			if got := x.Get("out"); got != c.want {
				t.Errorf("Execute(%q): out = %#v, want %#v", c.script, got, c.want)
			}
		})
	}
}

// printRecorder captures what scripts print.
type printRecorder struct{ lines []string }

func (r *printRecorder) VarSet(string, any, error) {}
func (r *printRecorder) Print(policy, text string) { r.lines = append(r.lines, policy+": "+text) }

func TestJavascriptPrintAndProperties(t *testing.T) {
	pol := mustBuildJS(t, jsXML("JS-P", "", `<Properties><Property name="region">eu</Property></Properties>
		<IncludeURL>jsc://lib.js</IncludeURL><ResourceURL>jsc://main.js</ResourceURL>`), map[string]string{
		"jsc://lib.js":  `function greet(n) { return "hi " + n + " from " + properties.region; }`,
		"jsc://main.js": `print(greet("ada")); context.setVariable("out", greet("bob"));`,
	})
	x := sampleExchange()
	rec := &printRecorder{}
	x.Recorder = rec
	if err := execute(t, pol, x); err != nil {
		t.Fatal(err)
	}
	if got := x.Get("out"); got != "hi bob from eu" {
		t.Errorf("out = %v, want %q", got, "hi bob from eu")
	}
	if want := []string{"JS-P: hi ada from eu"}; fmt.Sprint(rec.lines) != fmt.Sprint(want) {
		t.Errorf("printed %q, want %q", rec.lines, want)
	}
}

func TestJavascriptSessionSharedAcrossSteps(t *testing.T) {
	set := mustBuildJS(t, inlineJS(`var o = {count: 1}; context.session.obj = o; o.count = 2; context.session.n = 5;`), nil)
	get := mustBuildJS(t, inlineJS(`context.setVariable("out", context.session.obj.count + context.session.n); context.session.obj.count++;
		context.setVariable("again", context.session.obj.count)`), nil)
	x := sampleExchange()
	for _, p := range []Policy{set, get} {
		if err := execute(t, p, x); err != nil {
			t.Fatal(err)
		}
	}
	if got := x.Get("out"); got != 7 {
		t.Errorf("session read = %v, want 7", got)
	}
	if got := x.Get("again"); got != 3 {
		t.Errorf("session update = %v, want 3", got)
	}
	// Another exchange has its own session.
	other := sampleExchange()
	if err := execute(t, mustBuildJS(t, inlineJS(`context.setVariable("out", typeof context.session.obj)`), nil), other); err != nil {
		t.Fatal(err)
	}
	if got := other.Get("out"); got != "undefined" {
		t.Errorf("other exchange sees session value: typeof = %v", got)
	}
}

func faultOfJS(t *testing.T, err error) *Fault {
	t.Helper()
	var f *Fault
	if !errors.As(err, &f) {
		t.Fatalf("error %v is not a *Fault", err)
	}
	return f
}

func TestJavascriptErrors(t *testing.T) {
	cases := []struct {
		name, script, want string
	}{
		{"thrown Error", "var a = 1;\nthrow new Error(\"boom\");", `Execution of JS-Test failed with error: Javascript runtime error: "Error: boom. (JS-Test.js:2)"`},
		{"TypeError", "var a;\n\na.b.c = 1;", `Execution of JS-Test failed with error: Javascript runtime error: "TypeError: Cannot read property 'b' of undefined. (JS-Test.js:3)"`},
		{"ReferenceError", "nope();", `Execution of JS-Test failed with error: Javascript runtime error: "ReferenceError: nope is not defined. (JS-Test.js:1)"`},
		{"RangeError", "\nnew Array(-1);", `Execution of JS-Test failed with error: Javascript runtime error: "RangeError: Invalid array length. (JS-Test.js:2)"`},
		{"thrown string", "throw 'bad input';", `Execution of JS-Test failed with error: Javascript runtime error: "bad input. (JS-Test.js:1)"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pol := mustBuildJS(t, inlineJS(c.script), nil)
			f := faultOfJS(t, execute(t, pol, sampleExchange()))
			if f.FaultString != c.want {
				t.Errorf("faultstring = %q, want %q", f.FaultString, c.want)
			}
			if f.Name != "ScriptExecutionFailed" || f.Code != "steps.javascript.ScriptExecutionFailed" || f.HTTPStatus() != 500 {
				t.Errorf("fault = %s %s %d, want ScriptExecutionFailed steps.javascript.ScriptExecutionFailed 500", f.Name, f.Code, f.HTTPStatus())
			}
		})
	}
}

func TestJavascriptTimeLimit(t *testing.T) {
	pol := mustBuildJS(t, jsXML("JS-Loop", `timeLimit="100"`, `<Source>while (true) {}</Source>`), nil)
	start := time.Now()
	f := faultOfJS(t, execute(t, pol, sampleExchange()))
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("timeout took %v", d)
	}
	if want := "Execution of JS-Loop failed with error: Javascript runtime exceeded limit of 100ms"; f.FaultString != want {
		t.Errorf("faultstring = %q, want %q", f.FaultString, want)
	}
	// The pool still serves: a normal script runs right after.
	ok := mustBuildJS(t, inlineJS(`context.setVariable("out", "fine")`), nil)
	x := sampleExchange()
	if err := execute(t, ok, x); err != nil || x.Get("out") != "fine" {
		t.Errorf("after a timeout: err %v, out %v", err, x.Get("out"))
	}
}

func TestJavascriptContextCancel(t *testing.T) {
	pol := mustBuildJS(t, jsXML("JS-Loop", `timeLimit="60000"`, `<Source>for (;;) {}</Source>`), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := pol.Execute(ctx, sampleExchange())
	if f := faultOfJS(t, err); !strings.Contains(f.FaultString, "interrupted") {
		t.Errorf("faultstring = %q, want an interruption", f.FaultString)
	}
}

func TestJavascriptNoCrossTalk(t *testing.T) {
	// Globals, implicit globals and top-level lexical declarations must not
	// survive into the next run.
	scripts := []string{
		`var seen = typeof counter; var counter = 1; leaked = (typeof leaked) + "1"; context.setVariable("out", seen + "," + leaked);`,
		`const k = context.getVariable("id"); let seen = typeof globalThis.mark; globalThis.mark = k; context.setVariable("out", seen + "," + k);`,
		`String.prototype.shout = String.prototype.shout || function () { return "first"; }; context.setVariable("out", typeof "".hasOwnProperty("shout") + ":" + ("x".shout === undefined));`,
	}
	want := []string{"undefined,undefined1", "undefined,", ""}
	for i, s := range scripts {
		pol := mustBuildJS(t, inlineJS(s), nil)
		var wg sync.WaitGroup
		outs := make([]any, 40)
		for j := range outs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				x := sampleExchange()
				x.Set("id", fmt.Sprint(j))
				if err := pol.Execute(context.Background(), x); err != nil {
					t.Errorf("run %d: %v", j, err)
					return
				}
				outs[j] = x.Get("out")
			}()
		}
		wg.Wait()
		for j, got := range outs {
			exp := want[i]
			if i == 1 {
				exp = "undefined," + fmt.Sprint(j)
			}
			if i == 2 {
				exp = "boolean:false"
			}
			if got != exp {
				t.Errorf("script %d run %d: out = %v, want %v", i, j, got, exp)
			}
		}
	}
}

func TestJavascriptHTTPClient(t *testing.T) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Seen", r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("X-Key"))
		if r.URL.Path == "/missing" {
			w.WriteHeader(404)
		}
		fmt.Fprint(w, `{"ok":true}`)
	}))
	defer be.Close()
	opts := &Options{Target: httptarget.Options{MapURL: []httptarget.URLMap{{From: "http://backend.test", To: be.URL}}}}
	cases := []struct{ name, script, want string }{
		{"get", `var ex = httpClient.get("http://backend.test/a?x=1"); ex.waitForComplete();
			var r = ex.getResponse(); context.setVariable("out", ex.isSuccess() + " " + ex.isError() + " " + r.status.code + " " + r.headers["X-Seen"] + " " + r.content.asJSON.ok)`,
			"true false 200 GET /a?x=1 true"},
		{"send Request", `var req = new Request("http://backend.test/b", "POST", {"X-Key": "k1"}, "payload");
			var ex = httpClient.send(req); ex.waitForComplete(); context.setVariable("out", ex.isComplete() + " " + ex.getResponse().headers["X-Seen"])`,
			"true POST /b k1"},
		{"404 is not an error", `var ex = httpClient.get("http://backend.test/missing"); ex.waitForComplete();
			context.setVariable("out", ex.isError() + " " + ex.getResponse().status.code)`, "false 404"},
		{"connection error", `var ex = httpClient.get("` + closedServerURL(t) + `"); ex.waitForComplete();
			context.setVariable("out", ex.isError() + " " + ex.isSuccess() + " " + (ex.getResponse() === undefined) + " " + (ex.getError().length > 0))`, "true false true true"},
		{"callback", `httpClient.get("http://backend.test/cb", function (rsp, err) { context.setVariable("out", "cb " + rsp.status.code + " " + err); });`,
			"cb 200 undefined"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pol, ps := buildJS(t, inlineJS(c.script), nil, opts)
			if ps.HasErrors() {
				t.Fatal(ps.String())
			}
			x := sampleExchange()
			if err := execute(t, pol, x); err != nil {
				t.Fatal(err)
			}
			if got := x.Get("out"); got != c.want {
				t.Errorf("out = %q, want %q", got, c.want)
			}
		})
	}
}

func closedServerURL(t *testing.T) string {
	s := httptest.NewServer(http.NotFoundHandler())
	u := s.URL
	s.Close()
	return u
}

func TestJavascriptBuildProblems(t *testing.T) {
	cases := []struct {
		name, xml string
		res       map[string]string
		want      string // substring of the problems
		isError   bool
	}{
		{"missing resource", jsXML("J", "", `<ResourceURL>jsc://nope.js</ResourceURL>`), nil, "resource jsc://nope.js not found", true},
		{"both", jsXML("J", "", `<ResourceURL>jsc://a.js</ResourceURL><Source>1</Source>`), map[string]string{"jsc://a.js": "1"}, "both <ResourceURL> and <Source>", true},
		{"neither", jsXML("J", "", ``), nil, "needs a <ResourceURL> or a <Source>", true},
		{"bad scheme", jsXML("J", "", `<ResourceURL>a.js</ResourceURL>`), nil, "is not a jsc:// resource", true},
		{"bad timeLimit", jsXML("J", `timeLimit="soon"`, `<Source>1</Source>`), nil, "timeLimit", true},
		{"syntax error", jsXML("J", "", `<ResourceURL>jsc://a.js</ResourceURL>`), map[string]string{"jsc://a.js": "var a = 1;\nvar b = ;"}, "a.js:2:", true},
		{"arrow", jsXML("J", "", `<ResourceURL>jsc://a.js</ResourceURL>`), map[string]string{"jsc://a.js": "var a = 1;\nvar f = (x) => x;"}, "a.js:2:9: arrow function", false},
		{"template literal", jsXML("J", "", `<Source>var s = `+"`a${1}`"+`;</Source>`), nil, "template literal", false},
		{"top-level let", jsXML("J", "", `<Source>let a = 1;</Source>`), nil, "top-level let", false},
		{"class", jsXML("J", "", `<Source>var C = class {};</Source>`), nil, "class is not supported", false},
		{"spread", jsXML("J", "", `<Source>var a = [1]; var b = [...a];</Source>`), nil, "spread", false},
		{"async await", jsXML("J", "", `<Source>async function f() { await 1; }</Source>`), nil, "async function", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pol, ps := buildJS(t, c.xml, c.res, nil)
			got := ps.String()
			if !strings.Contains(got, c.want) {
				t.Fatalf("problems = %q, want one containing %q", got, c.want)
			}
			if ps.HasErrors() != c.isError {
				t.Errorf("HasErrors = %v, want %v (%s)", ps.HasErrors(), c.isError, got)
			}
			if c.isError != (pol == nil) {
				t.Errorf("policy = %v with errors %v", pol, c.isError)
			}
		})
	}
}

func TestJavascriptES5HasNoWarnings(t *testing.T) {
	_, ps := buildJS(t, inlineJS(`var a = [1, 2].map(function (x) { return x * 2; }); for (var i in a) { a[i]++; }
		function f() { let inner = 1; return inner; } var o = {a: 1, "b": 2}; var s = "x" + o.a;`), nil, nil)
	if len(ps.List) != 0 {
		t.Errorf("ES5 script: problems %s, want none", ps.String())
	}
}

func BenchmarkJavascript(b *testing.B) {
	pol := mustBuildJS(b, inlineJS(`var id = context.getVariable("user.name");
context.setVariable("greeting", "hello " + id);
response.headers["X-Greeting"] = request.headers["X-Trace"] + "-" + id;`), nil)
	x := responseExchange()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := pol.Execute(ctx, x); err != nil {
			b.Fatal(err)
		}
	}
}

func TestJavascriptWarningPositions(t *testing.T) {
	set, ps := bundle.Load([]string{"testdata/javascript/rhino"}, bundle.Options{})
	if ps.HasErrors() || len(set.Proxies) != 1 {
		t.Fatalf("load: %s", ps.String())
	}
	b := set.Proxies[0]
	cases := []struct{ policy, want string }{
		// The arrow function is on line 4 of the XML file, column 19 of the
		// script's line.
		{"JS-Inline", "policies/JS-Inline.xml:4:19: warning: arrow function is not supported by Rhino"},
		// Resource scripts: at the element naming them, with the script's line.
		{"JS-File", "policies/JS-File.xml:2:3: warning: lib.js:2:10: template literal is not supported by Rhino"},
	}
	for _, c := range cases {
		t.Run(c.policy, func(t *testing.T) {
			probs := &bundle.Problems{}
			build, _, _ := Lookup("Javascript")
			pol := build(&BuildContext{Bundle: b, Problems: probs, Options: &Options{}}, b.Policies[c.policy])
			if pol == nil {
				t.Fatalf("build failed: %s", probs.String())
			}
			if got := probs.String(); !strings.Contains(got, c.want) {
				t.Errorf("problems = %q, want %q", got, c.want)
			}
			x := sampleExchange()
			if err := execute(t, pol, x); err != nil {
				t.Errorf("goja runs what Rhino would not: %v", err)
			}
		})
	}
}
