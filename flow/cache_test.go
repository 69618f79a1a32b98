package flow

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy"
	"github.com/apigo/apigo/store"
)

// countingBackend answers "n=<hit number> <uri>" and counts its hits.
func countingBackend(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("X-Backend-Hit", fmt.Sprint(n))
		if strings.HasSuffix(r.URL.Path, "/nostore") {
			w.Header().Set("Cache-Control", "no-store")
		}
		if strings.HasSuffix(r.URL.Path, "/missing") {
			w.WriteHeader(404)
		}
		fmt.Fprintf(w, "n=%d %s", n, r.URL.RequestURI())
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// cacheClock is a settable clock for Options.Policy.Now.
type cacheClock struct {
	mu sync.Mutex
	t  time.Time
}

func newCacheClock() *cacheClock { return &cacheClock{t: time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC)} }
func (c *cacheClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}
func (c *cacheClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// responseCacheBundle is a proxy with ResponseCache RC attached in the
// ProxyEndpoint request and response PreFlow, and AM-Mark in the response
// PostFlow, which runs on hits too and reports the cache variables.
func responseCacheBundle(t *testing.T, backendURL, rcInner string) string {
	return writeFiles(t, map[string]string{
		"apiproxy/cached.xml": `<APIProxy name="cached"/>`,
		"apiproxy/proxies/default.xml": proxyXML("default", "/c", `
			<PreFlow><Request><Step><Name>RC</Name></Step></Request><Response><Step><Name>RC</Name></Step></Response></PreFlow>
			<PostFlow><Response><Step><Name>AM-Mark</Name></Step></Response></PostFlow>
			<RouteRule name="r"><TargetEndpoint>default</TargetEndpoint></RouteRule>`),
		"apiproxy/targets/default.xml": targetXML("default", backendURL, ""),
		"apiproxy/policies/RC.xml":     `<ResponseCache name="RC">` + rcInner + `</ResponseCache>`,
		"apiproxy/policies/AM-Mark.xml": `<AssignMessage name="AM-Mark"><Set><Headers>
			<Header name="X-Cache-Hit">{responsecache.RC.cachehit}</Header>
			<Header name="X-Cache-Key">{responsecache.RC.cachekey}</Header></Headers></Set>
			<AssignTo createNew="false" type="response"/></AssignMessage>`,
	})
}

func TestResponseCacheHitSkipsTarget(t *testing.T) {
	be, hits := countingBackend(t)
	dir := responseCacheBundle(t, be.URL, `<CacheKey><KeyFragment ref="request.uri"/></CacheKey>
		<ExpirySettings><TimeoutInSeconds>60</TimeoutInSeconds></ExpirySettings>
		<SkipCacheLookup>request.header.x-bypass = "true"</SkipCacheLookup>
		<UseResponseCacheHeaders>true</UseResponseCacheHeaders>`)
	clock := newCacheClock()
	_, srv := startEngine(t, Options{Policy: policy.Options{Now: clock.Now}}, dir)

	steps := []struct {
		name, path string
		hdr        []string
		advance    time.Duration
		wantBody   string
		wantHit    string
		wantHits   int64
	}{
		{"first request misses", "/c/items?id=1", nil, 0, "n=1 /items?id=1", "false", 1},
		{"second is served from the cache", "/c/items?id=1", nil, 0, "n=1 /items?id=1", "true", 1},
		{"another key misses", "/c/items?id=2", nil, 0, "n=2 /items?id=2", "false", 2},
		{"SkipCacheLookup goes to the target", "/c/items?id=1", []string{"X-Bypass", "true"}, 0, "n=3 /items?id=1", "false", 3},
		{"the bypass re-populated the entry", "/c/items?id=1", nil, 0, "n=3 /items?id=1", "true", 3},
		{"just before expiry", "/c/items?id=1", nil, 59 * time.Second, "n=3 /items?id=1", "true", 3},
		{"expired on the injected clock", "/c/items?id=1", nil, time.Second, "n=4 /items?id=1", "false", 4},
		{"no-store is honoured (UseResponseCacheHeaders)", "/c/nostore", nil, 0, "n=5 /nostore", "false", 5},
		{"and not cached", "/c/nostore", nil, 0, "n=6 /nostore", "false", 6},
	}
	for _, s := range steps {
		clock.Add(s.advance)
		status, hdr, body := do(t, "GET", srv.URL+s.path, "", s.hdr...)
		if status != 200 || body != s.wantBody || hdr.Get("X-Cache-Hit") != s.wantHit || hits.Load() != s.wantHits {
			t.Errorf("%s: GET %s = %d %q X-Cache-Hit=%q, backend hits %d; want 200 %q %s, %d hits",
				s.name, s.path, status, body, hdr.Get("X-Cache-Hit"), hits.Load(), s.wantBody, s.wantHit, s.wantHits)
		}
	}
	do(t, "GET", srv.URL+"/c/items?id=9", "")
	_, hdr, _ := do(t, "GET", srv.URL+"/c/items?id=9", "")
	if got, want := hdr.Get("X-Cache-Key"), "local__local__cached__1__default__/c/items?id=9"; got != want {
		t.Errorf("responsecache.RC.cachekey = %q, want %q", got, want)
	}
	if hdr.Get("X-Backend-Hit") != "7" || hdr.Get("Content-Type") != "text/plain" || hdr.Get("X-Cache-Hit") != "true" {
		t.Errorf("cached response headers = %v, want the backend's", hdr)
	}
}

func TestResponseCacheExcludeErrorResponse(t *testing.T) {
	be, hits := countingBackend(t)
	dir := responseCacheBundle(t, be.URL, `<CacheKey><KeyFragment ref="request.uri"/></CacheKey><ExcludeErrorResponse>true</ExcludeErrorResponse>`)
	_, srv := startEngine(t, Options{}, dir)
	for i := 1; i <= 2; i++ {
		if status, _, _ := do(t, "GET", srv.URL+"/c/missing", ""); status != 404 {
			t.Fatalf("GET /missing = %d, want 404", status)
		}
	}
	if hits.Load() != 2 {
		t.Errorf("backend hits = %d after two 404s, want 2 (error responses not cached)", hits.Load())
	}
}

// cacheOpsBundle has three flows sharing one key and scope: /put
// (PopulateCache from the query parameter v), /get (LookupCache) and /del
// (InvalidateCache); no target.
func cacheOpsBundle(t *testing.T, run string) string {
	key := `<CacheKey><Prefix>ops` + run + `</Prefix><KeyFragment ref="request.queryparam.k"/></CacheKey><Scope>Global</Scope>`
	flow := func(name, suffix, pol string) string {
		return `<Flow name="` + name + `"><Condition>proxy.pathsuffix = "` + suffix + `"</Condition><Request><Step><Name>` + pol + `</Name></Step></Request></Flow>`
	}
	return writeFiles(t, map[string]string{
		"apiproxy/ops.xml": `<APIProxy name="ops"/>`,
		"apiproxy/proxies/default.xml": proxyXML("default", "/ops", `<Flows>`+flow("put", "/put", "PC")+flow("get", "/get", "LC")+flow("del", "/del", "IC")+`</Flows>
			<PostFlow><Response><Step><Name>AM-Out</Name></Step></Response></PostFlow><RouteRule name="none"/>`),
		"apiproxy/policies/PC.xml": `<PopulateCache name="PC">` + key + `<Source>request.queryparam.v</Source>
			<ExpirySettings><TimeoutInSec ref="request.queryparam.ttl">30</TimeoutInSec></ExpirySettings></PopulateCache>`,
		"apiproxy/policies/LC.xml": `<LookupCache name="LC">` + key + `<AssignTo>found</AssignTo></LookupCache>`,
		"apiproxy/policies/IC.xml": `<InvalidateCache name="IC">` + key + `</InvalidateCache>`,
		"apiproxy/policies/AM-Out.xml": `<AssignMessage name="AM-Out"><Set><Payload contentType="text/plain">{found}|{lookupcache.LC.cachehit}</Payload></Set>
			<AssignTo createNew="false" type="response"/></AssignMessage>`,
	})
}

func TestPopulateLookupInvalidateMeet(t *testing.T) {
	stores := map[string]func(t *testing.T, now func() time.Time) store.Store{
		"memory": func(_ *testing.T, now func() time.Time) store.Store {
			return store.NewMemory(store.MemoryOptions{Now: now})
		},
	}
	if url := os.Getenv("APIGO_TEST_REDIS"); url != "" {
		stores["redis"] = func(t *testing.T, now func() time.Time) store.Store {
			st, err := store.Open(url, now)
			if err != nil {
				t.Fatalf("APIGO_TEST_REDIS=%s: %v", url, err)
			}
			return st
		}
	} else {
		t.Log("Redis variant skipped: set APIGO_TEST_REDIS=redis://host:port/db to run it")
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			clock := newCacheClock()
			st := open(t, clock.Now)
			t.Cleanup(func() { st.Close() })
			run := fmt.Sprint(time.Now().UnixNano()) // keys no earlier run left in Redis
			_, srv := startEngine(t, Options{Store: st, Policy: policy.Options{Now: clock.Now}}, cacheOpsBundle(t, run))
			steps := []struct {
				path    string
				advance time.Duration
				want    string
			}{
				{"/ops/get?k=a", 0, "|false"},
				{"/ops/put?k=a&v=apple", 0, "|"},
				{"/ops/get?k=a", 0, "apple|true"},
				{"/ops/get?k=b", 0, "|false"},
				{"/ops/del?k=a", 0, "|"},
				{"/ops/get?k=a", 0, "|false"},
				{"/ops/put?k=a&v=again&ttl=5", 0, "|"},
				{"/ops/get?k=a", 4 * time.Second, "again|true"},
				{"/ops/get?k=a", time.Second, "|false"},
			}
			for _, s := range steps {
				clock.Add(s.advance)
				if status, _, body := do(t, "GET", srv.URL+s.path, ""); status != 200 || body != s.want {
					t.Errorf("GET %s = %d %q, want 200 %q", s.path, status, body, s.want)
				}
			}
		})
	}
}

