package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// startServe runs `apigo serve` in-process on a free port.
func startServe(t *testing.T, args ...string) (base string, stop func() int, out *syncBuffer) {
	t.Helper()
	out = &syncBuffer{}
	ctl := &serveControl{ready: make(chan string, 1), stop: make(chan struct{})}
	done := make(chan int, 1)
	go func() { done <- serve(append([]string{"--addr", "127.0.0.1:0"}, args...), out, out, ctl) }()
	select {
	case addr := <-ctl.ready:
		base = "http://" + addr
	case code := <-done:
		t.Fatalf("serve exited %d:\n%s", code, out.String())
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not start")
	}
	var once sync.Once
	code := -1
	stop = func() int {
		once.Do(func() {
			close(ctl.stop)
			select {
			case code = <-done:
			case <-time.After(30 * time.Second):
				t.Error("serve did not stop")
			}
		})
		return code
	}
	t.Cleanup(func() { stop() })
	return base, stop, out
}

func get(t *testing.T, method, url, body string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// TestServeExample serves testdata/hello, the README's first command.
func TestServeExample(t *testing.T) {
	base, stop, out := startServe(t, "../../testdata/hello")
	status, hdr, body := get(t, "GET", base+"/hello?name=Ada", "")
	if status != 200 {
		t.Fatalf("GET /hello: %d %s", status, body)
	}
	var g map[string]string
	if err := json.Unmarshal([]byte(body), &g); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	if g["greeting"] != "Hello, Ada!" || g["proxy"] != "hello" || g["env"] != "local" {
		t.Errorf("greeting = %v", g)
	}
	if hdr.Get("Content-Type") != "application/json" || hdr.Get("X-Message-Id") == "" {
		t.Errorf("headers = %v", hdr)
	}
	if _, _, body := get(t, "GET", base+"/hello", ""); !strings.Contains(body, "Hello, world!") {
		t.Errorf("default name: %q", body)
	}
	status, hdr, body = get(t, "POST", base+"/hello/echo", `{"a":1}`)
	if status != 200 || body != `{"a":1}` || hdr.Get("X-Echo-Verb") != "POST" {
		t.Errorf("echo: %d %q %v", status, body, hdr)
	}
	status, _, body = get(t, "GET", base+"/hello/nope", "")
	if status != 404 || body != `{"error":"no resource at /nope"}` {
		t.Errorf("unknown resource: %d %q", status, body)
	}
	status, _, body = get(t, "GET", base+"/other", "")
	if status != 404 || !strings.Contains(body, "messaging.adaptors.http.flow.ApplicationNotFound") {
		t.Errorf("unknown proxy: %d %q", status, body)
	}
	if code := stop(); code != 0 {
		t.Errorf("serve exit = %d", code)
	}
	for _, want := range []string{"deployed hello", "listening on http://127.0.0.1:", "GET /hello?name=Ada 200", "stopped"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestGracefulShutdown stops the server while a request is in flight; the
// request completes.
func TestGracefulShutdown(t *testing.T) {
	started := make(chan struct{})
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(400 * time.Millisecond)
		_, _ = w.Write([]byte("slow answer"))
	}))
	defer be.Close()
	dir := t.TempDir()
	writeBundle(t, dir, map[string]string{
		"apiproxy/proxies/default.xml": `<ProxyEndpoint name="default"><HTTPProxyConnection><BasePath>/slow</BasePath></HTTPProxyConnection>
			<RouteRule name="r"><TargetEndpoint>default</TargetEndpoint></RouteRule></ProxyEndpoint>`,
		"apiproxy/targets/default.xml": `<TargetEndpoint name="default"><HTTPTargetConnection><URL>http://slow.example</URL></HTTPTargetConnection></TargetEndpoint>`,
	})
	base, stop, _ := startServe(t, "--map-url", "http://slow.example="+be.URL, dir)
	type result struct {
		status int
		body   string
	}
	res := make(chan result, 1)
	go func() {
		s, _, b := get(t, "GET", base+"/slow", "")
		res <- result{s, b}
	}()
	<-started
	if code := stop(); code != 0 {
		t.Errorf("serve exit = %d", code)
	}
	r := <-res
	if r.status != 200 || r.body != "slow answer" {
		t.Errorf("in-flight request: %d %q", r.status, r.body)
	}
}

