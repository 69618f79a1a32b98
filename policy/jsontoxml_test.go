package policy

import (
	"errors"
	"strings"
	"testing"

	"github.com/apigo/apigo/policy/exchange"
)

func TestConversionPolicies(t *testing.T) {
	cases := []struct {
		name, policy, ctype, body string
		wantBody, wantType        string // wantBody "" with wantType "": skipped, body unchanged
	}{
		{"j2x-request", `<JSONToXML name="P"><Source>request</Source><OutputVariable>request</OutputVariable>
			<Options><ObjectRootElementName>Order</ObjectRootElementName><AttributePrefix>@</AttributePrefix></Options></JSONToXML>`,
			"application/json", `{"@id":"7","item":"x"}`, `<?xml version="1.0" encoding="UTF-8"?><Order id="7"><item>x</item></Order>`, "application/xml"},
		{"j2x-default-source", `<JSONToXML name="P"><Options><OmitXmlDeclaration>true</OmitXmlDeclaration></Options></JSONToXML>`,
			"application/json; charset=utf-8", `{"a":[1,2]}`, `<Root><a>1</a><a>2</a></Root>`, "application/xml"},
		{"j2x-skipped-on-xml", `<JSONToXML name="P"/>`, "application/xml", `<a/>`, "", ""},
		{"x2j-options", `<XMLToJSON name="P"><Options><RecognizeNumber>true</RecognizeNumber><AttributePrefix>@</AttributePrefix>
			<TreatAsArray><Path unwrap="true">r/list/item</Path></TreatAsArray><StripLevels>0</StripLevels></Options></XMLToJSON>`,
			"text/xml", `<r n="1"><list><item>2</item></list></r>`, `{"r":{"@n":1,"list":[2]}}`, "application/json"},
		{"x2j-format", `<XMLToJSON name="P"><Format>yahoo</Format></XMLToJSON>`,
			"application/xml", `<r a="x">5</r>`, `{"r":{"a":"x","content":5}}`, "application/json"},
		{"x2j-skipped-on-json", `<XMLToJSON name="P"/>`, "application/json", `{}`, "", ""},
		{"x2j-prefix-suffix", `<XMLToJSON name="P"><Options><OutputPrefix>cb(</OutputPrefix><OutputSuffix>)</OutputSuffix></Options></XMLToJSON>`,
			"application/xml", `<a>v</a>`, `cb({"a":"v"})`, "application/json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pol := mustBuild(t, tc.policy, nil)
			x := exchange.New()
			x.Request().Header.Set("Content-Type", tc.ctype)
			x.Request().Body = []byte(tc.body)
			if err := execute(t, pol, x); err != nil {
				t.Fatalf("Execute: %v", err)
			}
			got, ct := string(x.Request().Body), x.Request().Header.Get("Content-Type")
			if tc.wantType == "" {
				tc.wantBody, tc.wantType = tc.body, tc.ctype
			}
			if got != tc.wantBody || ct != tc.wantType {
				t.Errorf("body, Content-Type = %q, %q; want %q, %q", got, ct, tc.wantBody, tc.wantType)
			}
		})
	}
}

func TestConversionStringVariables(t *testing.T) {
	pol := mustBuild(t, `<XMLToJSON name="P"><Source>request</Source><OutputVariable>converted</OutputVariable></XMLToJSON>`, nil)
	x := exchange.New()
	x.Request().Header.Set("Content-Type", "application/xml")
	x.Request().Body = []byte(`<a>1</a>`)
	if err := execute(t, pol, x); err != nil {
		t.Fatal(err)
	}
	if got, _ := x.GetString("converted"); got != `{"a":"1"}` {
		t.Errorf("converted = %q, want %q", got, `{"a":"1"}`)
	}
	if string(x.Request().Body) != `<a>1</a>` {
		t.Errorf("source body changed to %q", x.Request().Body)
	}
	pol = mustBuild(t, `<JSONToXML name="P"><Source>doc</Source><OutputVariable>out</OutputVariable></JSONToXML>`, nil)
	x.Set("doc", `{"b":true}`)
	if err := execute(t, pol, x); err != nil {
		t.Fatal(err)
	}
	if got, _ := x.GetString("out"); got != `<?xml version="1.0" encoding="UTF-8"?><b>true</b>` {
		t.Errorf("out = %q", got)
	}
}

