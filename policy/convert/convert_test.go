package convert

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/<dir>/<name>.golden (rewritten with
// -update).
func golden(t *testing.T, dir, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", dir, name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update): %v", err)
	}
	if got != string(want) {
		t.Errorf("%s:\ngot  %s\nwant %s", name, got, want)
	}
}

const soap = `<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:default">
  <soap:Body>
    <m:GetPriceResponse xmlns:m="urn:prices">
      <m:Price currency="EUR">12.50</m:Price>
      <m:InStock>true</m:InStock>
    </m:GetPriceResponse>
  </soap:Body>
</soap:Envelope>`

const mixed = `<p class="x">Hello <b>bold</b> world<br/></p>`

const teachers = `<teachers><teacher><studentnames><name>sam</name><name>lucy</name></studentnames>` +
	`<subject>math</subject></teacher></teachers>`

const oneTeacher = `<teachers><teacher><studentnames><name>sam</name></studentnames></teacher></teachers>`

const typed = `<r><n>100</n><neg>-1.5e3</neg><lead>007</lead><b>true</b><B>True</B><empty/><blank>  </blank>` +
	`<nul>NULL</nul><s> spaced </s><a x="1" y="true"/></r>`

const arrays = `<list><item>1</item><item>2</item><other/><item>3</item><single><v>a</v></single></list>`

const escapes = `<r><q>"quoted" &amp; &lt;tagged&gt; é ✓</q><c><![CDATA[<raw> & stuff]]></c><!-- comment --><?pi x?></r>`

func TestXMLToJSONGolden(t *testing.T) {
	def := DefaultToJSON()
	with := func(f func(*ToJSONOptions)) ToJSONOptions { o := DefaultToJSON(); f(&o); return o }
	preset := func(name string) ToJSONOptions {
		o, ok := Preset(name)
		if !ok {
			t.Fatalf("Preset(%q) not found", name)
		}
		return o
	}
	cases := []struct {
		name, in string
		opts     ToJSONOptions
	}{
		{"soap-default", soap, def},
		{"soap-namespaces", soap, with(func(o *ToJSONOptions) {
			o.NamespaceBlockName, o.DefaultNamespaceNodeName, o.NamespaceSeparator = "#namespaces", "&", "***"
		})},
		{"soap-strip", soap, with(func(o *ToJSONOptions) { o.StripLevels = 3; o.RecognizeNumber = true })},
		{"soap-strip-too-far", soap, with(func(o *ToJSONOptions) { o.StripLevels = 9 })},
		{"mixed-content", mixed, def},
		{"mixed-text-node", mixed, with(func(o *ToJSONOptions) { o.TextNodeName = "TEXT" })},
		{"attributes-prefix", `<a id="7" xml:lang="en">v</a>`, with(func(o *ToJSONOptions) { o.AttributePrefix = "@" })},
		{"attributes-block", `<a id="7" kind="k"><b>v</b></a>`, with(func(o *ToJSONOptions) { o.AttributeBlockName = "ATTRS" })},
		{"text-always", `<a><b>x</b><c/></a>`, with(func(o *ToJSONOptions) { o.TextAlwaysAsProperty = true; o.TextNodeName = "TEXT" })},
		{"typed-default", typed, def},
		{"typed-recognize", typed, with(func(o *ToJSONOptions) {
			o.RecognizeNumber, o.RecognizeBoolean, o.RecognizeNull, o.NullValue = true, true, true, "NULL"
		})},
		{"arrays-grouped", arrays, def},
		{"array-of-one", oneTeacher, def},
		{"treat-as-array", oneTeacher, with(func(o *ToJSONOptions) {
			o.TreatAsArray = []ArrayPath{{Path: "teachers/teacher"}, {Path: "teachers/teacher/studentnames/name"}}
		})},
		{"treat-as-array-unwrap", teachers, with(func(o *ToJSONOptions) {
			o.TreatAsArray = []ArrayPath{{Path: "teachers/teacher/studentnames/name", Unwrap: true}}
		})},
		{"treat-as-array-unwrap-one", oneTeacher, with(func(o *ToJSONOptions) {
			o.TreatAsArray = []ArrayPath{{Path: "/teachers/teacher/studentnames/name", Unwrap: true}}
		})},
		{"output-prefix-suffix", `<a>v</a>`, with(func(o *ToJSONOptions) { o.OutputPrefix, o.OutputSuffix = "PREFIX_", "_SUFFIX" })},
		{"escapes", escapes, def},
		{"indent", arrays, with(func(o *ToJSONOptions) { o.Indent = true })},
		{"format-xml.com", soap, preset("xml.com")},
		{"format-yahoo", soap, preset("yahoo")},
		{"format-google", soap, preset("google")},
		{"format-badgerFish", soap, preset("badgerFish")},
		{"format-badgerFish-typed", typed, preset("badgerFish")},
		{"latin1", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>caf\xe9</a>", def},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NewToJSON(tc.opts).Convert([]byte(tc.in))
			if err != nil {
				t.Fatalf("Convert(%q) error: %v", tc.in, err)
			}
			golden(t, "xml2json", tc.name, got)
		})
	}
}

