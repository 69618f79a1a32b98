package apitest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Call is one outgoing call a case made.
type Call struct {
	Method string `json:"method"`
	URL    string `json:"url"`
	Mock   string `json:"mock,omitempty"` // "" when no mock answered
	Status int    `json:"status,omitempty"`
	Fail   string `json:"fail,omitempty"`
	// Network is set when no mock matched and the file let the call through.
	Network bool `json:"network,omitempty"`
}

// UnmockedError is what an outgoing call no mock answers gets; the case
// fails naming the URL.
type UnmockedError struct{ Method, URL string }

func (e *UnmockedError) Error() string {
	return fmt.Sprintf("apigo test: no mock answers %s %s", e.Method, e.URL)
}

// mockTransport answers one file's outgoing calls. Cases of a file run one
// at a time, and reset clears what the previous case left: counts, the
// position in response lists, the calls seen.
type mockTransport struct {
	mocks   []*Mock
	servers map[string][]string // "host:port" -> TargetServer names
	network http.RoundTripper   // nil: unmocked calls fail

	mu     sync.Mutex
	served []int // responses used, per mock
	calls  []Call
}

func newMockTransport(f *File, servers map[string][]string, network http.RoundTripper) *mockTransport {
	t := &mockTransport{mocks: f.Mocks, servers: servers}
	if f.Network {
		t.network = network
	}
	t.reset()
	return t
}

func (t *mockTransport) reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.served = make([]int, len(t.mocks))
	t.calls = nil
}

// taken returns the calls since the last reset.
func (t *mockTransport) taken() []Call {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Call(nil), t.calls...)
}

// RoundTrip answers from the first mock that matches.
func (t *mockTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	u := req.URL.String()
	m, rsp := t.pick(req)
	if m == nil {
		t.record(Call{Method: req.Method, URL: u, Network: t.network != nil})
		if t.network != nil {
			return t.network.RoundTrip(req)
		}
		closeBody(req)
		return nil, &UnmockedError{Method: req.Method, URL: u}
	}
	t.record(Call{Method: req.Method, URL: u, Mock: m.Name, Status: rsp.Status, Fail: rsp.Fail})
	closeBody(req)
	if err := sleep(req.Context(), rsp.Delay); err != nil {
		return nil, err
	}
	if err := failure(rsp.Fail); err != nil {
		return nil, err
	}
	header := rsp.Headers.Clone()
	if header == nil {
		header = http.Header{}
	}
	return &http.Response{
		Status: fmt.Sprintf("%d %s", rsp.Status, http.StatusText(rsp.Status)), StatusCode: rsp.Status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: header, Body: io.NopCloser(bytes.NewReader(rsp.Body)),
		ContentLength: int64(len(rsp.Body)), Request: req,
	}, nil
}

func (t *mockTransport) record(c Call) {
	t.mu.Lock()
	t.calls = append(t.calls, c)
	t.mu.Unlock()
}

// pick finds the mock for req and the response it gives this time.
func (t *mockTransport) pick(req *http.Request) (*Mock, *MockResponse) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, m := range t.mocks {
		if !t.matches(m, req) {
			continue
		}
		n := t.served[i]
		t.served[i]++
		return m, m.Responses[min(n, len(m.Responses)-1)]
	}
	return nil, nil
}

func (t *mockTransport) matches(m *Mock, req *http.Request) bool {
	if !t.matchesServer(m, req) {
		return false
	}
	if m.Method != "" && m.Method != req.Method {
		return false
	}
	if m.path != nil && !m.path.MatchString(req.URL.Path) {
		return false
	}
	for _, h := range m.headers {
		vs, ok := req.Header[h.name]
		switch {
		case h.absent && ok, !h.absent && !ok:
			return false
		case !h.absent && !h.want.match(strings.Join(vs, ", ")):
			return false
		}
	}
	return true
}

// matchesServer matches by TargetServer name (the call's host:port is one
// of that server's) or by URL prefix; either is enough.
func (t *mockTransport) matchesServer(m *Mock, req *http.Request) bool {
	if m.URL != "" && hasURLPrefix(req.URL.String(), m.URL) {
		return true
	}
	if m.TargetServer == "" {
		return false
	}
	for _, name := range t.servers[hostPort(req)] {
		if name == m.TargetServer {
			return true
		}
	}
	return false
}

func hostPort(req *http.Request) string {
	port := req.URL.Port()
	if port == "" {
		port = "80"
		if req.URL.Scheme == "https" {
			port = "443"
		}
	}
	return strings.ToLower(req.URL.Hostname()) + ":" + port
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
}

// sleep waits d or until ctx ends (an io.timeout.millis shorter than the
// delay then times the call out, as a slow backend would).
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return &net.OpError{Op: "read", Net: "tcp", Err: timeoutError{}}
	}
}

// failure returns the transport error a fail mode simulates, shaped as the
// real one so that the engine and ServiceCallout classify it the same way.
func failure(mode string) error {
	switch mode {
	case "refused":
		return &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}
	case "connect_timeout":
		return &net.OpError{Op: "dial", Net: "tcp", Err: timeoutError{}}
	case "timeout":
		return &net.OpError{Op: "read", Net: "tcp", Err: timeoutError{}}
	case "reset":
		return &net.OpError{Op: "read", Net: "tcp", Err: &os.SyscallError{Syscall: "read", Err: syscall.ECONNRESET}}
	}
	return nil
}

// timeoutError is a net.Error that timed out.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout (mock)" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// serverIndex maps each enabled TargetServer's host:port to its names.
func serverIndex(servers map[string]serverAddr) map[string][]string {
	out := map[string][]string{}
	for name, a := range servers {
		key := strings.ToLower(a.host) + ":" + strconv.Itoa(a.port)
		out[key] = append(out[key], name)
	}
	return out
}

type serverAddr struct {
	host string
	port int
}
