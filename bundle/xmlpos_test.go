package bundle

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/beevik/etree"
)

// offsetOf turns a Pos of a Doc back into a byte offset of its source.
func offsetOf(d *Doc, p Pos) int {
	return d.lines[p.Line-1] + p.Col - 1
}

// checkDocPositions verifies that every element of d has a position, that
// the '<' of its start tag is there, and that its text position points at
// its first non-blank text.
func checkDocPositions(t testing.TB, d *Doc) {
	t.Helper()
	n := 0
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		n++
		p := d.Pos(e)
		if p.Line == 0 {
			t.Errorf("%s: <%s> has no position", d.File, e.Tag)
			return
		}
		if off := offsetOf(d, p); !bytes.HasPrefix(d.src[off:], []byte("<"+e.FullTag())) {
			t.Errorf("%s: <%s> at %v, but the file there reads %.20q", d.File, e.Tag, p, d.src[off:])
		}
		text := strings.TrimLeft(e.Text(), blanks)
		if tp := d.TextPos(e); text != "" && !strings.HasPrefix(text, "&") {
			if off := offsetOf(d, tp); off >= len(d.src) || d.src[off] != text[0] && d.src[off] != '&' {
				t.Errorf("%s: text of <%s> at %v, want %q there", d.File, e.Tag, tp, text[0])
			}
		}
		for _, c := range e.ChildElements() {
			walk(c)
		}
	}
	for _, c := range d.Tree.ChildElements() {
		walk(c)
	}
	if n != len(d.spans) {
		t.Errorf("%s: tree has %d elements, position pass saw %d", d.File, n, len(d.spans))
	}
}

// checkConditionPositions verifies PosAt for every byte of c.Text: the file
// there holds that byte, or the entity or CDATA that produced it.
func checkConditionPositions(t testing.TB, d *Doc, c *Condition) {
	t.Helper()
	for i := 0; i < len(c.Text); i++ {
		off := offsetOf(d, c.PosAt(i))
		if off >= len(d.src) {
			t.Errorf("%s: PosAt(%d) of %q is past the end", d.File, i, c.Text)
			return
		}
		if got := d.src[off]; got != c.Text[i] && got != '&' && !(got == '\r' && c.Text[i] == '\n') {
			t.Errorf("%s: PosAt(%d) of %q = %v holding %q, want %q", d.File, i, c.Text, c.PosAt(i), got, c.Text[i])
			return
		}
	}
}

func TestElementPositions(t *testing.T) {
	b := loadOne(t, "testdata/simple")
	pe := b.ProxyEndpoints[0]
	file := "testdata/simple/apiproxy/proxies/default.xml"
	cases := []struct {
		what string
		got  Pos
		want Pos
	}{
		{"ProxyEndpoint after comment and declaration", pe.Pos, Pos{file, 3, 1}},
		{"PreFlow step", pe.PreFlow.Request[0].Pos, Pos{file, 19, 7}},
		{"step condition", pe.PreFlow.Request[0].Condition.Pos, Pos{file, 20, 20}},
		{"multi-line flow condition", pe.Flows[0].Condition.Pos, Pos{file, 33, 9}},
		{"escaped condition", pe.Flows[1].Condition.Pos, Pos{file, 38, 18}},
		{"BasePath text", pe.BasePathPos, Pos{file, 51, 15}},
		{"RouteRule", pe.RouteRules[1].Pos, Pos{file, 62, 3}},
		{"target after BOM and declaration", b.TargetEndpoints[0].Pos, Pos{"testdata/simple/apiproxy/targets/default.xml", 2, 1}},
		{"URL text", b.TargetEndpoints[0].HTTP.URLPos, Pos{"testdata/simple/apiproxy/targets/default.xml", 4, 10}},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: Pos = %v, want %v", c.what, c.got, c.want)
		}
	}
	for _, te := range b.TargetEndpoints {
		checkDocPositions(t, te.Doc)
	}
	for _, p := range b.Policies {
		checkDocPositions(t, p.Doc)
	}
}

