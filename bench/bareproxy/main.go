// Command bareproxy is the baseline of apigo's benchmarks: a
// net/http/httputil.ReverseProxy to one backend and nothing else, with a
// Transport tuned like apigo's target transport (flow/target.go), so the
// difference between the two is what apigo's flow engine costs.
//
// With -buffer-pool it also sets ReverseProxy.BufferPool, which the bare
// proxy lacks: without one it allocates a 32 KiB copy buffer per response.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"
)

// bufferPool is an httputil.BufferPool of 32 KiB buffers.
type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte {
	if v, ok := b.p.Get().(*[]byte); ok {
		return *v
	}
	return make([]byte, 32*1024)
}

func (b *bufferPool) Put(buf []byte) { b.p.Put(&buf) }

// newProxy returns a ReverseProxy to target whose Transport has apigo's
// settings: 3s connect, 55s response header, 60s idle, 256 idle
// connections per host. pooled adds a BufferPool.
func newProxy(target string, pooled bool) (*httputil.ReverseProxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("target %q is not an http(s) URL with a host", target)
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
	if pooled {
		rp.BufferPool = &bufferPool{}
	}
	return rp, nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:18081", "listen address `HOST:PORT`")
	target := flag.String("target", "http://127.0.0.1:18080", "backend `URL`")
	pooled := flag.Bool("buffer-pool", false, "copy response bodies through pooled buffers (ReverseProxy.BufferPool)")
	flag.Parse()
	rp, err := newProxy(*target, *pooled)
	if err != nil {
		log.Fatalf("bareproxy: -target: %v", err)
	}
	srv := &http.Server{Addr: *addr, Handler: rp, ReadHeaderTimeout: 30 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
