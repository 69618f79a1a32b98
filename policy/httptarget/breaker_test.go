package httptarget

import (
	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMaxFailures(t *testing.T) {
	tests := []struct {
		name  string
		retry string
		// wantErrors is how many of the requests fail: with retry none, else
		// the two that reach D before it leaves rotation.
		wantErrors int
	}{
		{"retry", "true", 0},
		{"no retry", "false", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := newBackend(t, "a"), newBackend(t, "b")
			conn := build(t, lbXML("<MaxFailures>2</MaxFailures><RetryEnabled>"+tt.retry+"</RetryEnabled>",
				`<Server name="A"/>`, `<Server name="D"/>`, `<Server name="B"/>`),
				env(ts(t, "A", a), deadTS(t, "D"), ts(t, "B", b)), Options{})
			errs := 0
			for range 6 { // round robin reaches D twice in six requests
				if got := sendName(t, conn); strings.HasPrefix(got, "!") {
					errs++
					if got != "!ConnectRefused" {
						t.Errorf("error %s, want ConnectRefused", got)
					}
				}
			}
			if errs != tt.wantErrors {
				t.Errorf("%d of 6 requests failed, want %d", errs, tt.wantErrors)
			}
			d := conn.Servers()[1]
			if d.Healthy() || d.Failures() != 2 {
				t.Fatalf("D healthy=%v failures=%d, want out of rotation after 2 failures", d.Healthy(), d.Failures())
			}
			var got []string
			for range 6 {
				got = append(got, sendName(t, conn))
			}
			for i := 1; i < len(got); i++ {
				if got[i] == got[i-1] || got[i][0] == '!' {
					t.Fatalf("with D out, answers = %v, want a and b alternating", got)
				}
			}
		})
	}
}

func TestRetryInfo(t *testing.T) {
	b := newBackend(t, "b")
	conn := build(t, lbXML("<MaxFailures>5</MaxFailures>", `<Server name="D"/>`, `<Server name="B"/>`),
		env(deadTS(t, "D"), ts(t, "B", b)), Options{})
	_, info, err := get(t, conn, "/x")
	if err != nil {
		t.Fatal(err)
	}
	if info.Server != "B" || !slices.Equal(info.FailedServers, []string{"D"}) {
		t.Errorf("Info server=%q failed=%v, want B after D failed", info.Server, info.FailedServers)
	}
}

func TestMaxFailuresZeroNeverTakesOut(t *testing.T) {
	a := newBackend(t, "a")
	conn := build(t, lbXML("<RetryEnabled>false</RetryEnabled>", `<Server name="D"/>`, `<Server name="A"/>`),
		env(deadTS(t, "D"), ts(t, "A", a)), Options{})
	var got []string
	for range 6 {
		got = append(got, sendName(t, conn))
	}
	want := []string{"!ConnectRefused", "a", "!ConnectRefused", "a", "!ConnectRefused", "a"}
	if !slices.Equal(got, want) {
		t.Errorf("answers = %v, want %v", got, want)
	}
}

func TestTakeOutOnFirstFailure(t *testing.T) {
	a := newBackend(t, "a")
	conn := build(t, lbXML("<MaxFailures>3</MaxFailures>", `<Server name="D"/>`, `<Server name="A"/>`),
		env(deadTS(t, "D"), ts(t, "A", a)), Options{TakeOutOnFirstFailure: true})
	sendName(t, conn)
	if conn.Servers()[0].Healthy() {
		t.Errorf("D still in rotation after its first failure with TakeOutOnFirstFailure")
	}
}

func TestServerUnhealthyResponse(t *testing.T) {
	a, b := newBackend(t, "a"), newBackend(t, "b")
	a.status.Store(503)
	conn := build(t, lbXML("<MaxFailures>2</MaxFailures><ServerUnhealthyResponse><ResponseCode>503</ResponseCode></ServerUnhealthyResponse>",
		`<Server name="A"/>`, `<Server name="B"/>`), env(ts(t, "A", a), ts(t, "B", b)), Options{})
	// Request 1: A answers 503 (unhealthy, failure 1), retried on B.
	m, info, err := get(t, conn, "/x")
	if err != nil || m.Status != 200 || info.Server != "B" || !slices.Equal(info.FailedServers, []string{"A"}) {
		t.Fatalf("first request: status=%v server=%q failed=%v err=%v, want 200 from B after A", status(m), info.Server, info.FailedServers, err)
	}
	// A plain 500 is a response: it resets A's count and is not retried.
	a.status.Store(500)
	m, info, _ = get(t, conn, "/x")
	if info.Server != "A" {
		m, info, _ = get(t, conn, "/x") // round robin: the next one goes to A
	}
	if status(m) != 500 || info.Server != "A" || len(info.FailedServers) != 0 {
		t.Fatalf("500 from A: status=%v server=%q failed=%v, want A's 500 returned as is", status(m), info.Server, info.FailedServers)
	}
	if f := conn.Servers()[0].Failures(); f != 0 {
		t.Errorf("A failures after a 500 = %d, want 0 (any other response resets)", f)
	}
	a.status.Store(503)
	for range 4 {
		sendName(t, conn)
	}
	if conn.Servers()[0].Healthy() {
		t.Errorf("A still in rotation after two 503s listed in ServerUnhealthyResponse")
	}
}

func status(m *exchange.Message) int {
	if m == nil {
		return 0
	}
	return m.Status
}

