package template

import (
	"errors"
	"html"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// corpusDir is the shared corpus of real bundles, relative to this package.
const corpusDir = "../../../shared/corpus"

var (
	templateElem = regexp.MustCompile(`(?s)<(Payload|Template|Header|URL|Path|Verb|StatusCode|ReasonPhrase|QueryParam|FormParam|Message)\b([^>]*)>(.*?)</(?:Payload|Template|Header|URL|Path|Verb|StatusCode|ReasonPhrase|QueryParam|FormParam|Message)>`)
	prefixAttr   = regexp.MustCompile(`variablePrefix\s*=\s*["']([^"']*)["']`)
	suffixAttr   = regexp.MustCompile(`variableSuffix\s*=\s*["']([^"']*)["']`)
	cdata        = regexp.MustCompile(`(?s)<!\[CDATA\[(.*?)\]\]>`)
)

// corpusTemplate is one template text found in the corpus.
type corpusTemplate struct {
	file, text     string
	prefix, suffix string
}

// corpusTemplates extracts the text of template-bearing elements from the corpus XML.
func corpusTemplates(tb testing.TB) []corpusTemplate {
	tb.Helper()
	if _, err := os.Stat(corpusDir); err != nil {
		tb.Skipf("corpus not found at %s", corpusDir)
	}
	var out []corpusTemplate
	err := filepath.WalkDir(corpusDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".xml") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range templateElem.FindAllStringSubmatch(string(data), -1) {
			text := cdata.ReplaceAllString(m[3], "$1")
			ct := corpusTemplate{file: path, text: html.UnescapeString(text)}
			if p := prefixAttr.FindStringSubmatch(m[2]); p != nil {
				ct.prefix = p[1]
			}
			if s := suffixAttr.FindStringSubmatch(m[2]); s != nil {
				ct.suffix = s[1]
			}
			out = append(out, ct)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func checkSyntaxError(t *testing.T, text string, err error) {
	t.Helper()
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("Parse(%q) error %T %v, want *SyntaxError", text, err, err)
	}
	if se.Offset < 0 || se.Offset > len(text) {
		t.Fatalf("Parse(%q) offset %d outside [0, %d]", text, se.Offset, len(text))
	}
}

// TestCorpusTemplates parses every template of the real bundles. Strict failures are
// logged (they must be positioned *SyntaxErrors); with Lenient every one must load.
func TestCorpusTemplates(t *testing.T) {
	all := corpusTemplates(t)
	if len(all) < 100 {
		t.Fatalf("found only %d corpus templates", len(all))
	}
	strictFailures := 0
	for _, ct := range all {
		opts := []Option{Delimiters(ct.prefix, ct.suffix)}
		tp, err := Parse(ct.text, opts...)
		if err != nil {
			checkSyntaxError(t, ct.text, err)
			strictFailures++
			t.Logf("strict: %s: %v", ct.file, err)
			if tp, err = Parse(ct.text, append(opts, Lenient())...); err != nil {
				t.Errorf("Parse(%q, Lenient) error: %v", ct.text, err)
				continue
			}
		}
		_ = tp.Render(MapVars{})
	}
	t.Logf("%d corpus templates, %d rejected in strict mode", len(all), strictFailures)
	if strictFailures*20 > len(all) {
		t.Errorf("%d of %d corpus templates fail to parse strictly", strictFailures, len(all))
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"{a}", "{a:b}", `{"a":"{b}"}`, "{substring(a,-4)}", "{jsonPath($..x[?(@.y>1)],c,true)}",
		"{xpath('/a/b/text()',x,'string',ns)}", `\{x}`, "@a#", "{timeFormatUTCMs('yyyy',t)}",
		"{xeger('[a-z]{3}')}", "{hmacSha256(k,v,'hex','base64')}", "{{a}}", "{a",
	} {
		f.Add(s)
	}
	if _, err := os.Stat(corpusDir); err == nil {
		for _, ct := range corpusTemplates(f) {
			f.Add(ct.text)
		}
	}
	vars := MapVars{"a": "abc", "b": 2, "c": `{"x":[{"y":2}]}`, "x": "<a><b>1</b></a>", "t": 1700000000000}
	f.Fuzz(func(t *testing.T, text string) {
		for _, opts := range [][]Option{nil, {Lenient()}, {Delimiters("@", "#")}, {StrictSpaces(), RawBackslash()}} {
			tp, err := Parse(text, opts...)
			if err != nil {
				checkSyntaxError(t, text, err)
				continue
			}
			_ = tp.Render(vars)
			_, _ = tp.Execute(vars)
			_ = tp.Refs()
		}
	})
}
