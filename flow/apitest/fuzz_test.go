package apitest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: no input panics the parser, and every error has a position
// (a line) in the test file.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.test.yaml")
	more, _ := filepath.Glob("testdata/*/*.test.yaml")
	for _, p := range append(append(seeds, more...), "../../testdata/hello.test.yaml") {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("serve: x\ncases: [{request: {path: /}, expect: {body_json: {'$..a[?(@.b)]': /x/}}}]\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		_, err := Parse("f.test.yaml", src)
		if err == nil {
			return
		}
		var fe *FileError
		if !errors.As(err, &fe) || len(fe.Problems) == 0 {
			t.Fatalf("Parse error %v is not a FileError with problems", err)
		}
		for _, p := range fe.Problems {
			if p.Line == 0 && p.Msg == "" {
				t.Errorf("problem without position or message: %+v", p)
			}
		}
	})
}
