package policy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
)

// evExchange is a request GET /v1/claims/C-9?code=DBN42&w=Boston&w=Chicago
// with proxy.pathsuffix /claims/C-9, an Authorization header and body.
func evExchange(contentType, body string) *exchange.Exchange {
	x := exchange.New()
	r := x.Request()
	r.Verb, r.Path = "POST", "/v1/claims/C-9"
	r.Query = exchange.ParseParams("code=DBN42&w=Boston&w=Chicago")
	r.Header.Set("Authorization", "Bearer tok-123")
	r.Header.Add("X-Multi", "a")
	r.Header.Add("X-Multi", "b")
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	r.Body = []byte(body)
	x.SetSystem("proxy.pathsuffix", "/claims/C-9")
	x.Set("my.var", "left-right-more")
	return x
}

func TestExtractVariablesSources(t *testing.T) {
	const jsonBody = `{"results":[{"lat":37.42,"name":"HQ","open":true,"tags":["a","b"],"n":"12"}],"count":3}`
	const xmlBody = `<dir:Directions xmlns:dir="urn:d"><dir:step mode="DRIVING"><dir:value>19</dir:value>` +
		`<dir:text>minutes</dir:text></dir:step><dir:step mode="WALKING"/></dir:Directions>`
	cases := []struct {
		name, policy, ctype, body string
		want                      map[string]any // variable -> value; nil value: unset
	}{
		{"uripath", `<URIPath><Pattern>/members/{m}</Pattern><Pattern ignoreCase="true">/CLAIMS/{claimId}</Pattern></URIPath>`,
			"", "", map[string]any{"p.claimId": "C-9", "p.m": nil}},
		{"uripath-case-sensitive", `<URIPath><Pattern>/CLAIMS/{claimId}</Pattern></URIPath>`, "", "", map[string]any{"p.claimId": nil}},
		{"uripath-longest-wins", `<URIPath><Pattern>/{a}/{b}</Pattern><Pattern>/**/{id}</Pattern><Pattern>/claims/{id}</Pattern></URIPath>`,
			"", "", map[string]any{"p.a": "claims", "p.b": "C-9"}},
		{"uripath-wildcard", `<URIPath><Pattern>/*/{id}</Pattern></URIPath>`, "", "", map[string]any{"p.id": "C-9"}},
		{"queryparam", `<QueryParam name="code"><Pattern>DBN{dbncode}</Pattern></QueryParam>`, "", "", map[string]any{"p.dbncode": "42"}},
		{"queryparam-indexed", `<QueryParam name="w.2"><Pattern>{second}</Pattern></QueryParam>`, "", "", map[string]any{"p.second": "Chicago"}},
		{"queryparam-no-match", `<QueryParam name="code"><Pattern>XYZ{c}</Pattern></QueryParam>`, "", "", map[string]any{"p.c": nil}},
		{"header", `<Header name="authorization"><Pattern>Bearer {token}</Pattern></Header>`, "", "", map[string]any{"p.token": "tok-123"}},
		{"header-ignorecase", `<Header name="Authorization"><Pattern ignoreCase="true">bearer {token}</Pattern></Header>`, "", "", map[string]any{"p.token": "tok-123"}},
		{"header-second", `<Header name="X-Multi.2"><Pattern>{v}</Pattern></Header>`, "", "", map[string]any{"p.v": "b"}},
		{"header-star", `<Header name="Content-Type"><Pattern>*;charset={enc}</Pattern></Header>`, "text/xml;charset=UTF-16", "", map[string]any{"p.enc": "UTF-16"}},
		{"formparam", `<FormParam name="greeting"><Pattern>hello {user}</Pattern></FormParam>`,
			"application/x-www-form-urlencoded", "greeting=hello+ada&x=1", map[string]any{"p.user": "ada"}},
		{"formparam-not-form", `<FormParam name="greeting"><Pattern>hello {user}</Pattern></FormParam>`,
			"text/plain", "greeting=hello+ada", map[string]any{"p.user": nil}},
		{"variable", `<Variable name="my.var"><Pattern>{a}-{b}</Pattern></Variable>`, "", "", map[string]any{"p.a": "left", "p.b": "right-more"}},
		{"escaped-braces", `<Variable name="my.var"><Pattern>%{x%}{a}</Pattern></Variable>`, "", "", map[string]any{"p.a": nil}},
		{"json-types", `<JSONPayload>
			<Variable name="lat" type="double"><JSONPath>$.results[0].lat</JSONPath></Variable>
			<Variable name="latf" type="float"><JSONPath>$.results[0].lat</JSONPath></Variable>
			<Variable name="name"><JSONPath>$.results[0].name</JSONPath></Variable>
			<Variable name="open" type="boolean"><JSONPath>$.results[0].open</JSONPath></Variable>
			<Variable name="count" type="integer"><JSONPath>$.count</JSONPath></Variable>
			<Variable name="n" type="long"><JSONPath>$.results[0].n</JSONPath></Variable>
			<Variable name="tags" type="nodeset"><JSONPath>$.results[0].tags</JSONPath></Variable>
			<Variable name="all"><JSONPath>$.results[0].tags[*]</JSONPath></Variable>
			<Variable name="missing"><JSONPath>$.nope</JSONPath></Variable>
			</JSONPayload>`, "application/json", jsonBody, map[string]any{
			"p.lat": 37.42, "p.latf": float32(37.42), "p.name": "HQ", "p.open": true, "p.count": 3,
			"p.n": int64(12), "p.tags": `["a","b"]`, "p.all": `["a","b"]`, "p.missing": nil}},
		{"json-templated-path", `<JSONPayload><Variable name="v"><JSONPath>$.results[0].{field}</JSONPath></Variable></JSONPayload>`,
			"application/json", jsonBody, map[string]any{"p.v": "HQ"}},
		{"json-wrong-content-type", `<JSONPayload><Variable name="v"><JSONPath>$.count</JSONPath></Variable></JSONPayload>`,
			"text/plain", jsonBody, map[string]any{"p.v": nil}},
		{"xml", `<XMLPayload><Namespaces><Namespace prefix="d">urn:d</Namespace></Namespaces>
			<Variable name="mode" type="string"><XPath>/d:Directions/d:step/@mode</XPath></Variable>
			<Variable name="dur" type="integer"><XPath>/d:Directions/d:step/d:value</XPath></Variable>
			<Variable name="steps" type="nodeset"><XPath>/d:Directions/d:step[2]</XPath></Variable>
			<Variable name="none"><XPath>/d:Directions/d:nothing</XPath></Variable>
			</XMLPayload>`, "application/xml", xmlBody, map[string]any{
			"p.mode": "DRIVING", "p.dur": 19, "p.steps": `<dir:step xmlns:dir="urn:d" mode="WALKING"></dir:step>`, "p.none": nil}},
		{"xml-stop", `<XMLPayload stopPayloadProcessing="true"><Namespaces><Namespace prefix="d">urn:d</Namespace></Namespaces>
			<Variable name="none"><XPath>/d:Directions/d:nothing</XPath></Variable>
			<Variable name="a"><XPath>/d:Directions/d:step/d:text</XPath></Variable>
			<Variable name="b"><XPath>/d:Directions/d:step/@mode</XPath></Variable>
			</XMLPayload>`, "text/xml; charset=utf-8", xmlBody, map[string]any{"p.a": "minutes", "p.b": nil}},
		{"xml-soap-content-type", `<XMLPayload><Variable name="a"><XPath>count(//*)</XPath></Variable></XMLPayload>`,
			"application/soap+xml", xmlBody, map[string]any{"p.a": "5"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := `<ExtractVariables name="EV"><VariablePrefix>p</VariablePrefix>` + tc.policy + `</ExtractVariables>`
			pol := mustBuild(t, src, nil)
			x := evExchange(tc.ctype, tc.body)
			x.Set("field", "name")
			if err := execute(t, pol, x); err != nil {
				t.Fatalf("Execute: %v", err)
			}
			for name, want := range tc.want {
				got, ok := x.Lookup(name)
				if want == nil {
					if ok {
						t.Errorf("Lookup(%q) = %#v, want unset", name, got)
					}
					continue
				}
				if got != want {
					t.Errorf("Lookup(%q) = %#v (%T), want %#v (%T)", name, got, got, want, want)
				}
			}
		})
	}
}

