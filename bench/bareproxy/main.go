// Command bareproxy is the baseline of apigo's benchmarks: a
// net/http/httputil.ReverseProxy to one backend and nothing else, with a
// Transport tuned like apigo's target transport (flow/target.go), so the
// difference between the two is what apigo's flow engine costs.
package main

import (
	"flag"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18081", "listen address `HOST:PORT`")
	target := flag.String("target", "http://127.0.0.1:18080", "backend `URL`")
	flag.Parse()
	u, err := url.Parse(*target)
	if err != nil {
		log.Fatalf("bareproxy: -target: %v", err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	d := &net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}
	rp.Transport = &http.Transport{
		DialContext:           d.DialContext,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       60 * time.Second,
		ResponseHeaderTimeout: 55 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	srv := &http.Server{Addr: *addr, Handler: rp, ReadHeaderTimeout: 30 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