func TestConditionPosAt(t *testing.T) {
	b := loadOne(t, "testdata/simple")
	flows := b.ProxyEndpoints[0].Flows
	file := "testdata/simple/apiproxy/proxies/default.xml"
	multi, escaped := flows[0].Condition, flows[1].Condition
	cases := []struct {
		name   string
		c      *Condition
		substr string
		want   Pos
	}{
		{"multi-line first", multi, "(proxy", Pos{file, 33, 9}},
		{"multi-line second line", multi, "and", Pos{file, 34, 11}},
		{"multi-line inside", multi, "request.verb", Pos{file, 34, 16}},
		{"escaped first &", escaped, "&&", Pos{file, 38, 26}},
		{"escaped second &", escaped, "& b", Pos{file, 38, 31}},
		{"after escapes", escaped, "b !=", Pos{file, 38, 37}},
		{"escaped <", escaped, "<y", Pos{file, 38, 43}},
		{"after &lt;", escaped, "y>", Pos{file, 38, 47}},
		{"end of text", escaped, "", Pos{file, 38, 53}},
	}
	for _, c := range cases {
		off := strings.Index(c.c.Text, c.substr)
		if c.substr == "" {
			off = len(c.c.Text)
		}
		if got := c.c.PosAt(off); got != c.want {
			t.Errorf("%s: PosAt(%d) of %q = %v, want %v", c.name, off, c.c.Text, got, c.want)
		}
	}
	hand := &Condition{Text: "a = 1", Pos: Pos{"f.xml", 3, 5}}
	if got, want := hand.PosAt(4), (Pos{"f.xml", 3, 9}); got != want {
		t.Errorf("PosAt(4) without Raw = %v, want %v", got, want)
	}
}

func TestUnescapeRaw(t *testing.T) {
	cases := []struct{ raw, want string }{
		{"a &amp;&amp; b", "a && b"},
		{"&lt;&gt;&quot;&apos;", `<>"'`},
		{"&#65;&#x42;&#x1F600;", "AB\U0001F600"},
		{"x<![CDATA[<&>]]>y", "x<&>y"},
		{"a<!-- c -->b", "ab"},
		{"a\r\nb\rc", "a\nb\nc"},
		{"&bogus; & end", "&bogus; & end"},
	}
	for _, c := range cases {
		got, idx := unescapeRaw(c.raw)
		if got != c.want || len(idx) != len(got) {
			t.Errorf("unescapeRaw(%q) = %q (%d offsets), want %q", c.raw, got, len(idx), c.want)
		}
	}
}

// TestPositionsAgreeOnCorpus checks the parallel position pass against
// etree's tree, and PosAt, on every XML file of the corpus.
func TestPositionsAgreeOnCorpus(t *testing.T) {
	files := corpusXML(t)
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		d := parseXML(f, src, &Problems{})
		if d == nil {
			continue
		}
		checkDocPositions(t, d)
		for _, e := range d.Tree.FindElements("//Condition") {
			if c := d.condition(e, &Problems{}); c != nil {
				checkConditionPositions(t, d, c)
			}
		}
	}
	t.Logf("checked %d files", len(files))
}

func corpusXML(t testing.TB) []string {
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skip("no corpus at", corpusDir)
	}
	var out []string
	_ = filepath.WalkDir(corpusDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".xml") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func FuzzLoadXML(f *testing.F) {
	for _, p := range []string{"testdata/simple/apiproxy/proxies/default.xml", "testdata/bad-xml/apiproxy/proxies/default.xml"} {
		if src, err := os.ReadFile(p); err == nil {
			f.Add(src)
		}
	}
	if _, err := os.Stat(corpusDir); err == nil {
		for i, p := range corpusXML(f) {
			if i%8 != 0 { // a spread of the corpus keeps the seed run short
				continue
			}
			if src, err := os.ReadFile(p); err == nil {
				f.Add(src)
			}
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		fsys := fstest.MapFS{
			"apiproxy/proxies/default.xml":             {Data: src},
			"apiproxy/targets/default.xml":             {Data: src},
			"apiproxy/policies/p.xml":                  {Data: src},
			"sharedflowbundle/sharedflows/default.xml": {Data: src},
		}
		ps := &Problems{}
		s := source{fsys: fsys, prefix: "fuzz"}
		b := readBundle(s, "apiproxy", KindProxy, "fuzz", ps)
		checkBundle(b, ps)
		checkBundle(readBundle(s, "sharedflowbundle", KindSharedFlow, "fuzz", ps), ps)
		for _, p := range ps.List {
			if p.Pos.File == "" || p.Pos.Line <= 0 || p.Pos.Col <= 0 {
				t.Errorf("problem without a position: %s", p)
			}
		}
		if d := parseXML("f.xml", src, &Problems{}); d != nil {
			checkDocPositions(t, d)
			for _, e := range d.Tree.FindElements("//Condition") {
				if c := d.condition(e, &Problems{}); c != nil {
					checkConditionPositions(t, d, c)
				}
			}
		}
	})
}
