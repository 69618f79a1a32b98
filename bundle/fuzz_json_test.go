package bundle

import (
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
)

// FuzzLoadJSON feeds one file's bytes as every environment file and every
// test data file: no panic, and every problem has a position.
func FuzzLoadJSON(f *testing.F) {
	for _, glob := range []string{"testdata/workspace/src/main/apigee/environments/*/*.json", "testdata/data*/*.json"} {
		files, _ := filepath.Glob(glob)
		for _, p := range files {
			if src, err := os.ReadFile(p); err == nil {
				f.Add(src)
			}
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		ps := &Problems{}
		fsys := fstest.MapFS{}
		for _, n := range []string{"deployments.json", "targetservers.json", "flowhooks.json"} {
			fsys["env/"+n] = &fstest.MapFile{Data: src}
		}
		readEnvironment(source{fsys: fsys, prefix: "fuzz"}, "env", "env", ps)
		data := &Data{}
		for _, read := range []func(*jsonFile, *Data){readProducts, readDevelopers, readApps, readKVMs} {
			if j := newJSONFile("fuzz.json", src, ps); j.check() {
				read(j, data)
			}
		}
		checkData(data, ps)
		for _, p := range ps.List {
			if p.Pos.File == "" || p.Pos.Line <= 0 || p.Pos.Col <= 0 {
				t.Errorf("problem without a position: %s", p)
			}
		}
	})
}

func FuzzParseProperties(f *testing.F) {
	if src, err := os.ReadFile("testdata/simple/apiproxy/resources/properties/cfg.properties"); err == nil {
		f.Add(src)
	}
	f.Add([]byte("a=\\u12"))
	f.Fuzz(func(t *testing.T, src []byte) {
		parseProperties(src)
	})
}