func TestExtractVariablesFaults(t *testing.T) {
	cases := []struct {
		name, policy, ctype, body string
		want, faultString         string
	}{
		{"source-missing", `<Source>response</Source><Header name="a"><Pattern>{a}</Pattern></Header>`, "", "",
			"SourceMessageNotAvailable", "response message is not available for ExtractVariable: EV"},
		{"json-malformed", `<JSONPayload><Variable name="v"><JSONPath>$.a</JSONPath></Variable></JSONPayload>`,
			"application/json", `{"a":`, "ExecutionFailed", "Failed to execute the ExtractVariables: EV"},
		{"json-empty", `<JSONPayload><Variable name="v"><JSONPath>$.a</JSONPath></Variable></JSONPayload>`,
			"application/json", ``, "ExecutionFailed", "Failed to execute the ExtractVariables: EV"},
		{"xml-malformed", `<XMLPayload><Variable name="v"><XPath>/a</XPath></Variable></XMLPayload>`,
			"application/xml", `<a><b></a>`, "ExecutionFailed", "Failed to execute the ExtractVariables: EV"},
		{"immutable", `<Header name="Authorization"><Pattern>Bearer {proxy.basepath}</Pattern></Header>`, "", "",
			"ImmutableVariable", "Variable proxy.basepath value is not modifiable"},
		{"unable-to-cast", `<JSONPayload><Variable name="v" type="integer"><JSONPath>$.a</JSONPath></Variable></JSONPayload>`,
			"application/json", `{"a":"abc"}`, "UnableToCast", "Unable to cast value abc as integer."},
		{"unable-to-cast-boolean", `<JSONPayload><Variable name="v" type="boolean"><JSONPath>$.a</JSONPath></Variable></JSONPayload>`,
			"application/json", `{"a":36.2}`, "UnableToCast", "Unable to cast value 36.2 as boolean."},
		{"templated-invalid-path", `<JSONPayload><Variable name="v"><JSONPath>$.{bad}</JSONPath></Variable></JSONPayload>`,
			"application/json", `{"a":1}`, "InvalidJSONPath", "Invalid JSON path $.[[ in policy EV."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pol := mustBuild(t, `<ExtractVariables name="EV">`+tc.policy+`</ExtractVariables>`, nil)
			x := evExchange(tc.ctype, tc.body)
			x.Set("bad", "[[")
			err := execute(t, pol, x)
			var f *Fault
			if !errors.As(err, &f) {
				t.Fatalf("Execute error = %v, want a fault %s", err, tc.want)
			}
			if f.Name != tc.want || f.Code != "steps.extractvariables."+tc.want || f.HTTPStatus() != 500 {
				t.Errorf("fault = %s/%s/%d, want %s", f.Name, f.Code, f.HTTPStatus(), tc.want)
			}
			if !strings.HasPrefix(f.FaultString, tc.faultString) {
				t.Errorf("faultstring = %q, want prefix %q", f.FaultString, tc.faultString)
			}
		})
	}
}