func TestUnhealthyResponseWithoutRetryIsReturned(t *testing.T) {
	a, b := newBackend(t, "a"), newBackend(t, "b")
	a.status.Store(502)
	conn := build(t, lbXML("<RetryEnabled>false</RetryEnabled><ServerUnhealthyResponse><ResponseCode>502</ResponseCode></ServerUnhealthyResponse>",
		`<Server name="A"/>`, `<Server name="B"/>`), env(ts(t, "A", a), ts(t, "B", b)), Options{})
	m, info, err := get(t, conn, "/x")
	if err != nil || m.Status != 502 || info.Server != "A" {
		t.Errorf("got status %d from %q (err %v), want A's 502", m.Status, info.Server, err)
	}
}

func TestFallback(t *testing.T) {
	a, f := newBackend(t, "a"), newBackend(t, "f")
	conn := build(t, lbXML("<MaxFailures>1</MaxFailures><ServerUnhealthyResponse><ResponseCode>503</ResponseCode></ServerUnhealthyResponse>",
		`<Server name="A"/>`, `<Server name="F"><IsFallback>true</IsFallback></Server>`),
		env(ts(t, "A", a), ts(t, "F", f)), Options{ReadmitAfter: time.Millisecond})
	for range 4 {
		if got := sendName(t, conn); got != "a" {
			t.Fatalf("with A healthy a request went to %q, want a (fallback unused)", got)
		}
	}
	a.status.Store(503)
	m, info, err := get(t, conn, "/x")
	if err != nil || m.Header.Get("X-Server") != "f" || !info.IsFallback {
		t.Fatalf("A down: answer from %q fallback=%v err=%v, want the fallback", m.Header.Get("X-Server"), info.IsFallback, err)
	}
	a.status.Store(0)
	eventually(t, "A to be re-admitted", func() bool { return sendName(t, conn) == "a" })
	fHits := f.hits.Load()
	for range 4 {
		if got := sendName(t, conn); got != "a" {
			t.Errorf("after A recovered a request went to %q, want a", got)
		}
	}
	if f.hits.Load() != fHits {
		t.Errorf("fallback got %d more requests after A recovered, want 0", f.hits.Load()-fHits)
	}
}

func TestReadmitAfter(t *testing.T) {
	a, b := newBackend(t, "a"), newBackend(t, "b")
	var mu sync.Mutex
	var logs []string
	conn := build(t, lbXML("<MaxFailures>1</MaxFailures><RetryEnabled>false</RetryEnabled><ServerUnhealthyResponse><ResponseCode>503</ResponseCode></ServerUnhealthyResponse>",
		`<Server name="A"/>`, `<Server name="B"/>`), env(ts(t, "A", a), ts(t, "B", b)),
		Options{ReadmitAfter: 20 * time.Millisecond, Log: func(s string) { mu.Lock(); logs = append(logs, s); mu.Unlock() }})
	a.status.Store(503)
	sendName(t, conn)
	if conn.Servers()[0].Healthy() {
		t.Fatal("A still in rotation after a 503 with MaxFailures 1")
	}
	// Still failing: the half-open request fails and A stays out.
	eventually(t, "a half-open request to A", func() bool { h := a.hits.Load(); sendName(t, conn); return a.hits.Load() > h })
	if conn.Servers()[0].Healthy() {
		t.Error("A re-admitted although its half-open request got a 503")
	}
	a.status.Store(0)
	eventually(t, "A back in rotation", func() bool { sendName(t, conn); return conn.Servers()[0].Healthy() })
	mu.Lock()
	defer mu.Unlock()
	joined := strings.Join(logs, "\n")
	if !strings.Contains(joined, "A is out of rotation") || !strings.Contains(joined, "A is back in rotation") {
		t.Errorf("log = %q, want A leaving and rejoining rotation", joined)
	}
}

func TestNoActiveTargets(t *testing.T) {
	conn := build(t, lbXML("<MaxFailures>1</MaxFailures>", `<Server name="D"/>`), env(deadTS(t, "D")), Options{})
	if got := sendName(t, conn); got != "!ConnectRefused" {
		t.Errorf("first request = %q, want !ConnectRefused", got)
	}
	if got := sendName(t, conn); got != "!NoActiveTargets" {
		t.Errorf("second request = %q, want !NoActiveTargets", got)
	}
}

func TestDisabledServers(t *testing.T) {
	a, b := newBackend(t, "a"), newBackend(t, "b")
	sa := ts(t, "A", a)
	sa.IsEnabled = false
	conn := build(t, lbXML("", `<Server name="A"/>`, `<Server name="B"/>`), env(sa, ts(t, "B", b)), Options{})
	for range 4 {
		if got := sendName(t, conn); got != "b" {
			t.Errorf("request went to %q, want b (A is disabled)", got)
		}
	}
	sb := ts(t, "B", b)
	sb.IsEnabled = false
	h, doc := loadConn(t, lbXML("", `<Server name="A"/>`, `<Server name="B"/>`))
	var ps bundle.Problems
	all := Build(h, doc, env(sa, sb), Options{}, &ps)
	defer all.Close()
	if !strings.Contains(ps.String(), "every server of the LoadBalancer is disabled") {
		t.Errorf("problems = %q, want a warning that every server is disabled", ps.String())
	}
	if got := sendName(t, all); got != "!NoActiveTargets" {
		t.Errorf("with every server disabled: %q, want !NoActiveTargets", got)
	}
}
