package flow

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy"
	"github.com/apigo/apigo/policy/exchange"
)

// record is a test-only policy type: <Record name="x"><Label>L</Label></Record>
// appends L to the flow variable "order" and to a log kept per messageid,
// so tests can see exactly which steps ran, including in PostClientFlow.
type record struct{ label string }

var recorded sync.Map // messageid -> *[]string

func (r record) Execute(_ context.Context, x *exchange.Exchange) error {
	prev, _ := x.GetString("order")
	if prev != "" {
		prev += ","
	}
	if err := x.Set("order", prev+r.label); err != nil {
		return err
	}
	if rsp := x.Response(); rsp != nil {
		rsp.Header.Set("X-Recorded", prev+r.label)
	}
	id, _ := x.GetString("messageid")
	v, _ := recorded.LoadOrStore(id, &recordLog{})
	v.(*recordLog).add(r.label)
	return nil
}

type recordLog struct {
	mu sync.Mutex
	l  []string
}

func (r *recordLog) add(s string) { r.mu.Lock(); r.l = append(r.l, s); r.mu.Unlock() }
func (r *recordLog) get() string  { r.mu.Lock(); defer r.mu.Unlock(); return strings.Join(r.l, ",") }

func init() {
	policy.Register("Record", "record", func(bc *policy.BuildContext, p *bundle.Policy) policy.Policy {
		label := p.Name
		if l := p.Element.SelectElement("Label"); l != nil {
			label = strings.TrimSpace(l.Text())
		}
		return record{label: label}
	})
}

// recordedFor returns what Record steps logged for a response's message id.
func recordedFor(messageID string) string {
	v, ok := recorded.Load(messageID)
	if !ok {
		return ""
	}
	return v.(*recordLog).get()
}

// writeFiles writes files (path -> content) under a new temp dir and
// returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// recordPolicies returns policy files for Record steps with the given names.
func recordPolicies(names ...string) map[string]string {
	m := map[string]string{}
	for _, n := range names {
		m["apiproxy/policies/"+n+".xml"] = `<Record name="` + n + `"><Label>` + n + `</Label></Record>`
	}
	return m
}

// startEngine loads dir, builds it with opts and serves it on loopback.
func startEngine(t *testing.T, opts Options, paths ...string) (*Engine, *httptest.Server) {
	t.Helper()
	set, ps := bundle.Load(paths, bundle.Options{})
	if ps.HasErrors() {
		t.Fatalf("load problems:\n%s", ps.String())
	}
	eng, bps := Build(set, opts)
	if eng == nil {
		t.Fatalf("build problems:\n%s", bps.String())
	}
	srv := httptest.NewServer(eng)
	t.Cleanup(func() { srv.Close(); eng.Close() })
	return eng, srv
}

// do sends a request and returns status, headers and body.
func do(t *testing.T, method, url, body string, hdr ...string) (int, http.Header, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "" {
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

// merge combines file maps.
func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// panicker is a test-only policy that panics, to show one broken request
// never takes the server down.
type panicker struct{}

func (panicker) Execute(context.Context, *exchange.Exchange) error { panic("boom") }

func init() {
	policy.Register("Panic", "panic", func(*policy.BuildContext, *bundle.Policy) policy.Policy { return panicker{} })
}
