package httptarget

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
)

func TestSendURLConnection(t *testing.T) {
	var got *http.Request
	var gotBody []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		gotBody, _ = io.ReadAll(r.Body)
		w.Header().Set("X-Reply", "yes")
		w.WriteHeader(201)
		io.WriteString(w, "created")
	}))
	defer srv.Close()
	conn := build(t, "<HTTPTargetConnection><URL>"+srv.URL+"/base</URL></HTTPTargetConnection>", nil,
		Options{MapURL: []URLMap{{From: "http://backend.test", To: srv.URL}}})
	if conn.LoadBalanced() || conn.Path() != nil || conn.URL().String() != srv.URL+"/base" {
		t.Fatalf("LoadBalanced=%v Path=%v URL=%v, want a URL connection", conn.LoadBalanced(), conn.Path(), conn.URL())
	}
	req := exchange.NewRequest()
	req.Verb = "POST"
	req.Body = []byte(`{"a":1}`)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Connection", "close")
	req.Header.Set("X-Custom", "v")
	m, info, err := conn.Send(WithHost(context.Background(), "virtual.test"), req, "http://backend.test/base/items?q=1", false)
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != 201 || m.Reason != "Created" || string(m.Body) != "created" || m.Header.Get("X-Reply") != "yes" || m.Version != "1.1" {
		t.Errorf("response = %d %q %q %v, want 201 Created \"created\"", m.Status, m.Reason, m.Body, m.Header)
	}
	if got.Method != "POST" || got.URL.RequestURI() != "/base/items?q=1" || string(gotBody) != `{"a":1}` || got.Host != "virtual.test" {
		t.Errorf("backend saw %s %s host %q body %q", got.Method, got.URL.RequestURI(), got.Host, gotBody)
	}
	if got.Header.Get("X-Custom") != "v" || got.Header.Get("User-Agent") != "" {
		t.Errorf("backend headers = %v, want X-Custom and no Go User-Agent", got.Header)
	}
	if info.URL != srv.URL+"/base/items?q=1" || info.Server != "" {
		t.Errorf("Info.URL = %q (server %q), want the mapped URL", info.URL, info.Server)
	}
	if info.SentStart.IsZero() || info.ReceivedEnd.Before(info.SentStart) {
		t.Errorf("timestamps = %+v, want SentStart <= ReceivedEnd", info)
	}
}

func TestSendStream(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Write(bytes.Repeat(b, 3))
	}))
	defer srv.Close()
	conn := build(t, "<HTTPTargetConnection><URL>"+srv.URL+"</URL></HTTPTargetConnection>", nil, Options{})
	req := exchange.NewRequest()
	req.Verb = "PUT"
	req.Stream = io.NopCloser(strings.NewReader("ab"))
	m, _, err := conn.Send(context.Background(), req, srv.URL, true)
	if err != nil {
		t.Fatal(err)
	}
	if m.Stream == nil || m.Body != nil {
		t.Fatalf("streamed response has Stream=%v Body=%q, want a Stream", m.Stream, m.Body)
	}
	b, _ := io.ReadAll(m.Stream)
	m.Stream.Close()
	if string(b) != "ababab" {
		t.Errorf("streamed body = %q, want ababab", b)
	}
}

func TestSendErrors(t *testing.T) {
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-hang
	}))
	defer slow.Close()
	defer close(hang)
	eof := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _, _ := w.(http.Hijacker).Hijack()
		c.Close()
	}))
	defer eof.Close()
	dead := "http://127.0.0.1:" + strconv.Itoa(deadPort(t))
	tests := []struct {
		name, url, props string
		want             Kind
	}{
		{"refused", dead + "/x", "", ConnectRefused},
		{"read timeout", slow.URL, `<Property name="io.timeout.millis">50</Property>`, ReadTimeout},
		{"eof", eof.URL, "", Other},
		{"bad url", "ftp://x/y", "", BadURL},
		{"not a url", "::", "", BadURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := build(t, "<HTTPTargetConnection><Properties>"+tt.props+"</Properties><URL>http://x</URL></HTTPTargetConnection>", nil, Options{})
			_, _, err := get(t, conn, tt.url)
			var e *Error
			if err == nil {
				t.Fatalf("Send(%q) succeeded, want %v", tt.url, tt.want)
			}
			e = err.(*Error)
			if e.Kind != tt.want {
				t.Errorf("Send(%q) kind = %v (%v), want %v", tt.url, e.Kind, e, tt.want)
			}
		})
	}
}