// TestCacheSharedBetweenEngines: an entry populated through one engine is
// found by another using the same store (two apigo instances).
func TestCacheSharedBetweenEngines(t *testing.T) {
	stores := map[string]func(t testing.TB) store.Store{
		"memory": func(testing.TB) store.Store { return store.NewMemory(store.MemoryOptions{}) },
	}
	if open := redisOpener(); open != nil {
		stores["redis"] = open
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			be, hits := countingBackend(t)
			dir := responseCacheBundle(t, be.URL, `<CacheKey><KeyFragment ref="request.uri"/><KeyFragment>`+t.Name()+fmt.Sprint(time.Now().UnixNano())+`</KeyFragment></CacheKey>`)
			_, a := startEngine(t, Options{Store: st}, dir)
			_, b := startEngine(t, Options{Store: st}, dir)
			_, _, body1 := do(t, "GET", a.URL+"/c/shared", "")
			_, hdr, body2 := do(t, "GET", b.URL+"/c/shared", "")
			if hits.Load() != 1 || body1 != body2 || hdr.Get("X-Cache-Hit") != "true" {
				t.Errorf("engine B = %q (hit %q), engine A = %q, backend hits %d; want B served A's entry from the shared store",
					body2, hdr.Get("X-Cache-Hit"), body1, hits.Load())
			}
		})
	}
	if redisOpener() == nil {
		t.Log("Redis variant skipped: set APIGO_TEST_REDIS=redis://host:port/db to run it")
	}
}

