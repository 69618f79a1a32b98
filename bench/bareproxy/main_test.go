package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestNewProxyForwards(t *testing.T) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Seen", r.Method+" "+r.URL.RequestURI())
		_, _ = io.WriteString(w, "from backend")
	}))
	defer be.Close()
	rp, err := newProxy(be.URL + "/base")
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(rp)
	defer front.Close()
	for _, tc := range []struct{ path, want string }{
		{"/bench/ping", "GET /base/bench/ping"},
		{"/x?a=b", "GET /base/x?a=b"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, err := http.Get(front.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.Header.Get("X-Seen"); resp.StatusCode != 200 || got != tc.want || string(b) != "from backend" {
				t.Errorf("GET %s = %d, backend saw %q, body %q; want 200, %q, %q", tc.path, resp.StatusCode, got, b, tc.want, "from backend")
			}
		})
	}
}

func TestNewProxyRejectsBadTargets(t *testing.T) {
	for _, target := range []string{"", "127.0.0.1:8080", "ftp://host/", "http://", "http://[::1"} {
		if _, err := newProxy(target); err == nil {
			t.Errorf("newProxy(%q) = nil error, want an error", target)
		}
	}
}

func TestNewProxyTransport(t *testing.T) {
	rp, err := newProxy("http://127.0.0.1:1")
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
}
