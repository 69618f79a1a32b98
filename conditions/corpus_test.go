package conditions

import (
	"encoding/xml"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpusDir is the shared corpus of real bundles, relative to this package.
const corpusDir = "../../shared/corpus"

// conditionElements are the elements whose text is a condition.
var conditionElements = map[string]bool{"Condition": true, "SkipCacheLookup": true, "SkipCachePopulation": true}

// corpusCondition is one condition text found in the corpus.
type corpusCondition struct {
	file string
	text string
}

// corpusConditions walks every .xml file of the corpus and returns the
// XML-unescaped text of its condition elements. It skips the test when the
// corpus is absent.
func corpusConditions(tb testing.TB) []corpusCondition {
	tb.Helper()
	if _, err := os.Stat(corpusDir); err != nil {
		tb.Skipf("corpus not available: %v", err)
	}
	var out []corpusCondition
	if err := walkCorpus(func(c corpusCondition) { out = append(out, c) }); err != nil {
		tb.Fatalf("walking corpus: %v", err)
	}
	return out
}

// walkCorpus calls fn for every condition of every .xml file in the corpus.
func walkCorpus(fn func(corpusCondition)) error {
	return filepath.WalkDir(corpusDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".xml") {
			return err
		}
		rel, _ := filepath.Rel(corpusDir, path)
		for _, text := range xmlConditionTexts(path) {
			fn(corpusCondition{file: rel, text: text})
		}
		return nil
	})
}

// xmlConditionTexts returns condition element texts of one file; a file
// that is not well-formed yields what was read before the error.
func xmlConditionTexts(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	dec := xml.NewDecoder(f)
	dec.Strict = false
	var texts []string
	var cur *strings.Builder
	for {
		tok, err := dec.Token()
		if err != nil {
			return texts
		}
		switch t := tok.(type) {
		case xml.StartElement:
			cur = nil
			if conditionElements[t.Name.Local] {
				cur = &strings.Builder{}
			}
		case xml.CharData:
			if cur != nil {
				cur.Write(t)
			}
		case xml.EndElement:
			if cur != nil && conditionElements[t.Name.Local] {
				texts = append(texts, cur.String())
			}
			cur = nil
		}
	}
}

func TestCorpusConditionsCompile(t *testing.T) {
	conds := corpusConditions(t)
	if len(conds) < 100 {
		t.Fatalf("found %d conditions in the corpus, want at least 100", len(conds))
	}
	failed := 0
	for _, c := range conds {
		brokenOnPurpose := strings.HasPrefix(c.file, "apigeelint"+string(filepath.Separator))
		_, err := Compile(c.text)
		if err == nil {
			continue
		}
		var se *SyntaxError
		if !errors.As(err, &se) || se.Offset < 0 || se.Offset > len(c.text) || se.Col < 1 {
			t.Errorf("%s: Compile(%q) error %v has no valid position", c.file, c.text, err)
			continue
		}
		if brokenOnPurpose {
			t.Logf("%s: Compile(%q): %v\n%s", c.file, c.text, err, se.Caret())
			continue
		}
		failed++
		t.Errorf("%s: Compile(%q): %v\n%s", c.file, c.text, err, se.Caret())
	}
	t.Logf("compiled %d corpus conditions, %d failed outside apigeelint", len(conds), failed)
}