// TestStatisticsAndMessageLoggingEndToEnd: StatisticsCollector values in
// the trace, MessageLogging in PostClientFlow to a file and a UDP
// listener, flushed by the engine's Close.
func TestStatisticsAndMessageLoggingEndToEnd(t *testing.T) {
	be, _ := countingBackend(t)
	logFile := t.TempDir() + "/access.log"
	pc, err := netListenUDP()
	if err != nil {
		t.Skip(err)
	}
	defer pc.Close()
	udpHost, udpPort := splitAddr(pc.LocalAddr().String())
	dir := writeFiles(t, map[string]string{
		"apiproxy/obs.xml": `<APIProxy name="obs"/>`,
		"apiproxy/proxies/default.xml": proxyXML("default", "/obs", `
			<PreFlow><Request><Step><Name>SC</Name></Step></Request></PreFlow>
			<PostClientFlow><Response><Step><Name>ML</Name></Step></Response></PostClientFlow>
			<RouteRule name="r"><TargetEndpoint>default</TargetEndpoint></RouteRule>`),
		"apiproxy/targets/default.xml": targetXML("default", be.URL, ""),
		"apiproxy/policies/SC.xml": `<StatisticsCollector name="SC"><Statistics>
			<Statistic name="tier" ref="request.header.x-tier" type="string">free</Statistic>
			<Statistic name="items" ref="request.queryparam.n" type="integer">0</Statistic></Statistics></StatisticsCollector>`,
		"apiproxy/policies/ML.xml": `<MessageLogging name="ML">
			<File><Message>{request.verb} {request.uri} {response.status.code}</Message><FileName>` + logFile + `</FileName></File>
			<Syslog><Message>status={response.status.code}</Message><Host>` + udpHost + `</Host><Port>` + udpPort + `</Port></Syslog></MessageLogging>`,
	})
	var mu sync.Mutex
	var traces []*Trace
	eng, srv := startEngine(t, Options{Trace: func(tr *Trace) { mu.Lock(); traces = append(traces, tr); mu.Unlock() }}, dir)
	do(t, "GET", srv.URL+"/obs/a?n=3", "", "X-Tier", "gold")
	do(t, "GET", srv.URL+"/obs/b?n=many", "")
	eng.Close() // flushes MessageLogging

	mu.Lock()
	var prints []string
	for _, tr := range traces {
		for _, ev := range tr.Events {
			if ev.Kind == "print" && ev.Name == "SC" {
				prints = append(prints, ev.Value)
			}
		}
	}
	mu.Unlock()
	want := "statistic tier=gold,statistic items=3,statistic tier=free,statistic items=0"
	if got := strings.Join(prints, ","); got != want {
		t.Errorf("trace prints = %q, want %q", got, want)
	}
	b, err := os.ReadFile(logFile)
	if want := "GET /obs/a?n=3 200\nGET /obs/b?n=many 200\n"; err != nil || string(b) != want {
		t.Errorf("log file = %q (%v), want %q", b, err, want)
	}
	buf := make([]byte, 512)
	for i := 0; i < 2; i++ {
		pc.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _, err := pc.ReadFrom(buf)
		if err != nil || string(buf[:n]) != "status=200" {
			t.Errorf("syslog datagram %d = %q (%v), want status=200", i, buf[:n], err)
		}
	}
}