const order = `{"z":1,"a":{"y":"first","b":[1,2,3],"x":null},"m":true}`

func TestJSONToXMLGolden(t *testing.T) {
	def := DefaultToXML()
	with := func(f func(*ToXMLOptions)) ToXMLOptions { o := DefaultToXML(); f(&o); return o }
	cases := []struct {
		name, in string
		opts     ToXMLOptions
	}{
		{"key-order", order, def},
		{"single-root", `{"order":{"id":7,"items":[{"sku":"a"},{"sku":"b"}]}}`, def},
		{"array-of-one", `{"order":{"items":[{"sku":"a"}]}}`, def},
		{"top-array", `[1,"two",{"three":3},[4,5]]`, def},
		{"top-array-names", `[1,2]`, with(func(o *ToXMLOptions) { o.ArrayRootElementName, o.ArrayItemElementName = "List", "Entry" })},
		{"nested-arrays", `{"m":[[1,2],[3],[]]}`, def},
		{"empty-array-and-object", `{"r":{"e":[],"o":{},"s":""}}`, def},
		{"scalar-root", `"just text"`, def},
		{"root-name", `{"a":1,"b":2}`, with(func(o *ToXMLOptions) { o.ObjectRootElementName = "Payload" })},
		{"nulls", `{"r":{"n":null,"s":"x"}}`, def},
		{"null-value", `{"r":{"n":null,"s":"x"}}`, with(func(o *ToXMLOptions) { o.NullValue = "NULL" })},
		{"attribute-prefix", `{"book":{"@id":"b1","@lang":"en","title":"Go","#text":"tail"}}`, with(func(o *ToXMLOptions) {
			o.AttributePrefix, o.TextNodeName = "@", "#text"
		})},
		{"attribute-block", `{"book":{"#attrs":{"id":"b1","n":2},"title":"Go"}}`, with(func(o *ToXMLOptions) { o.AttributeBlockName = "#attrs" })},
		{"namespaces", `{"soap***Envelope":{"#namespaces":{"$default":"urn:d","soap":"http://schemas.xmlsoap.org/soap/envelope/"},` +
			`"soap***Body":{"GetPrice":{"Item":"Apples"}}}}`, with(func(o *ToXMLOptions) {
			o.NamespaceBlockName, o.NamespaceSeparator = "#namespaces", "***"
		})},
		{"invalid-names", `{"r":{"1st":1,"a b":2,"ok-name.x":3,"":4,"é":5,"a:b:c":6}}`, def},
		{"invalid-names-replacement", `{"r":{"a b":2}}`, with(func(o *ToXMLOptions) { o.InvalidCharsReplacement = "-" })},
		{"escapes", `{"r":{"t":"<a> & \"b\" \u00e9 \ud83d\ude00 \u0001"}}`, with(func(o *ToXMLOptions) { o.AttributePrefix = "@" })},
		{"attr-escapes", `{"r":{"@t":"<a> & \"b\"\n"}}`, with(func(o *ToXMLOptions) { o.AttributePrefix = "@" })},
		{"numbers-booleans", `{"r":{"i":42,"f":-1.5e-3,"t":true,"f2":false}}`, def},
		{"omit-declaration", `{"a":"b"}`, with(func(o *ToXMLOptions) { o.OmitXMLDeclaration = true })},
		{"indent", `{"order":{"id":7,"items":[{"sku":"a"},{"sku":"b"}],"note":{"#text":"mixed","b":"x"}}}`, with(func(o *ToXMLOptions) {
			o.Indent, o.TextNodeName = true, "#text"
		})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NewToXML(tc.opts).Convert([]byte(tc.in))
			if err != nil {
				t.Fatalf("Convert(%q) error: %v", tc.in, err)
			}
			golden(t, "json2xml", tc.name, got)
		})
	}
}

