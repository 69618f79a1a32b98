package conditions

import "testing"

func BenchmarkEval(b *testing.B) {
	c := MustCompile(`(proxy.pathsuffix MatchesPath "/orders/**") and (request.verb = "GET" or request.verb = "HEAD")`)
	v := mapVars{"proxy.pathsuffix": "/orders/123/items", "request.verb": "HEAD"}
	if !c.Eval(v) {
		b.Fatal("Eval = false, want true")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if !c.Eval(v) {
			b.Fatal("Eval = false, want true")
		}
	}
}

func BenchmarkEvalParallel(b *testing.B) {
	c := MustCompile(`(proxy.pathsuffix MatchesPath "/orders/**") and (request.verb = "GET" or request.verb = "HEAD")`)
	v := mapVars{"proxy.pathsuffix": "/orders/123/items", "request.verb": "HEAD"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if !c.Eval(v) {
				b.Error("Eval = false, want true")
				return
			}
		}
	})
}
