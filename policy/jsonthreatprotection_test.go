package policy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apigo/apigo/policy/exchange"
)

func TestScanJSON(t *testing.T) {
	lim := JSONLimits{ArrayElementCount: 3, ContainerDepth: 3, ObjectEntryCount: 3, ObjectEntryNameLength: 5, StringValueLength: 6}
	tests := []struct {
		name, in string
		want     string // "" valid, else "reason at line N"
	}{
		{"within limits", `{"a":[1,2,3],"bb":{"c":"é😀ok"},"d":null}`, ""},
		{"scalar document", ` -1.5e+3 `, ""},
		{"empty containers", `{"a":{},"b":[]}`, ""},
		{"array element count", `[1,2,3,4]`, "Exceeded array element count at line 1"},
		{"container depth", "{\"a\":\n[\n{\"b\":[]}]}", "Exceeded container depth at line 3"},
		{"object entry count", `{"a":1,"b":2,"c":3,"d":4}`, "Exceeded object entry count at line 1"},
		{"object entry name length", "\n{\"abcdef\":1}", "Exceeded object entry name length at line 2"},
		{"string value length counts UTF-16", `["😀😀😀😀"]`, "Exceeded string value length at line 1"},
		{"escapes count one character each", `["\n\t\u00e9\"\\/"]`, ""},
		{"trailing garbage", `{} x`, "Unexpected character ('x') after the JSON value at line 1"},
		{"missing colon", `{"a" 1}`, "Expecting a colon to separate object entry name and value at line 1"},
		{"unterminated", "{\"a\":\n[1,", "Unexpected end of input, expecting a value at line 2"},
		{"bad literal", `[tru]`, "Unrecognized token, expecting true at line 1"},
		{"bad number", `[01]`, "Unexpected character ('1'), expecting comma or ']' at line 1"},
		{"empty body", ``, "Unexpected end of input, expecting a value at line 1"},
		{"control character", "[\"a\x01\"]", "Illegal unquoted control character in a string at line 1"},
		{"bad escape", `["\x"]`, "Unrecognized character escape ('x') at line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ScanJSON([]byte(tt.in), lim)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("ScanJSON(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestScanJSONNoLimitsDeepNesting(t *testing.T) {
	deep := strings.Repeat("[", 200000) + strings.Repeat("]", 200000)
	if err := ScanJSON([]byte(deep), JSONLimits{}); err != nil {
		t.Errorf("ScanJSON(deep) = %v, want nil", err)
	}
	if err := ScanJSON([]byte(deep), JSONLimits{ContainerDepth: 10}); err == nil || err.Reason != "Exceeded container depth" {
		t.Errorf("ScanJSON(deep, depth 10) = %v, want Exceeded container depth", err)
	}
}

func TestJSONThreatProtectionPolicy(t *testing.T) {
	pol := mustBuild(t, `<JSONThreatProtection name="JTP-1">
		<ArrayElementCount>-1</ArrayElementCount><ContainerDepth>5</ContainerDepth>
		<ObjectEntryNameLength>3</ObjectEntryNameLength><Source>request</Source></JSONThreatProtection>`, nil)
	tests := []struct {
		name, ctype, body, wantCode, wantString string
	}{
		{"ok", "application/json", `{"abc":[1,2,3,4,5,6]}`, "", ""},
		{"violation", "application/json; charset=utf-8", `{"abcd":1}`, "steps.jsonthreatprotection.ExecutionFailed",
			"JSONThreatProtection[JTP-1]: Execution failed. reason: JSONThreatProtection[JTP-1]: Exceeded object entry name length at line 1"},
		{"malformed", "application/json", `{"a":`, "steps.jsonthreatprotection.ExecutionFailed",
			"JSONThreatProtection[JTP-1]: Execution failed. reason: JSONThreatProtection[JTP-1]: Unexpected end of input, expecting a value at line 1"},
		{"not JSON content", "text/plain", `{"abcd":1}`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := exchange.New()
			x.Request().Header.Set("Content-Type", tt.ctype)
			x.Request().Body = []byte(tt.body)
			err := execute(t, pol, x)
			if checkFault(t, err, tt.wantCode, ThreatStatus) && err.(*Fault).FaultString != tt.wantString {
				t.Errorf("faultstring = %q, want %q", err.(*Fault).FaultString, tt.wantString)
			}
		})
	}
}

func TestThreatSource(t *testing.T) {
	for _, kind := range []string{"JSONThreatProtection", "XMLThreatProtection"} {
		tests := []struct{ source, code string }{
			{"nothere", "SourceUnavailable"},
			{"plain", "NonMessageVariable"},
		}
		for _, tt := range tests {
			pol := mustBuild(t, `<`+kind+` name="TP"><Source>`+tt.source+`</Source></`+kind+`>`, nil)
			x := exchange.New()
			x.Set("plain", "text")
			err := execute(t, pol, x)
			checkFault(t, err, "steps."+strings.ToLower(kind)+"."+tt.code, 500)
		}
	}
}

func TestJSONThreatProtectionBuildProblems(t *testing.T) {
	pol, ps := buildXML(t, `<JSONThreatProtection name="J"><ContainerDepth>ten</ContainerDepth></JSONThreatProtection>`, nil)
	if pol != nil || !strings.Contains(ps.String(), `"ten" is not an integer`) {
		t.Errorf("build = %v, problems %q, want an integer error", pol, ps.String())
	}
}

// FuzzScanJSON: the scanner never panics, and accepts exactly what
// encoding/json accepts when no limit is set.
func FuzzScanJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":null}]}`, `[`, `"\u12`, `-0.5e-3`, `{"a":1,}`, `[1 2]`} {
		f.Add([]byte(s))
	}
	seeds, _ := filepath.Glob(filepath.Join("testdata", "threat", "*.json"))
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		err := ScanJSON(b, JSONLimits{})
		if valid := jsonValid(b); valid != (err == nil) {
			t.Errorf("ScanJSON(%q) = %v, encoding/json valid = %v", b, err, valid)
		}
		if err != nil && err.Line < 1 {
			t.Errorf("ScanJSON(%q) error line %d", b, err.Line)
		}
		_ = ScanJSON(b, JSONLimits{ArrayElementCount: 2, ContainerDepth: 2, ObjectEntryCount: 2, ObjectEntryNameLength: 2, StringValueLength: 2})
	})
}

func jsonValid(b []byte) bool { return json.Valid(b) }

func BenchmarkScanJSON(b *testing.B) {
	doc := []byte(`{"items":[` + strings.Repeat(`{"sku":"a-1","qty":2,"tags":["x","y"],"price":-1.25e2},`, 200) + `{}]}`)
	lim := JSONLimits{ArrayElementCount: 1000, ContainerDepth: 10, ObjectEntryCount: 50, ObjectEntryNameLength: 50, StringValueLength: 500}
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if err := ScanJSON(doc, lim); err != nil {
			b.Fatal(err)
		}
	}
}