func TestSyntaxErrors(t *testing.T) {
	cases := []struct {
		name, in string
		toXML    bool
		want     string
	}{
		{"xml-empty", "", false, "Premature end of document while parsing at line 1(possibly  around char 0)"},
		{"xml-unclosed", "<a><b></b>", false, "Premature end of document"},
		{"xml-mismatch", "<a><b></a>", false, "Unexpected close tag </a>; expected </b>"},
		{"xml-two-roots", "<a/><b/>", false, "after the root element"},
		{"xml-text-outside", "<a/>junk", false, "outside the root element"},
		{"xml-bad-entity", "<a>&nbsp;</a>", false, "entity"},
		{"json-empty", "", true, "Premature end of document while parsing at line 1(possibly  around char 0)"},
		{"json-truncated", `{"a":[1,2`, true, "Premature end of document"},
		{"json-bad-token", "{\n  \"a\": nope}", true, "at line 2(possibly  around char 7)"},
		{"json-trailing", `{"a":1} x`, true, "after the document"},
		{"json-bad-escape", `{"a":"\q"}`, true, "Unrecognized character escape"},
		{"json-bad-number", `{"a":-}`, true, "Invalid number"},
		{"json-leading-zero", `{"a":007}`, true, "Invalid number"},
		{"json-control-char", "{\"a\":\"x\ny\"}", true, "Illegal unquoted character"},
		{"json-deep", strings.Repeat("[", maxDepth+1), true, "Nesting deeper"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.toXML {
				_, err = NewToXML(DefaultToXML()).Convert([]byte(tc.in))
			} else {
				_, err = NewToJSON(DefaultToJSON()).Convert([]byte(tc.in))
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Convert(%q) error = %v, want a *SyntaxError", tc.in, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Convert(%q) error = %q, want it to contain %q", tc.in, err, tc.want)
			}
		})
	}
}

// TestRoundTrip converts XML to JSON and back with matching options and
// expects the original document (attributes, namespaces, order).
func TestRoundTrip(t *testing.T) {
	in := `<order xmlns="urn:o" id="7"><item sku="a">2</item><item sku="b">3</item><note>hi</note></order>`
	jo, _ := Preset("badgerFish")
	js, err := NewToJSON(jo).Convert([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	xo := DefaultToXML()
	xo.OmitXMLDeclaration = true
	xo.AttributePrefix, xo.TextNodeName = "@", "$"
	xo.NamespaceBlockName, xo.DefaultNamespaceNodeName = "@xmlns", "$"
	back, err := NewToXML(xo).Convert([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	if back != in {
		t.Errorf("round trip:\n in  %s\n json %s\n out %s", in, js, back)
	}
}

func TestPresetUnknown(t *testing.T) {
	if _, ok := Preset("jsonml"); ok {
		t.Errorf("Preset(%q) ok = true, want false", "jsonml")
	}
}

func TestTreatAsArrayUnwrapRepeated(t *testing.T) {
	o := DefaultToJSON()
	o.NamespaceSeparator = "_"
	o.TreatAsArray = []ArrayPath{{Path: "r:list/r:line/r:sku", Unwrap: true}}
	in := `<r:list xmlns:r="urn:r"><r:line><r:sku>a</r:sku></r:line><r:line><r:sku>b</r:sku><r:sku>c</r:sku></r:line></r:list>`
	got, err := NewToJSON(o).Convert([]byte(in))
	want := `{"r_list":{"r_line":[["a"],["b","c"]]}}`
	if err != nil || got != want {
		t.Errorf("Convert(%q) = %s, %v; want %s", in, got, err, want)
	}
}
