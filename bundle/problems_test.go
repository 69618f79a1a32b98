package bundle

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// problemCases are loaded in order; their problems make testdata/problems.golden.
var problemCases = []struct {
	name  string
	paths []string
	opts  Options
}{
	{"simple", []string{"testdata/simple"}, Options{}},
	{"bad-xml", []string{"testdata/bad-xml"}, Options{}},
	{"bad-refs", []string{"testdata/bad-refs"}, Options{}},
	{"dup-basepath", []string{"testdata/dup-basepath"}, Options{}},
	{"ws-bad", []string{"testdata/ws-bad"}, Options{}},
	{"workspace-no-env", []string{"testdata/workspace"}, Options{}},
	{"workspace-unknown-env", []string{"testdata/workspace"}, Options{Env: "prod"}},
	{"not-a-bundle", []string{"testdata/simple/apiproxy/resources", "testdata/no-such-dir"}, Options{}},
	{"empty-proxy", []string{"testdata/empty-proxy"}, Options{}},
	{"same-proxy-twice", []string{"testdata/simple", "testdata/simple/apiproxy"}, Options{}},
}

func TestProblemsGolden(t *testing.T) {
	var b strings.Builder
	for _, c := range problemCases {
		set, ps := Load(c.paths, c.opts)
		if set == nil || set.Env == nil {
			t.Fatalf("Load(%q) returned a nil Set or Env", c.paths)
		}
		b.WriteString("== " + c.name + "\n")
		b.WriteString(ps.String())
	}
	got := b.String()
	const golden = "testdata/problems.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./bundle -update)", err)
	}
	if got != string(want) {
		t.Errorf("problems differ from %s (run with -update after checking):\n--- got\n%s--- want\n%s", golden, got, want)
	}
}

func TestProblemsSorted(t *testing.T) {
	for _, c := range problemCases {
		_, ps := Load(c.paths, c.opts)
		for i := 1; i < len(ps.List); i++ {
			a, b := ps.List[i-1].Pos, ps.List[i].Pos
			if a.File > b.File || a.File == b.File && (a.Line > b.Line || a.Line == b.Line && a.Col > b.Col) {
				t.Errorf("%s: problems out of order: %s before %s", c.name, a, b)
			}
		}
	}
}
