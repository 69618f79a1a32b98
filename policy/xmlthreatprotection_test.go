package policy

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apigo/apigo/policy/exchange"
)

func TestScanXML(t *testing.T) {
	all := XMLLimits{Element: 6, Attribute: 4, NamespacePrefix: 3, ProcessingInstructionTarget: 5,
		NodeDepth: 3, AttributeCountPerElement: 2, NamespaceCountPerElement: 1, ChildCount: 3,
		CountElements: true, CountText: true, CountComments: true, CountPIs: true,
		Text: 8, AttributeValue: 5, NamespaceURI: 12, Comment: 6, ProcessingInstructionData: 6}
	tests := []struct {
		name, in string
		want     string // "" valid, else the reason
	}{
		{"within limits", "<?xml version=\"1.0\"?>\n<a:root xmlns:a=\"urn:x\" id=\"1\">\n  <b>text</b>\n  <!--ok-->\n</a:root>", ""},
		{"element name", `<elementlong/>`, "Element name length exceeded (6)"},
		{"attribute name", `<r attrib="1"/>`, "Attribute name length exceeded (4)"},
		{"attribute value", `<r id="123456"/>`, "Attribute value length exceeded (5)"},
		{"attribute count", `<r a="1" b="2" c="3"/>`, "Attribute count exceeded (2)"},
		{"namespace count", `<r xmlns="urn:a" xmlns:p="urn:b"/>`, "Namespace count exceeded (1)"},
		{"namespace prefix", `<r xmlns:pfxx="urn:b"/>`, "Namespace prefix length exceeded (3)"},
		{"namespace uri", `<r xmlns:p="urn:very:long:uri"/>`, "Namespace uri length exceeded (12)"},
		{"node depth", `<a><b><c><d/></c></b></a>`, "Node depth exceeded (3)"},
		{"child count", `<a><b/><b/>t<!--c--></a>`, "Children count exceeded (3)"},
		{"text", `<a>0123456789</a>`, "Text length exceeded (8)"},
		{"comment", `<a><!--0123456789--></a>`, "Comment length exceeded (6)"},
		{"pi target", `<a><?target-long x?></a>`, "Processing Instruction target length exceeded (5)"},
		{"pi data", `<a><?pi 0123456789?></a>`, "Processing Instruction data length exceeded (6)"},
		{"premature end", "<a>\n<b>", "Premature end of document while parsing"},
		{"empty", ``, "Premature end of document while parsing"},
		{"mismatched tags", `<a></b>`, `The element type "a" must be terminated by the matching end-tag "</a>"`},
		{"two roots", `<a/><b/>`, "The markup in the document following the root element must be well-formed"},
		{"text outside root", `<a/>junk`, "Content is not allowed outside the root element"},
		{"entity not expanded", `<!DOCTYPE a [<!ENTITY x "yyyyyyyyyyyy">]><a>&x;</a>`, "invalid character entity &x;"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ScanXML(strings.NewReader(tt.in), all)
			got := ""
			if err != nil {
				got = err.Reason
			}
			if got != tt.want {
				t.Errorf("ScanXML(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestScanXMLChildCountIncludes(t *testing.T) {
	doc := `<a><b/><!--c--><?p d?>text</a>`
	tests := []struct {
		name string
		lim  XMLLimits
		ok   bool
	}{
		{"all counted", XMLLimits{ChildCount: 3, CountElements: true, CountText: true, CountComments: true, CountPIs: true}, false},
		{"comments not counted", XMLLimits{ChildCount: 3, CountElements: true, CountText: true, CountPIs: true}, true},
		{"only elements", XMLLimits{ChildCount: 1, CountElements: true}, true},
	}
	for _, tt := range tests {
		if err := ScanXML(strings.NewReader(doc), tt.lim); (err == nil) != tt.ok {
			t.Errorf("%s: ScanXML = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}

func TestXMLThreatProtectionPolicy(t *testing.T) {
	pol := mustBuild(t, `<XMLThreatProtection name="XTP-1"><Source>request</Source>
		<NameLimits><Element>5</Element></NameLimits>
		<StructureLimits><ChildCount includeComment="false">2</ChildCount></StructureLimits>
		<ValueLimits><Text>-1</Text></ValueLimits></XMLThreatProtection>`, nil)
	tests := []struct{ name, ctype, body, want string }{
		{"ok", "application/xml", `<a><b/><!--x--><c/></a>`, ""},
		{"element name", "text/xml", "<a>\n<toolong/></a>",
			"XMLThreatProtection stepDefinition XTP-1: Execution failed. reason: XMLThreatProtection stepDefinition XTP-1: Element name length exceeded (5) at line 2(possibly around char 11)"},
		{"malformed", "application/soap+xml", "<a>\n<b>",
			"XMLThreatProtection stepDefinition XTP-1: Execution failed. reason: Premature end of document while parsing at line 2(possibly around char 4)"},
		{"not XML", "application/json", `<toolong/>`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := exchange.New()
			x.Request().Header.Set("Content-Type", tt.ctype)
			x.Request().Body = []byte(tt.body)
			err := execute(t, pol, x)
			code := ""
			if tt.want != "" {
				code = "steps.xmlthreatprotection.ExecutionFailed"
			}
			if checkFault(t, err, code, ThreatStatus) && err.(*Fault).FaultString != tt.want {
				t.Errorf("faultstring = %q, want %q", err.(*Fault).FaultString, tt.want)
			}
		})
	}
}

// FuzzScanXML: the scanner never panics, reports a line, and rejects what
// encoding/xml's strict decoder rejects.
func FuzzScanXML(f *testing.F) {
	for _, s := range []string{`<a x="1"><b>t</b><!--c--><?p d?></a>`, `<a>`, `<a></b>`, `<p:a xmlns:p="u"/>`, `<!DOCTYPE a><a/>`} {
		f.Add([]byte(s))
	}
	seeds, _ := filepath.Glob(filepath.Join("testdata", "threat", "*.xml"))
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		err := ScanXML(bytes.NewReader(b), XMLLimits{})
		if err != nil && err.Line < 1 {
			t.Errorf("ScanXML(%q) error line %d", b, err.Line)
		}
		if err == nil && !xmlWellFormed(b) {
			t.Errorf("ScanXML(%q) = nil, encoding/xml rejects it", b)
		}
		_ = ScanXML(bytes.NewReader(b), XMLLimits{Element: 1, NodeDepth: 2, ChildCount: 1, CountElements: true, CountText: true, Text: 1})
	})
}

func xmlWellFormed(b []byte) bool {
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return true
		}
		if err != nil {
			return false
		}
	}
}

func BenchmarkScanXML(b *testing.B) {
	doc := []byte(`<items>` + strings.Repeat(`<item sku="a-1" qty="2"><tag>x</tag><!--c--></item>`, 200) + `</items>`)
	lim := XMLLimits{Element: 50, NodeDepth: 10, ChildCount: 1000, CountElements: true, Text: 500}
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if err := ScanXML(bytes.NewReader(doc), lim); err != nil {
			b.Fatal(err)
		}
	}
}
