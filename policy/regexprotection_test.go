package policy

import (
	"strings"
	"testing"

	"github.com/apigo/apigo/policy/exchange"
)

const sqlPattern = `[\s]*(?i)((delete)|(exec)|(drop\s*table)|(insert)|(shutdown)|(update)|(\bor\b))`

func TestRegularExpressionProtection(t *testing.T) {
	pol := mustBuild(t, `<RegularExpressionProtection name="REP-1"><Source>request</Source>
		<IgnoreUnresolvedVariables>true</IgnoreUnresolvedVariables>
		<URIPath><Pattern>\.\./</Pattern></URIPath>
		<QueryParam name="q"><Pattern>`+sqlPattern+`</Pattern></QueryParam>
		<Header name="X-Name"><Pattern>&lt;\s*script</Pattern></Header>
		<FormParam name="f"><Pattern>exec</Pattern></FormParam>
		<Variable name="flow.v"><Pattern>^bad$</Pattern></Variable>
		<XMLPayload><Namespaces><Namespace prefix="o">urn:o</Namespace></Namespaces>
			<XPath><Expression>/o:a/o:b</Expression><Type>string</Type><Pattern>drop</Pattern></XPath></XMLPayload>
		<JSONPayload><JSONPath><Expression>$.items[*].name</Expression><Pattern>&lt;script</Pattern></JSONPath></JSONPayload>
	</RegularExpressionProtection>`, nil)
	tests := []struct {
		name   string
		setup  func(m *exchange.Message, x *exchange.Exchange)
		threat string // the regex reported, "" none
	}{
		{"clean", func(m *exchange.Message, x *exchange.Exchange) {
			m.Query = exchange.ParseParams("q=shoes")
			x.Set("flow.v", "good")
		}, ""},
		{"path traversal", func(m *exchange.Message, _ *exchange.Exchange) { m.Path = "/v1/../etc" }, `\.\./`},
		{"query param found anywhere", func(m *exchange.Message, _ *exchange.Exchange) {
			m.Query = exchange.ParseParams("q=ok&q=x%20DROP%20TABLE%20users")
		}, sqlPattern},
		{"header", func(m *exchange.Message, _ *exchange.Exchange) { m.Header.Set("X-Name", "a < script") }, `<\s*script`},
		{"form param", func(m *exchange.Message, _ *exchange.Exchange) {
			m.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			m.Body = []byte("f=do+exec+now")
		}, "exec"},
		{"variable", func(_ *exchange.Message, x *exchange.Exchange) { x.Set("flow.v", "bad") }, "^bad$"},
		{"xml payload", func(m *exchange.Message, _ *exchange.Exchange) {
			m.Header.Set("Content-Type", "text/xml")
			m.Body = []byte(`<a xmlns="urn:o"><b>please drop it</b></a>`)
		}, "drop"},
		{"json payload", func(m *exchange.Message, _ *exchange.Exchange) {
			m.Header.Set("Content-Type", "application/json")
			m.Body = []byte(`{"items":[{"name":"ok"},{"name":"<script>"}]}`)
		}, "<script"},
		{"json pattern not checked on XML", func(m *exchange.Message, _ *exchange.Exchange) {
			m.Header.Set("Content-Type", "application/xml")
			m.Body = []byte(`<items><name>&lt;script</name></items>`)
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := exchange.New()
			r := x.Request()
			r.Path = "/v1/items"
			tt.setup(r, x)
			err := execute(t, pol, x)
			code := ""
			if tt.threat != "" {
				code = "steps.regularexpressionprotection.ThreatDetected"
			}
			if checkFault(t, err, code, 400) {
				fs := err.(*Fault).FaultString
				if !strings.HasPrefix(fs, "Regular Expression Threat Detected in REP-1: regex: "+tt.threat+" input: ") {
					t.Errorf("faultstring = %q, want regex %s", fs, tt.threat)
				}
			}
		})
	}
}

func TestRegularExpressionProtectionFaults(t *testing.T) {
	tests := []struct{ xml, code string }{
		{`<RegularExpressionProtection name="R"><Variable name="nothere"><Pattern>x</Pattern></Variable></RegularExpressionProtection>`,
			"steps.regularexpressionprotection.VariableResolutionFailed"},
		{`<RegularExpressionProtection name="R"><Source>nomsg</Source><URIPath><Pattern>x</Pattern></URIPath></RegularExpressionProtection>`,
			"steps.regularexpressionprotection.SourceMessageNotAvailable"},
		{`<RegularExpressionProtection name="R"><Source>plain</Source><URIPath><Pattern>x</Pattern></URIPath></RegularExpressionProtection>`,
			"steps.regularexpressionprotection.NonMessageVariable"},
	}
	for _, tt := range tests {
		x := exchange.New()
		x.Set("plain", "text")
		checkFault(t, execute(t, mustBuild(t, tt.xml, nil), x), tt.code, 500)
	}
}

func TestRegularExpressionProtectionBuildProblems(t *testing.T) {
	tests := []struct{ pattern, want string }{
		{`(?=admin)`, "lookaround"},
		{`(?&lt;!x)y`, "lookaround"},
		{`(a)\1`, "backreference"},
		{`a++`, "possessive"},
		{`(?>a|b)`, "atomic group"},
		{`[a-`, "InvalidRegularExpression"},
		{``, "EmptyPattern"},
	}
	for _, tt := range tests {
		src := `<RegularExpressionProtection name="R"><URIPath><Pattern>` + tt.pattern + `</Pattern></URIPath></RegularExpressionProtection>`
		pol, ps := buildXML(t, src, nil)
		if pol != nil || !strings.Contains(ps.String(), tt.want) {
			t.Errorf("build(%q) = %v, problems %q, want nil and %q", tt.pattern, pol, ps.String(), tt.want)
		}
	}
	for _, ok := range []string{`\\1`, `a\+\+`, `(?i)x`, `(?:a)+`, `[+]+`} {
		if _, err := CompileJavaRegex(ok); err != nil {
			t.Errorf("CompileJavaRegex(%q) = %v, want nil", ok, err)
		}
	}
	if _, ps := buildXML(t, `<RegularExpressionProtection name="R"/>`, nil); !strings.Contains(ps.String(), "NothingToEnforce") {
		t.Errorf("empty policy problems = %q, want NothingToEnforce", ps.String())
	}
}
