// Command backend is the origin server of apigo's benchmarks: it answers
// every request with 200 and a fixed body of about 100 bytes, so that what
// the benchmark measures is the proxy in front of it.
package main

import (
	"flag"
	"log"
	"net/http"
	"strconv"
	"time"
)

// body is about 100 bytes: a small JSON document like a typical API answer.
var body = []byte(`{"status":"ok","service":"bench-backend","items":[1,2,3,4,5],"note":"a fixed body of about 100 bytes"}` + "\n")

// handler answers every request with 200 and body.
func handler() http.Handler {
	length := strconv.Itoa(len(body))
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hdr := w.Header()
		hdr.Set("Content-Type", "application/json")
		hdr.Set("Content-Length", length)
		_, _ = w.Write(body)
	})
}

func main() {
	addr := flag.String("addr", "127.0.0.1:18080", "listen address `HOST:PORT`")
	flag.Parse()
	srv := &http.Server{Addr: *addr, Handler: handler(), ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
