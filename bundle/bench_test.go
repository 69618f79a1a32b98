package bundle

import "testing"

func BenchmarkLoadSimple(b *testing.B) {
	for b.Loop() {
		if _, ps := Load([]string{"testdata/simple"}, Options{}); ps.HasErrors() {
			b.Fatal(ps)
		}
	}
}

// BenchmarkLoadCorpus loads every corpus bundle once per iteration.
func BenchmarkLoadCorpus(b *testing.B) {
	dirs := corpusBundles(b)
	for b.Loop() {
		for _, d := range dirs {
			Load([]string{d}, Options{})
		}
	}
}
