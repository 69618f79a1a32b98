package bundle

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpusDir is the shared corpus of real bundles, from the module root.
const corpusDir = "../../shared/corpus"

// corpusBundles lists every folder of the corpus holding apiproxy/ or
// sharedflowbundle/.
func corpusBundles(t testing.TB) []string {
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skip("no corpus at", corpusDir)
	}
	var out []string
	_ = filepath.WalkDir(corpusDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if d.Name() == "apiproxy" || d.Name() == "sharedflowbundle" {
			parent := filepath.Dir(p)
			if len(out) == 0 || out[len(out)-1] != parent {
				out = append(out, parent)
			}
			return fs.SkipDir
		}
		return nil
	})
	return out
}

func TestLoadCorpus(t *testing.T) {
	dirs := corpusBundles(t)
	clean := 0
	for _, dir := range dirs {
		name := strings.TrimPrefix(dir, corpusDir+"/")
		t.Run(name, func(t *testing.T) {
			set, ps := Load([]string{dir}, Options{})
			if set == nil {
				t.Fatalf("Load(%q) returned a nil Set", dir)
			}
			for _, p := range ps.List {
				if p.Pos.File == "" || p.Pos.Line <= 0 {
					t.Errorf("problem without a position: %s", p)
				}
			}
			if len(set.Proxies)+len(set.SharedFlows) == 0 {
				t.Errorf("Load(%q) found no bundle", dir)
			}
			if !ps.HasErrors() {
				clean++
			} else {
				t.Logf("problems:\n%s", ps)
			}
		})
	}
	t.Logf("%d of %d corpus bundles load with no errors", clean, len(dirs))
}

// TestLoadCorpusWorkspace loads openbank, laid out as a workspace's apigee
// folder (apiproxies/<name>/apiproxy, sharedflows/<name>/sharedflowbundle).
func TestLoadCorpusWorkspace(t *testing.T) {
	dir := corpusDir + "/openbank"
	if _, err := os.Stat(dir); err != nil {
		t.Skip("no corpus at", corpusDir)
	}
	set, ps := Load([]string{dir}, Options{})
	for _, p := range ps.List {
		if p.Pos.File == "" || p.Pos.Line <= 0 {
			t.Errorf("problem without a position: %s", p)
		}
	}
	folders := func(sub string) int {
		entries, _ := os.ReadDir(filepath.Join(dir, sub))
		return len(entries)
	}
	if len(set.Proxies) != folders("apiproxies") || len(set.SharedFlows) != folders("sharedflows") {
		t.Errorf("Load(%q) = %d proxies, %d shared flows; want %d, %d", dir,
			len(set.Proxies), len(set.SharedFlows), folders("apiproxies"), folders("sharedflows"))
	}
	t.Logf("openbank: %d proxies, %d shared flows, problems:\n%s", len(set.Proxies), len(set.SharedFlows), ps)
}
