package httptarget

import (
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestHTTPMonitor(t *testing.T) {
	a, b := newBackend(t, "a"), newBackend(t, "b")
	conn := build(t, `<HTTPTargetConnection>
  <LoadBalancer><Server name="A"/><Server name="B"/><MaxFailures>2</MaxFailures></LoadBalancer>
  <HealthMonitor>
    <IsEnabled>true</IsEnabled>
    <IntervalInSec>0.01</IntervalInSec>
    <HTTPMonitor>
      <Request>
        <ConnectTimeoutInSec>5</ConnectTimeoutInSec>
        <SocketReadTimeoutInSec>5</SocketReadTimeoutInSec>
        <Verb>GET</Verb>
        <Path>/health</Path>
        <Header name="X-Check">1</Header>
        <IncludeHealthCheckIdHeader>true</IncludeHealthCheckIdHeader>
      </Request>
      <SuccessResponse>
        <ResponseCode>200</ResponseCode>
        <Header name="X-Status">OK</Header>
      </SuccessResponse>
    </HTTPMonitor>
  </HealthMonitor>
</HTTPTargetConnection>`, env(ts(t, "A", a), ts(t, "B", b)), Options{Org: "acme", Env: "dev"})

	eventually(t, "a probe of A", func() bool { return a.lastProbe() != nil })
	p := a.lastProbe()
	if p.Header.Get("X-Check") != "1" || !strings.HasPrefix(p.Header.Get("X-Apigee-Healthcheck-Id"), "acme/dev/") {
		t.Errorf("probe headers = %v, want X-Check: 1 and X-Apigee-Healthcheck-Id: acme/dev/...", p.Header)
	}
	a.health.Store(500)
	eventually(t, "A taken out by the monitor", func() bool { return !conn.Servers()[0].Healthy() })
	for range 4 {
		if got := sendName(t, conn); got != "b" {
			t.Errorf("with A out a request went to %q, want b", got)
		}
	}
	a.health.Store(0)
	eventually(t, "A put back by the monitor", func() bool { return conn.Servers()[0].Healthy() })
	if f := conn.Servers()[0].Failures(); f != 0 {
		t.Errorf("A failures after a healthy probe = %d, want 0", f)
	}
	seen := map[string]bool{}
	for range 4 {
		seen[sendName(t, conn)] = true
	}
	if !seen["a"] || !seen["b"] {
		t.Errorf("after recovery answers came from %v, want both a and b", seen)
	}
}

func TestHTTPMonitorSuccessHeader(t *testing.T) {
	a := newBackend(t, "a")
	conn := build(t, `<HTTPTargetConnection>
  <LoadBalancer><Server name="A"/><MaxFailures>1</MaxFailures></LoadBalancer>
  <HealthMonitor><IsEnabled>true</IsEnabled><IntervalInSec>0.01</IntervalInSec>
    <HTTPMonitor><Request><Path>/health</Path></Request>
      <SuccessResponse><Header name="X-Status">DIFFERENT</Header></SuccessResponse></HTTPMonitor>
  </HealthMonitor>
</HTTPTargetConnection>`, env(ts(t, "A", a)), Options{})
	eventually(t, "A taken out for a missing success header", func() bool { return !conn.Servers()[0].Healthy() })
	if got := sendName(t, conn); got != "!NoActiveTargets" {
		t.Errorf("request = %q, want !NoActiveTargets", got)
	}
}

func TestTCPMonitor(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	port := l.Addr().(*net.TCPAddr).Port
	go acceptAll(l)
	b := newBackend(t, "b")
	e := env(ts(t, "B", b))
	e.TargetServers["T"] = ts(t, "T", b)
	e.TargetServers["T"].Port = port
	conn := build(t, `<HTTPTargetConnection>
  <LoadBalancer><Server name="T"/><Server name="B"/><MaxFailures>1</MaxFailures></LoadBalancer>
  <HealthMonitor><IsEnabled>true</IsEnabled><IntervalInSec>0.01</IntervalInSec>
    <TCPMonitor><ConnectTimeoutInSec>5</ConnectTimeoutInSec></TCPMonitor>
  </HealthMonitor>
</HTTPTargetConnection>`, e, Options{})
	l.Close()
	eventually(t, "T taken out by the TCP monitor", func() bool { return !conn.Servers()[0].Healthy() })
	l2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	defer l2.Close()
	go acceptAll(l2)
	eventually(t, "T put back by the TCP monitor", func() bool { return conn.Servers()[0].Healthy() })
}

func acceptAll(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		c.Close()
	}
}

func TestCloseStopsMonitors(t *testing.T) {
	a := newBackend(t, "a")
	e := env(ts(t, "A", a))
	base := settledGoroutines()
	var conns []*Connection
	for range 5 {
		conns = append(conns, build(t, `<HTTPTargetConnection>
  <LoadBalancer><Server name="A"/><MaxFailures>1</MaxFailures></LoadBalancer>
  <HealthMonitor><IsEnabled>true</IsEnabled><IntervalInSec>0.005</IntervalInSec>
    <HTTPMonitor><Request><Path>/health</Path></Request></HTTPMonitor>
  </HealthMonitor>
</HTTPTargetConnection>`, e, Options{}))
	}
	eventually(t, "probes", func() bool { return a.lastProbe() != nil })
	eventually(t, "5 monitor goroutines running", func() bool { return runtime.NumGoroutine() >= base+5 })
	for _, c := range conns {
		c.Close()
	}
	eventually(t, "goroutines back to the baseline", func() bool { return runtime.NumGoroutine() <= base })
}

// settledGoroutines waits for goroutines left by earlier tests (closing
// connections) to finish, and returns the count once it holds still.
func settledGoroutines() int {
	n := runtime.NumGoroutine()
	for i := 0; i < 100; i++ {
		time.Sleep(10 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m == n {
			return n
		}
		n = m
	}
	return n
}
