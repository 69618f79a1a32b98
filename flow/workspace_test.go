package flow

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/apigo/apigo/bundle"
)

// namedBackend answers with its name and the path it received, and counts
// hits.
type namedBackend struct {
	*httptest.Server
	mu   sync.Mutex
	hits int
}

func newNamedBackend(t *testing.T, name string, extra func(w http.ResponseWriter, r *http.Request)) *namedBackend {
	t.Helper()
	b := &namedBackend{}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		b.hits++
		b.mu.Unlock()
		if extra != nil {
			extra(w, r)
		}
		_, _ = w.Write([]byte(name + " " + r.URL.RequestURI()))
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *namedBackend) count() int { b.mu.Lock(); defer b.mu.Unlock(); return b.hits }

// routingWorkspace serves testdata/routing for env with the named hosts
// mapped to backends: a target server name maps
// http://<name>.<env>.internal:80, a key starting with http:// maps itself.
func routingWorkspace(t *testing.T, env string, backends map[string]string) *httptest.Server {
	t.Helper()
	var maps []URLMap
	for name, url := range backends {
		from := "http://" + name + "." + env + ".internal:80" // a target server
		if strings.HasPrefix(name, "http://") {
			from = name
		}
		maps = append(maps, URLMap{From: from, To: url})
	}
	set, ps := bundle.Load([]string{"../testdata/routing"}, bundle.Options{Env: env})
	if ps.HasErrors() {
		t.Fatal(ps.String())
	}
	eng, bps := Build(set, Options{MapURL: maps})
	if eng == nil {
		t.Fatal(bps.String())
	}
	srv := httptest.NewServer(eng)
	t.Cleanup(func() { srv.Close(); eng.Close() })
	return srv
}

func deadURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + ln.Addr().String()
	ln.Close()
	return u
}

func TestWorkspaceRoundRobinAndFailover(t *testing.T) {
	u1 := newNamedBackend(t, "users-1", nil)
	u2 := newNamedBackend(t, "users-2", nil)
	fb := newNamedBackend(t, "fallback", nil)
	srv := routingWorkspace(t, "dev", map[string]string{"users-1": u1.URL, "users-2": u2.URL, "users-fallback": fb.URL})
	var got []string
	for i := 0; i < 4; i++ {
		_, hdr, body := do(t, "GET", srv.URL+"/shop/users/7", "")
		got = append(got, body)
		if hdr.Get("X-Route") != "users" || hdr.Get("X-Target") != "users" || hdr.Get("X-Environment") != "dev" {
			t.Errorf("route headers = %v", hdr)
		}
		if !strings.HasPrefix(body, hdr.Get("X-Target-Server")) {
			t.Errorf("loadbalancing.targetserver = %q for %q", hdr.Get("X-Target-Server"), body)
		}
	}
	want := "users-1 /api/users/7|users-2 /api/users/7|users-1 /api/users/7|users-2 /api/users/7"
	if strings.Join(got, "|") != want {
		t.Errorf("round robin = %q\nwant %q", strings.Join(got, "|"), want)
	}
	if fb.count() != 0 {
		t.Errorf("fallback used while servers are healthy")
	}
}

func TestWorkspaceCircuitBreakerAndFallback(t *testing.T) {
	u2 := newNamedBackend(t, "users-2", nil)
	fb := newNamedBackend(t, "fallback", nil)
	dead := deadURL(t)
	srv := routingWorkspace(t, "dev", map[string]string{"users-1": dead, "users-2": u2.URL, "users-fallback": fb.URL})
	// users-1 refuses connections: every request is retried on users-2,
	// and after MaxFailures (2) users-1 leaves rotation.
	for i := 0; i < 6; i++ {
		status, _, body := do(t, "GET", srv.URL+"/shop/users/1", "")
		if status != 200 || !strings.HasPrefix(body, "users-2 ") {
			t.Fatalf("request %d: %d %q, want users-2 to answer", i, status, body)
		}
	}
	if u2.count() != 6 || fb.count() != 0 {
		t.Errorf("users-2 hits = %d (want 6), fallback hits = %d (want 0)", u2.count(), fb.count())
	}
}