func TestSendCanceled(t *testing.T) {
	hang := make(chan struct{})
	entered := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-hang
	}))
	defer srv.Close()
	defer close(hang)
	h, p := hostPort(t, srv.URL)
	conn := build(t, lbXML("<MaxFailures>1</MaxFailures>", `<Server name="S"/>`),
		env(&bundle.TargetServer{Name: "S", Host: h, Port: p, IsEnabled: true}), Options{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-entered; cancel() }()
	_, _, err := conn.Send(ctx, exchange.NewRequest(), "/", false)
	if e, ok := err.(*Error); !ok || e.Kind != Canceled {
		t.Fatalf("Send with a canceled context = %v, want Canceled", err)
	}
	if !conn.Servers()[0].Healthy() || conn.Servers()[0].Failures() != 0 {
		t.Errorf("a canceled client counted as a server failure")
	}
}

func TestSuccessCodes(t *testing.T) {
	tests := []struct {
		prop string
		code int
		want bool
	}{
		{"", 200, true}, {"", 304, true}, {"", 404, false}, {"", 500, false},
		{"1XX,2XX,3XX,404", 404, true}, {"1xx,2xx,3xx,404", 500, false}, {"2XX", 302, false},
	}
	for _, tt := range tests {
		props := ""
		if tt.prop != "" {
			props = `<Properties><Property name="success.codes">` + tt.prop + `</Property></Properties>`
		}
		conn := build(t, "<HTTPTargetConnection>"+props+"<URL>http://x</URL></HTTPTargetConnection>", nil, Options{})
		if got := conn.IsSuccess(tt.code); got != tt.want {
			t.Errorf("success.codes %q: IsSuccess(%d) = %v, want %v", tt.prop, tt.code, got, tt.want)
		}
	}
}

