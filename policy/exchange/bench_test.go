package exchange

import "testing"

// lookupCases are the variables conditions read on every request.
var lookupCases = []string{
	"proxy.pathsuffix",
	"request.verb",
	"request.path",
	"request.header.accept",
	"request.queryparam.city",
	"response.status.code",
	"propertyset.backend.url",
}

func benchExchange() *Exchange {
	x := fixture()
	x.SetSystem("proxy.pathsuffix", "/forecast")
	x.SetPropertySets(map[string]map[string]string{"backend": {"url": "http://b"}})
	return x
}

func BenchmarkLookup(b *testing.B) {
	x := benchExchange()
	for _, name := range lookupCases {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := x.Lookup(name); !ok {
					b.Fatalf("Lookup(%q) unset", name)
				}
			}
		})
	}
}

// TestLookupDoesNotAllocate pins the zero-allocation promise of the hot
// condition variables, including after the message changed.
func TestLookupDoesNotAllocate(t *testing.T) {
	x := benchExchange()
	for _, name := range lookupCases {
		if n := testing.AllocsPerRun(100, func() { x.Lookup(name) }); n != 0 {
			t.Errorf("Lookup(%q) allocates %v times, want 0", name, n)
		}
	}
	x.Request().Verb = "DELETE"
	x.Request().Path = "/changed"
	x.Lookup("request.verb")
	x.Lookup("request.path")
	if got := x.Get("request.verb"); got != "DELETE" {
		t.Errorf("request.verb after the message changed = %#v, want %q", got, "DELETE")
	}
	if got := x.Get("request.path"); got != "/changed" {
		t.Errorf("request.path after the message changed = %#v, want %q", got, "/changed")
	}
	if n := testing.AllocsPerRun(100, func() { x.Lookup("request.verb"); x.Lookup("request.path") }); n != 0 {
		t.Errorf("request.verb/path after a change allocate %v times, want 0", n)
	}
}
