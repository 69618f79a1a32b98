package httptarget

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/apigo/apigo/policy/exchange"
)

// benchServers is a healthy pool of four servers.
func benchPool(algorithm string) *loadBalancer {
	lb := &loadBalancer{algorithm: algorithm}
	for i := range 4 {
		lb.servers = append(lb.servers, &Server{name: "s", index: i, weight: i + 1, enabled: true})
	}
	lb.finish(reader{}, nil)
	return lb
}

// BenchmarkPick measures one server selection (health read + algorithm)
// under concurrency.
func BenchmarkPick(b *testing.B) {
	for _, alg := range algorithms {
		b.Run(alg, func(b *testing.B) {
			lb := benchPool(alg)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if lb.pick(0) == nil {
						b.Fatal("no server")
					}
				}
			})
		})
	}
	b.Run("RoundRobinOneDown", func(b *testing.B) {
		lb := benchPool("RoundRobin")
		lb.maxFailures = 1
		lb.readmitAfter = DefaultReadmitAfter
		lb.failed(lb.servers[1], "bench")
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if lb.pick(0) == nil {
					b.Fatal("no server")
				}
			}
		})
	})
}

// BenchmarkSend measures one Send through a load-balanced connection to a
// loopback httptest backend (keep-alive).
func BenchmarkSend(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	be := &backend{name: "a", srv: srv}
	conn := build(b, lbXML("", `<Server name="A"/>`), env(ts(b, "A", be)), Options{})
	req := exchange.NewRequest()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := conn.Send(ctx, req, "/x", false); err != nil {
			b.Fatal(err)
		}
	}
}
