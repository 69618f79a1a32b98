package template

import "testing"

func BenchmarkRender(b *testing.B) {
	tp := MustParse("{a}/{b.c}?x={d}")
	v := MapVars{"a": "accounts", "b.c": "12345", "d": "query-value"}
	if got := tp.Render(v); got != "accounts/12345?x=query-value" {
		b.Fatalf("Render = %q", got)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = tp.Render(v)
	}
}

func BenchmarkRenderFunction(b *testing.B) {
	tp := MustParse("{toUpperCase(a)}-{substring(b.c,-3)}-{d:x}")
	v := MapVars{"a": "accounts", "b.c": "12345"}
	b.ReportAllocs()
	for b.Loop() {
		_ = tp.Render(v)
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_, _ = Parse(`{"id":"{request.queryparam.id:0}","ts":"{timeFormatUTCMs('yyyy-MM-dd',system.timestamp)}"}`)
	}
}
