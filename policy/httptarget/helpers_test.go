package httptarget

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
)

// loadConn writes a TargetEndpoint holding conn (an <HTTPTargetConnection>
// element) into a temporary bundle and loads it.
func loadConn(t testing.TB, conn string) (*bundle.HTTPTargetConnection, *bundle.Doc) {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"apiproxy/p.xml":               `<APIProxy name="p"/>`,
		"apiproxy/proxies/default.xml": `<ProxyEndpoint name="default"><HTTPProxyConnection><BasePath>/p</BasePath></HTTPProxyConnection><RouteRule name="r"><TargetEndpoint>default</TargetEndpoint></RouteRule></ProxyEndpoint>`,
		"apiproxy/targets/default.xml": "<TargetEndpoint name=\"default\">\n" + conn + "\n</TargetEndpoint>\n",
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	set, ps := bundle.Load([]string{dir}, bundle.Options{})
	if len(set.Proxies) != 1 || len(set.Proxies[0].TargetEndpoints) != 1 || set.Proxies[0].TargetEndpoints[0].HTTP == nil {
		t.Fatalf("test bundle did not load: %s", ps)
	}
	te := set.Proxies[0].TargetEndpoints[0]
	return te.HTTP, te.Doc
}

// build compiles conn and fails the test on any error; the connection is
// closed at the end of the test.
func build(t testing.TB, conn string, env *bundle.Environment, opts Options) *Connection {
	t.Helper()
	h, doc := loadConn(t, conn)
	var ps bundle.Problems
	c := Build(h, doc, env, opts, &ps)
	t.Cleanup(c.Close)
	if ps.HasErrors() {
		t.Fatalf("Build: %s", ps.String())
	}
	return c
}

// backend is a loopback HTTP server answering with its name.
type backend struct {
	name   string
	srv    *httptest.Server
	hits   atomic.Int64
	status atomic.Int64 // status of normal requests; 0 means 200
	health atomic.Int64 // status of /health; 0 means 200
	mu     sync.Mutex
	probes []*http.Request
}

func newBackend(t testing.TB, name string) *backend {
	b := &backend{name: name}
	b.srv = httptest.NewServer(http.HandlerFunc(b.serve))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *backend) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/health" {
		b.mu.Lock()
		b.probes = append(b.probes, r)
		b.mu.Unlock()
		w.Header().Set("X-Status", "OK")
		w.WriteHeader(orOK(b.health.Load()))
		return
	}
	b.hits.Add(1)
	w.Header().Set("X-Server", b.name)
	w.WriteHeader(orOK(b.status.Load()))
	fmt.Fprintf(w, "%s %s %s", b.name, r.Method, r.URL.RequestURI())
}

func (b *backend) lastProbe() *http.Request {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.probes) == 0 {
		return nil
	}
	return b.probes[len(b.probes)-1]
}

func orOK(n int64) int {
	if n == 0 {
		return 200
	}
	return int(n)
}

// hostPort splits a test server's URL.
func hostPort(t testing.TB, raw string) (string, int) {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(u.Port())
	return u.Hostname(), p
}

// deadPort returns a loopback port nothing listens on.
func deadPort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return p
}

// env builds an environment of target servers.
func env(servers ...*bundle.TargetServer) *bundle.Environment {
	e := &bundle.Environment{Name: "test", TargetServers: map[string]*bundle.TargetServer{}}
	for _, s := range servers {
		e.TargetServers[s.Name] = s
	}
	return e
}

func ts(t testing.TB, name string, b *backend) *bundle.TargetServer {
	h, p := hostPort(t, b.srv.URL)
	return &bundle.TargetServer{Name: name, Host: h, Port: p, IsEnabled: true}
}

func deadTS(t testing.TB, name string) *bundle.TargetServer {
	return &bundle.TargetServer{Name: name, Host: "127.0.0.1", Port: deadPort(t), IsEnabled: true}
}

// lbXML renders an HTTPTargetConnection with a LoadBalancer.
func lbXML(inner string, servers ...string) string {
	var b strings.Builder
	b.WriteString("<HTTPTargetConnection>\n<LoadBalancer>\n")
	for _, s := range servers {
		b.WriteString(s + "\n")
	}
	b.WriteString(inner + "\n</LoadBalancer>\n<Path>/api</Path>\n</HTTPTargetConnection>")
	return b.String()
}

func get(t testing.TB, c *Connection, tail string) (*exchange.Message, *Info, error) {
	t.Helper()
	req := exchange.NewRequest()
	return c.Send(context.Background(), req, tail, false)
}

// sendName sends a GET and returns the X-Server of the answer, or the
// error kind as "!Kind".
func sendName(t testing.TB, c *Connection) string {
	t.Helper()
	m, _, err := get(t, c, "/x")
	if err != nil {
		return "!" + err.(*Error).Kind.String()
	}
	return m.Header.Get("X-Server")
}

// eventually polls cond until it holds or a generous deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
