package apitest

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

func mockFile(t *testing.T, src string) *File {
	t.Helper()
	f, err := Parse("m.test.yaml", []byte("serve: x\ncases: []\n"+src))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func send(t *testing.T, tr http.RoundTripper, method, url string, header http.Header) (int, string, error) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	if header != nil {
		req.Header = header
	}
	rsp, err := tr.RoundTrip(req)
	if err != nil {
		return 0, "", err
	}
	b, _ := io.ReadAll(rsp.Body)
	return rsp.StatusCode, string(b), nil
}

// TestMockMatching: target server by host:port, URL prefix on a boundary,
// method, path glob, headers; the first matching mock answers.
func TestMockMatching(t *testing.T) {
	f := mockFile(t, `
mocks:
  - {target_server: orders, method: POST, respond: {status: 201, body: orders-post}}
  - {target_server: orders, respond: {body: orders}}
  - {url: "https://api.example.com/v1", path: /v1/items/*/price, respond: {body: price}}
  - {url: "https://api.example.com/v1", headers: {x-tenant: /^t-\d+$/}, respond: {body: tenant}}
  - {url: "https://api.example.com/v1", path: /v1/**, respond: {body: v1}}
`)
	tr := newMockTransport(f, serverIndex(map[string]serverAddr{"orders": {"orders.internal", 8443}}), nil)
	tests := []struct {
		method, url string
		header      http.Header
		want        string // body, or "unmocked"
	}{
		{"POST", "https://orders.internal:8443/x", nil, "orders-post"},
		{"GET", "https://ORDERS.internal:8443/x", nil, "orders"},
		{"GET", "https://orders.internal/x", nil, "unmocked"}, // port 443 is not the server's
		{"GET", "https://api.example.com/v1/items/9/price", nil, "price"},
		{"GET", "https://api.example.com/v1/items/9/10/price", nil, "v1"}, // * stays in one segment
		{"GET", "https://api.example.com/v1/a", http.Header{"X-Tenant": {"t-42"}}, "tenant"},
		{"GET", "https://api.example.com/v1/a", http.Header{"X-Tenant": {"other"}}, "v1"},
		{"GET", "https://api.example.com/v1?q=1", nil, "v1"},
		{"GET", "https://api.example.com/v10/a", nil, "unmocked"}, // prefix ends on a boundary
	}
	for _, tt := range tests {
		_, body, err := send(t, tr, tt.method, tt.url, tt.header)
		var ue *UnmockedError
		switch {
		case tt.want == "unmocked" && !errors.As(err, &ue):
			t.Errorf("%s %s: got %q, %v; want an UnmockedError", tt.method, tt.url, body, err)
		case tt.want != "unmocked" && body != tt.want:
			t.Errorf("%s %s = %q, %v; want %q", tt.method, tt.url, body, err, tt.want)
		}
	}
}

// TestMockResponsesInTurn: a list answers in order, the last one repeats,
// and reset starts again.
func TestMockResponsesInTurn(t *testing.T) {
	f := mockFile(t, `
mocks:
  - url: http://b
    respond:
      - {status: 503}
      - {fail: refused}
      - {status: 200, body: ok}
`)
	tr := newMockTransport(f, nil, nil)
	for round := 0; round < 2; round++ {
		var got []string
		for range 4 {
			status, body, err := send(t, tr, "GET", "http://b/", nil)
			switch {
			case err != nil:
				got = append(got, "error")
			default:
				got = append(got, http.StatusText(status)+" "+body)
			}
		}
		want := []string{"Service Unavailable ", "error", "OK ok", "OK ok"}
		if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] || got[3] != want[3] {
			t.Errorf("round %d: %q, want %q", round, got, want)
		}
		if calls := tr.taken(); len(calls) != 4 || calls[1].Fail != "refused" || calls[0].Mock != "http://b" {
			t.Errorf("calls = %+v", calls)
		}
		tr.reset()
	}
}

// TestMockFailures: simulated failures look like the real transport errors
// the engine classifies (refused and connect timeouts are dial errors, a
// timeout is a net.Error that timed out).
func TestMockFailures(t *testing.T) {
	tests := []struct {
		mode          string
		dial, timeout bool
	}{
		{"refused", true, false},
		{"connect_timeout", true, true},
		{"timeout", false, true},
		{"reset", false, false},
	}
	for _, tt := range tests {
		err := failure(tt.mode)
		var oe *net.OpError
		if !errors.As(err, &oe) {
			t.Fatalf("failure(%q) = %T, want *net.OpError", tt.mode, err)
		}
		if (oe.Op == "dial") != tt.dial || oe.Timeout() != tt.timeout {
			t.Errorf("failure(%q): dial=%v timeout=%v, want %v %v", tt.mode, oe.Op == "dial", oe.Timeout(), tt.dial, tt.timeout)
		}
	}
}

// TestMockDelayHonoursDeadline: a delay longer than the caller waits ends
// as a timeout when the context does.
func TestMockDelayHonoursDeadline(t *testing.T) {
	f := mockFile(t, "mocks:\n  - {url: http://b, delay_ms: 5000}\n")
	tr := newMockTransport(f, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://b/", nil)
	start := time.Now()
	_, err := tr.RoundTrip(req)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || time.Since(start) > 2*time.Second {
		t.Errorf("RoundTrip = %v after %v, want a timeout at the deadline", err, time.Since(start))
	}
}