func TestExtractVariablesIgnoreUnresolvedAndClearPayload(t *testing.T) {
	pol := mustBuild(t, `<ExtractVariables name="EV"><Source>response</Source><IgnoreUnresolvedVariables>true</IgnoreUnresolvedVariables>
		<Header name="a"><Pattern>{a}</Pattern></Header></ExtractVariables>`, nil)
	if err := execute(t, pol, evExchange("", "")); err != nil {
		t.Errorf("Execute with a missing source and IgnoreUnresolvedVariables = %v, want nil", err)
	}
	pol = mustBuild(t, `<ExtractVariables name="EV"><Source clearPayload="true">request</Source>
		<JSONPayload><Variable name="v"><JSONPath>$.a</JSONPath></Variable></JSONPayload></ExtractVariables>`, nil)
	x := evExchange("application/json", `{"a":"x"}`)
	if err := execute(t, pol, x); err != nil {
		t.Fatal(err)
	}
	if v, _ := x.GetString("v"); v != "x" || len(x.Request().Body) != 0 {
		t.Errorf("after clearPayload: v = %q, body = %q; want x and an empty body", v, x.Request().Body)
	}
}

func TestExtractVariablesBuildErrors(t *testing.T) {
	cases := []struct{ name, inner, want string }{
		{"nothing", ``, "NothingToExtract"},
		{"no-variable", `<URIPath><Pattern>/a/b</Pattern></URIPath>`, "PatternWithoutVariable"},
		{"unclosed", `<Header name="h"><Pattern>{a</Pattern></Header>`, "InvalidPattern"},
		{"empty-name", `<Variable name=""><Pattern>{a}</Pattern></Variable>`, "MissingName"},
		{"missing-name", `<QueryParam><Pattern>{a}</Pattern></QueryParam>`, "MissingName"},
		{"bad-jsonpath", `<JSONPayload><Variable name="v"><JSONPath>$.a[</JSONPath></Variable></JSONPayload>`, "InvalidJSONPath"},
		{"empty-jsonpath", `<JSONPayload><Variable name="v"><JSONPath> </JSONPath></Variable></JSONPayload>`, "EmptyJSONPathExpression"},
		{"no-xpath", `<XMLPayload><Variable name="v"/></XMLPayload>`, "NoXPathsToEvaluate"},
		{"bad-xpath", `<XMLPayload><Variable name="v"><XPath>/a[</XPath></Variable></XMLPayload>`, "XPathCompilationFailed"},
		{"undeclared-prefix", `<XMLPayload><Variable name="v"><XPath>/q:a</XPath></Variable></XMLPayload>`, "XPathCompilationFailed"},
		{"dup-prefix", `<XMLPayload><Namespaces><Namespace prefix="a">u</Namespace><Namespace prefix="a">v</Namespace></Namespaces>` +
			`<Variable name="v"><XPath>/a:x</XPath></Variable></XMLPayload>`, "DuplicatePrefix"},
		{"empty-uri", `<XMLPayload><Namespaces><Namespace prefix="a"></Namespace></Namespaces>` +
			`<Variable name="v"><XPath>/x</XPath></Variable></XMLPayload>`, "NONEmptyPrefixMappedToEmptyURI"},
		{"bad-type", `<JSONPayload><Variable name="v" type="date"><JSONPath>$.a</JSONPath></Variable></JSONPayload>`, "is not one of"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pol, probs := buildXML(t, `<ExtractVariables name="EV">`+tc.inner+`</ExtractVariables>`, nil)
			if pol != nil || !probs.HasErrors() {
				t.Fatalf("build of %s succeeded, want error %s", tc.inner, tc.want)
			}
			s := probs.String()
			if !strings.Contains(s, tc.want) || !strings.Contains(s, "x.xml") {
				t.Errorf("problems = %q, want a positioned %q", s, tc.want)
			}
		})
	}
}

