package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// big is larger than one 32 KiB copy buffer, so copying it reuses one.
var big = strings.Repeat("0123456789abcdef", 6000)

func testBackend(t *testing.T) *httptest.Server {
	t.Helper()
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Seen", r.Method+" "+r.URL.RequestURI())
		if strings.HasSuffix(r.URL.Path, "/big") {
			_, _ = io.WriteString(w, big)
			return
		}
		_, _ = io.WriteString(w, "from backend")
	}))
	t.Cleanup(be.Close)
	return be
}

func TestNewProxyForwards(t *testing.T) {
	be := testBackend(t)
	for _, pooled := range []bool{false, true} {
		rp, err := newProxy(be.URL+"/base", pooled)
		if err != nil {
			t.Fatal(err)
		}
		front := httptest.NewServer(rp)
		t.Cleanup(front.Close)
		for _, tc := range []struct{ path, seen, body string }{
			{"/bench/ping", "GET /base/bench/ping", "from backend"},
			{"/x?a=b", "GET /base/x?a=b", "from backend"},
			{"/big", "GET /base/big", big},
			{"/big", "GET /base/big", big}, // again, with a buffer back from the pool
		} {
			t.Run(fmt.Sprintf("pooled=%v%s", pooled, tc.path), func(t *testing.T) {
				status, seen, body := get(t, front.URL+tc.path)
				if status != 200 || seen != tc.seen || body != tc.body {
					t.Errorf("GET %s = %d, backend saw %q, body of %d bytes; want 200, %q, %d bytes",
						tc.path, status, seen, len(body), tc.seen, len(tc.body))
				}
			})
		}
	}
}

// get returns the status, the backend's X-Seen header and the body.
func get(t *testing.T, url string) (int, string, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("X-Seen"), string(b)
}

func TestNewProxyRejectsBadTargets(t *testing.T) {
	for _, target := range []string{"", "127.0.0.1:8080", "ftp://host/", "http://", "http://[::1"} {
		if _, err := newProxy(target, false); err == nil {
			t.Errorf("newProxy(%q) = nil error, want an error", target)
		}
	}
}

func TestNewProxySettings(t *testing.T) {
	for _, pooled := range []bool{false, true} {
		rp, err := newProxy("http://127.0.0.1:1", pooled)
		if err != nil {
			t.Fatal(err)
		}
		tr, ok := rp.Transport.(*http.Transport)
		if !ok {
			t.Fatalf("Transport is %T, want *http.Transport", rp.Transport)
		}
		if tr.MaxIdleConnsPerHost != 256 {
			t.Errorf("MaxIdleConnsPerHost = %d, want 256 like apigo's target transport", tr.MaxIdleConnsPerHost)
		}
		if got := rp.BufferPool != nil; got != pooled {
			t.Errorf("newProxy(pooled=%v): has BufferPool = %v", pooled, got)
		}
	}
}

func TestBufferPoolReuses(t *testing.T) {
	var p bufferPool
	b := p.Get()
	if len(b) != 32*1024 {
		t.Fatalf("Get() = %d bytes, want 32 KiB", len(b))
	}
	p.Put(b)
	if got := p.Get(); len(got) != 32*1024 {
		t.Errorf("Get() after Put = %d bytes, want 32 KiB", len(got))
	}
}