func TestWorkspaceAllDown(t *testing.T) {
	fb := newNamedBackend(t, "fallback", nil)
	srv := routingWorkspace(t, "dev", map[string]string{"users-1": deadURL(t), "users-2": deadURL(t), "users-fallback": fb.URL})
	// Both primaries fail twice each, then only the fallback is left.
	var last string
	for i := 0; i < 6; i++ {
		_, _, last = do(t, "GET", srv.URL+"/shop/users/1", "")
	}
	if !strings.HasPrefix(last, "fallback ") {
		t.Errorf("with both servers down: %q, want the fallback", last)
	}
	srv2 := routingWorkspace(t, "dev", map[string]string{"users-1": deadURL(t), "users-2": deadURL(t), "users-fallback": deadURL(t)})
	var status int
	var body string
	for i := 0; i < 8; i++ {
		status, _, body = do(t, "GET", srv2.URL+"/shop/users/1", "")
	}
	if _, code := faultOf(t, body); status != 503 || code != "messaging.adaptors.http.flow.NoActiveTargets" {
		t.Errorf("every server down: %d %q, want 503 NoActiveTargets", status, body)
	}
}

func TestWorkspaceWeighted(t *testing.T) {
	o1 := newNamedBackend(t, "orders-1", nil)
	o2 := newNamedBackend(t, "orders-2", nil)
	srv := routingWorkspace(t, "dev", map[string]string{"orders-1": o1.URL, "orders-2": o2.URL})
	for i := 0; i < 30; i++ {
		if status, _, body := do(t, "GET", srv.URL+"/shop/orders/1", ""); status != 200 || !strings.HasSuffix(body, " /v2/orders/1") {
			t.Fatalf("orders: %d %q", status, body)
		}
	}
	if o1.count() != 20 || o2.count() != 10 {
		t.Errorf("weighted 2:1 over 30 requests = %d:%d, want 20:10", o1.count(), o2.count())
	}
}

func TestWorkspaceEnvironments(t *testing.T) {
	dev := newNamedBackend(t, "dev-orders", nil)
	prod := newNamedBackend(t, "prod-orders", nil)
	// The same bundle reaches different hosts per environment: only the
	// environment's own host names are mapped to a backend.
	for env, want := range map[string]string{"dev": "dev-orders", "prod": "prod-orders"} {
		srv := routingWorkspace(t, env, map[string]string{"orders-1": map[string]string{"dev": dev.URL, "prod": prod.URL}[env],
			"orders-2": map[string]string{"dev": dev.URL, "prod": prod.URL}[env]})
		_, hdr, body := do(t, "GET", srv.URL+"/shop/orders/9", "")
		if !strings.HasPrefix(body, want+" ") || hdr.Get("X-Environment") != env {
			t.Errorf("--env %s: %q (env header %q), want %s", env, body, hdr.Get("X-Environment"), want)
		}
	}
}

func TestWorkspaceDynamicMockDecisionAndNoRoute(t *testing.T) {
	eu := newNamedBackend(t, "catalog-eu", nil)
	blue := newNamedBackend(t, "blue", nil)
	green := newNamedBackend(t, "green", nil)
	decision := newNamedBackend(t, "decision", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Query().Get("customer"), "a") {
			w.Header().Set("X-Backend", "blue")
		} else {
			w.Header().Set("X-Backend", "green")
		}
	})
	srv := routingWorkspace(t, "dev", map[string]string{"http://catalog-eu.internal": eu.URL,
		"http://blue.internal": blue.URL, "http://green.internal": green.URL, "http://decision.internal": decision.URL})
	cases := []struct {
		name, path, hdrName, hdrVal string
		status                      int
		body                        string
	}{
		{"dynamic", "/shop/items/3?backend=eu", "", "", 200, "catalog-eu /catalog/items/3?backend=eu"},
		{"dynamic-refused", "/shop/items/3?backend=mars", "", "", 400, `{"error":"unknown backend mars"}`},
		{"mock", "/shop/users/1", "x-mock", "true", 200, `{"mock":true,"path":"/users/1"}`},
		{"decision-blue", "/shop/recommend/1", "x-customer", "alice", 200, "blue /recommend/1"},
		{"decision-green", "/shop/recommend/1", "x-customer", "bob", 200, "green /recommend/1"},
		{"no-route", "/shop/nothing", "", "", 404, `{"error":"nothing is served at /nothing"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, _, body := do(t, "GET", srv.URL+c.path, "", c.hdrName, c.hdrVal)
			if status != c.status || body != c.body {
				t.Errorf("GET %s = %d %q, want %d %q", c.path, status, body, c.status, c.body)
			}
		})
	}
}