func TestConversionFaults(t *testing.T) {
	cases := []struct {
		name, policy, body string
		vars               map[string]any
		want, faultString  string
	}{
		{"x2j-source-unavailable", `<XMLToJSON name="P"><Source>nothere</Source><OutputVariable>o</OutputVariable></XMLToJSON>`, `<a/>`, nil,
			"steps.xml2json.SourceUnavailable", "XMLToJSON[P]: Source nothere is not available"},
		{"j2x-source-unavailable", `<JSONToXML name="P"><Source>response</Source></JSONToXML>`, `{}`, nil,
			"steps.json2xml.SourceUnavailable", "JSONToXML[P]: Source response is not available"},
		{"x2j-empty", `<XMLToJSON name="P"/>`, ``, nil, "steps.xml2json.ExecutionFailed",
			"XMLToJSON[P]: Execution failed. reason: Premature end of document while parsing at line 1(possibly  around char 0)"},
		{"j2x-malformed", `<JSONToXML name="P"/>`, `{"a":}`, nil, "steps.json2xml.ExecutionFailed",
			"JSONToXML[P]: Execution failed. reason: Unexpected character ('}') at line 1(possibly  around char 5)"},
		{"x2j-no-output", `<XMLToJSON name="P"><Source>s</Source></XMLToJSON>`, ``, map[string]any{"s": "<a/>"},
			"steps.xml2json.OutputVariableIsNotAvailable", "XMLToJSON[P]: Output variable is not available."},
		{"x2j-incompatible", `<XMLToJSON name="P"><Source>s</Source><OutputVariable>request</OutputVariable></XMLToJSON>`, ``,
			map[string]any{"s": "<a/>"}, "steps.xml2json.InCompatibleTypes", "XMLToJSON[P]: String can not be assigned to message type."},
		{"j2x-invalid-source-type", `<JSONToXML name="P"><Source>n</Source><OutputVariable>o</OutputVariable></JSONToXML>`, ``,
			map[string]any{"n": 42}, "steps.json2xml.InvalidSourceType", "JSONToXML[P]: Invalid source type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pol := mustBuild(t, tc.policy, nil)
			x := exchange.New()
			ct := "application/json"
			if strings.HasPrefix(tc.policy, "<XMLToJSON") {
				ct = "application/xml"
			}
			x.Request().Header.Set("Content-Type", ct)
			x.Request().Body = []byte(tc.body)
			for k, v := range tc.vars {
				x.Set(k, v)
			}
			var f *Fault
			if err := execute(t, pol, x); !errors.As(err, &f) {
				t.Fatalf("Execute = %v, want fault %s", err, tc.want)
			}
			if f.Code != tc.want || !strings.HasPrefix(f.FaultString, tc.faultString) {
				t.Errorf("fault = %s %q, want %s %q", f.Code, f.FaultString, tc.want, tc.faultString)
			}
		})
	}
}

func TestConversionBuildProblems(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"bad-format", `<XMLToJSON name="P"><Format>jsonml</Format></XMLToJSON>`, `"jsonml" is not one of`},
		{"bad-strip", `<XMLToJSON name="P"><Options><StripLevels>two</StripLevels></Options></XMLToJSON>`, "not a non-negative integer"},
		{"empty-path", `<XMLToJSON name="P"><Options><TreatAsArray><Path/></TreatAsArray></Options></XMLToJSON>`, "is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pol, probs := buildXML(t, tc.src, nil)
			if pol != nil || !strings.Contains(probs.String(), tc.want) {
				t.Errorf("build(%s) problems = %q, want %q", tc.src, probs.String(), tc.want)
			}
		})
	}
}

func BenchmarkExtractVariablesJSONPath(b *testing.B) {
	pol := mustBuild(b, `<ExtractVariables name="EV"><Source>request</Source><VariablePrefix>geo</VariablePrefix>
		<JSONPayload><Variable name="lat" type="double"><JSONPath>$.results[0].geometry.location.lat</JSONPath></Variable></JSONPayload>
		</ExtractVariables>`, nil)
	x := exchange.New()
	x.Request().Header.Set("Content-Type", "application/json")
	x.Request().Body = []byte(`{"results":[{"geometry":{"location":{"lat":37.42291810,"lng":-122.08542120},"location_type":"ROOFTOP"}}],"status":"OK"}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := execute(b, pol, x); err != nil {
			b.Fatal(err)
		}
	}
}