func TestBuildErrors(t *testing.T) {
	a := &bundle.TargetServer{Name: "A", Host: "127.0.0.1", Port: 1, IsEnabled: true}
	tests := []struct{ name, xml, want string }{
		{"unknown server", lbXML("", `<Server name="nope"/>`), `targets/default.xml:4:1: <Server name="nope">: no such target server`},
		{"server without name", lbXML("", `<Server/>`), "<Server> has no name"},
		{"duplicate server", lbXML("", `<Server name="A"/>`, `<Server name="A"/>`), "listed twice"},
		{"no servers", lbXML(""), "lists no <Server>"},
		{"bad algorithm", lbXML("<Algorithm>Random</Algorithm>", `<Server name="A"/>`), `<Algorithm> "Random" is not one of`},
		{"bad max failures", lbXML("<MaxFailures>-1</MaxFailures>", `<Server name="A"/>`), "<MaxFailures>: \"-1\" is not a whole number"},
		{"bad weight", lbXML("<Algorithm>Weighted</Algorithm>", `<Server name="A"><Weight>0</Weight></Server>`), "<Weight>"},
		{"bad retry", lbXML("<RetryEnabled>maybe</RetryEnabled>", `<Server name="A"/>`), "<RetryEnabled>"},
		{"bad unhealthy code", lbXML("<ServerUnhealthyResponse><ResponseCode>5xx</ResponseCode></ServerUnhealthyResponse>", `<Server name="A"/>`), "not an HTTP status code"},
		{"bad timeout", `<HTTPTargetConnection><Properties><Property name="io.timeout.millis">soon</Property></Properties><URL>http://x</URL></HTTPTargetConnection>`, `targets/default.xml:2:`},
		{"bad success codes", `<HTTPTargetConnection><Properties><Property name="success.codes">2XX,abc</Property></Properties><URL>http://x</URL></HTTPTargetConnection>`, "success.codes"},
		{"neither url nor lb", `<HTTPTargetConnection/>`, "neither <URL> nor <LoadBalancer>"},
		{"monitor without lb", `<HTTPTargetConnection><URL>http://x</URL><HealthMonitor><IsEnabled>true</IsEnabled></HealthMonitor></HTTPTargetConnection>`, "<HealthMonitor> needs a <LoadBalancer>"},
		{"both monitors", `<HTTPTargetConnection><LoadBalancer><Server name="A"/></LoadBalancer><HealthMonitor><IsEnabled>true</IsEnabled><IntervalInSec>5</IntervalInSec><TCPMonitor/><HTTPMonitor/></HealthMonitor></HTTPTargetConnection>`, "both <TCPMonitor> and <HTTPMonitor>"},
		{"monitor without interval", `<HTTPTargetConnection><LoadBalancer><Server name="A"/></LoadBalancer><HealthMonitor><IsEnabled>true</IsEnabled><TCPMonitor/></HealthMonitor></HTTPTargetConnection>`, "positive <IntervalInSec>"},
		{"monitor without probe", `<HTTPTargetConnection><LoadBalancer><Server name="A"/></LoadBalancer><HealthMonitor><IsEnabled>true</IsEnabled><IntervalInSec>5</IntervalInSec></HealthMonitor></HTTPTargetConnection>`, "needs a <TCPMonitor> or an <HTTPMonitor>"},
		{"bad path template", `<HTTPTargetConnection><LoadBalancer><Server name="A"/></LoadBalancer><Path>/{a</Path></HTTPTargetConnection>`, "<Path>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, doc := loadConn(t, tt.xml)
			var ps bundle.Problems
			Build(h, doc, env(a), Options{}, &ps).Close()
			if got := ps.String(); !ps.HasErrors() || !strings.Contains(got, tt.want) || !strings.Contains(got, "targets/default.xml:") {
				t.Errorf("problems = %q, want an error containing %q with a position", got, tt.want)
			}
		})
	}
}

func TestBuildWarnings(t *testing.T) {
	a := &bundle.TargetServer{Name: "A", Host: "127.0.0.1", Port: 1, IsEnabled: true}
	tests := []struct{ name, xml, want string }{
		{"monitor without max failures", `<HTTPTargetConnection><LoadBalancer><Server name="A"/></LoadBalancer><HealthMonitor><IsEnabled>true</IsEnabled><IntervalInSec>60</IntervalInSec><TCPMonitor/></HealthMonitor></HTTPTargetConnection>`, "only when the LoadBalancer's <MaxFailures> is above 0"},
		{"unknown element", lbXML("<Bogus/>", `<Server name="A"/>`), "unexpected <Bogus>"},
		{"two fallbacks", lbXML("", `<Server name="A"><IsFallback>true</IsFallback></Server>`, `<Server name="B"><IsFallback>true</IsFallback></Server>`), "more than one <IsFallback>"},
	}
	b := &bundle.TargetServer{Name: "B", Host: "127.0.0.1", Port: 2, IsEnabled: true}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, doc := loadConn(t, tt.xml)
			var ps bundle.Problems
			Build(h, doc, env(a, b), Options{}, &ps).Close()
			if got := ps.String(); ps.HasErrors() || !strings.Contains(got, "warning: "+tt.want) && !strings.Contains(got, tt.want) {
				t.Errorf("problems = %q, want only a warning containing %q", got, tt.want)
			}
		})
	}
}