// TestWatchSwapsBuild edits a bundle while serving with --watch.
func TestWatchSwapsBuild(t *testing.T) {
	old := watchInterval
	watchInterval = 50 * time.Millisecond
	defer func() { watchInterval = old }()
	dir := t.TempDir()
	am := func(v string) string {
		return `<AssignMessage name="AM"><AssignTo type="response"/><Set><Payload contentType="text/plain">` + v + `</Payload></Set></AssignMessage>`
	}
	writeBundle(t, dir, map[string]string{
		"apiproxy/proxies/default.xml": `<ProxyEndpoint name="default"><HTTPProxyConnection><BasePath>/w</BasePath></HTTPProxyConnection>
			<PostFlow><Response><Step><Name>AM</Name></Step></Response></PostFlow><RouteRule name="null"/></ProxyEndpoint>`,
		"apiproxy/policies/AM.xml": am("one"),
	})
	base, _, out := startServe(t, "--watch", dir)
	if _, _, body := get(t, "GET", base+"/w", ""); body != "one" {
		t.Fatalf("before edit: %q", body)
	}
	writeBundle(t, dir, map[string]string{"apiproxy/policies/AM.xml": am("two")})
	waitFor(t, func() bool { _, _, b := get(t, "GET", base+"/w", ""); return b == "two" })
	// A broken edit keeps the previous build serving and prints the problem.
	writeBundle(t, dir, map[string]string{"apiproxy/policies/AM.xml": `<AssignMessage name="AM"><Set>`})
	waitFor(t, func() bool { return strings.Contains(out.String(), "still serving the previous build") })
	if _, _, body := get(t, "GET", base+"/w", ""); body != "two" {
		t.Errorf("after a broken edit: %q, want the previous build's answer", body)
	}
	if !strings.Contains(out.String(), "policies/AM.xml:1:") {
		t.Errorf("problem not positioned:\n%s", out.String())
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func writeBundle(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestServeTraceDir writes one JSON trace per request.
func TestServeTraceDir(t *testing.T) {
	dir := t.TempDir()
	base, stop, _ := startServe(t, "--trace", dir, "../../testdata/hello")
	get(t, "GET", base+"/hello?name=T", "")
	get(t, "GET", base+"/hello/missing", "")
	stop()
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 2 {
		t.Fatalf("trace files = %v, want 2", files)
	}
	var kinds []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var tr struct {
			MessageID string `json:"messageid"`
			Response  struct {
				Status int `json:"status"`
			} `json:"response"`
			Events []struct {
				Kind string `json:"kind"`
				Name string `json:"name"`
			} `json:"events"`
		}
		if err := json.Unmarshal(b, &tr); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if tr.MessageID == "" || tr.Response.Status == 0 || len(tr.Events) == 0 {
			t.Errorf("%s: incomplete trace %s", f, b)
		}
		for _, e := range tr.Events {
			if e.Kind == "fault" || e.Kind == "step" {
				kinds = append(kinds, e.Kind+":"+e.Name)
			}
		}
	}
	got := strings.Join(kinds, " ")
	for _, want := range []string{"step:AM-Greeting", "step:RF-NotFound", "fault:RaiseFault"} {
		if !strings.Contains(got, want) {
			t.Errorf("traces lack %s: %s", want, got)
		}
	}
}

// TestServePrintsCredentials: apps from --data have their keys printed at
// start (generated ones are random).
func TestServePrintsCredentials(t *testing.T) {
	data := t.TempDir()
	writeBundle(t, data, map[string]string{
		"products.json":      `[{"name": "p1", "proxies": ["hello"], "apiResources": ["/**"]}]`,
		"developers.json":    `[{"email": "dev@example.com", "userName": "dev", "firstName": "D", "lastName": "V"}]`,
		"developerapps.json": `[{"name": "app1", "developerEmail": "dev@example.com", "apiProducts": ["p1"]}]`,
	})
	_, stop, out := startServe(t, "--data", data, "../../testdata/hello")
	stop()
	if !regexp.MustCompile(`credential app1 \(dev@example.com\): key \S{16,} secret \S{8,} products \[p1\] \(generated\)`).MatchString(out.String()) {
		t.Errorf("no credential line:\n%s", out.String())
	}
}