// BenchmarkResponseCacheHit serves cache hits through the engine (no
// network: ServeHTTP on a recorder), so the figure is the whole request
// path around one cache lookup.
func BenchmarkResponseCacheHit(b *testing.B) {
	stores := map[string]func(t testing.TB) store.Store{
		"memory": func(testing.TB) store.Store { return store.NewMemory(store.MemoryOptions{}) },
	}
	if open := redisOpener(); open != nil {
		stores["redis"] = open
	}
	for name, open := range stores {
		b.Run(name, func(b *testing.B) {
			be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "cached body") }))
			defer be.Close()
			dir := b.TempDir()
			files := map[string]string{
				"apiproxy/cached.xml": `<APIProxy name="cached"/>`,
				"apiproxy/proxies/default.xml": proxyXML("default", "/c", `
					<PreFlow><Request><Step><Name>RC</Name></Step></Request><Response><Step><Name>RC</Name></Step></Response></PreFlow>
					<RouteRule name="r"><TargetEndpoint>default</TargetEndpoint></RouteRule>`),
				"apiproxy/targets/default.xml": targetXML("default", be.URL, ""),
				"apiproxy/policies/RC.xml":     `<ResponseCache name="RC"><CacheKey><KeyFragment ref="request.uri"/></CacheKey></ResponseCache>`,
			}
			for name, content := range files {
				p := dir + "/" + name
				if err := os.MkdirAll(p[:strings.LastIndex(p, "/")], 0o755); err != nil {
					b.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					b.Fatal(err)
				}
			}
			set, ps := bundle.Load([]string{dir}, bundle.Options{})
			if ps.HasErrors() {
				b.Fatal(ps.String())
			}
			eng, bps := Build(set, Options{Store: open(b)})
			if eng == nil {
				b.Fatal(bps.String())
			}
			defer eng.Close()
			eng.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/c/bench", nil)) // populate
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rec := httptest.NewRecorder()
				eng.ServeHTTP(rec, httptest.NewRequest("GET", "/c/bench", nil))
				if rec.Body.String() != "cached body" {
					b.Fatalf("body %q", rec.Body.String())
				}
			}
		})
	}
}

// redisOpener returns a function opening the Redis store named by
// APIGO_TEST_REDIS, nil when unset.
func redisOpener() func(t testing.TB) store.Store {
	url := os.Getenv("APIGO_TEST_REDIS")
	if url == "" {
		return nil
	}
	return func(t testing.TB) store.Store {
		st, err := store.Open(url, nil)
		if err != nil {
			t.Fatalf("APIGO_TEST_REDIS=%s: %v", url, err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
}

func netListenUDP() (net.PacketConn, error) { return net.ListenPacket("udp", "127.0.0.1:0") }

func splitAddr(addr string) (string, string) {
	h, p, _ := net.SplitHostPort(addr)
	return h, p
}

// TestResponseCacheConcurrent: many clients on a few keys; every response
// is one the backend produced for that key, and once an entry exists the
// backend is not called again for it.
func TestResponseCacheConcurrent(t *testing.T) {
	be, hits := countingBackend(t)
	dir := responseCacheBundle(t, be.URL, `<CacheKey><KeyFragment ref="request.queryparam.k"/></CacheKey>`)
	_, srv := startEngine(t, Options{}, dir)
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			k := fmt.Sprint(i % 4)
			status, _, body := do(t, "GET", srv.URL+"/c/x?k="+k, "")
			if status != 200 || !strings.HasSuffix(body, "/x?k="+k) {
				t.Errorf("GET k=%s = %d %q", k, status, body)
			}
		}(i)
	}
	wg.Wait()
	before := hits.Load()
	for k := 0; k < 4; k++ {
		if _, hdr, _ := do(t, "GET", srv.URL+"/c/x?k="+fmt.Sprint(k), ""); hdr.Get("X-Cache-Hit") != "true" {
			t.Errorf("k=%d not cached after the burst", k)
		}
	}
	if hits.Load() != before {
		t.Errorf("backend called %d more times after every key was cached", hits.Load()-before)
	}
}