func TestExtractVariablesTestdata(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "extractvariables", "*.xml"))
	if len(files) == 0 {
		t.Fatal("no testdata/extractvariables/*.xml")
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		mustBuild(t, string(src), nil)
	}
}

// TestCorpusDataPolicies builds every ExtractVariables, JSONToXML and
// XMLToJSON policy file of the shared corpus (outside apigeelint, whose
// files are deliberately broken) and reports how many build cleanly.
func TestCorpusDataPolicies(t *testing.T) {
	root := filepath.Join("..", "..", "shared", "corpus")
	if _, err := os.Stat(root); err != nil {
		t.Skip("corpus not found")
	}
	counts := map[string][2]int{} // type -> built, total
	_ = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() && d.Name() == "apigeelint" {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".xml") || !strings.Contains(filepath.ToSlash(path), "/policies/") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		typ := rootTag(string(src))
		if typ != "ExtractVariables" && typ != "JSONToXML" && typ != "XMLToJSON" {
			return nil
		}
		c := counts[typ]
		c[1]++
		pol, probs := buildXMLQuiet(string(src))
		if pol != nil && !probs.HasErrors() {
			c[0]++
		} else {
			t.Logf("%s:\n%s", path, probs.String())
		}
		counts[typ] = c
		return nil
	})
	for _, typ := range []string{"ExtractVariables", "JSONToXML", "XMLToJSON"} {
		t.Logf("%s: %d of %d corpus policies build with no errors", typ, counts[typ][0], counts[typ][1])
		if counts[typ][1] > 0 && counts[typ][0] == 0 {
			t.Errorf("%s: no corpus policy builds", typ)
		}
	}
}

func rootTag(src string) string {
	for i := 0; i < len(src); i++ {
		if src[i] != '<' || i+1 >= len(src) || src[i+1] == '?' || src[i+1] == '!' {
			continue
		}
		end := strings.IndexAny(src[i+1:], " \t\r\n/>")
		if end < 0 {
			return ""
		}
		return src[i+1 : i+1+end]
	}
	return ""
}

// buildXMLQuiet builds a policy file without failing the test: a file
// that is not XML is a problem like any other.
func buildXMLQuiet(src string) (Policy, *bundle.Problems) {
	ps := &bundle.Problems{}
	doc := etree.NewDocument()
	if err := doc.ReadFromString(src); err != nil || doc.Root() == nil {
		ps.Errorf(bundle.Pos{File: "x.xml"}, "not XML: %v", err)
		return nil, ps
	}
	root := doc.Root()
	p := &bundle.Policy{Name: root.SelectAttrValue("name", ""), Type: root.Tag, Enabled: true,
		File: "x.xml", Element: root, Doc: &bundle.Doc{File: "x.xml", Tree: doc}}
	b, _, _ := Lookup(p.Type)
	return b(&BuildContext{Problems: ps, Options: &Options{}}, p), ps
}
