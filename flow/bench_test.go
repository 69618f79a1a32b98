//go:build unix

package flow

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apigo/apigo/bundle"
)

// The ten-policy bundle of BenchmarkTenPolicies. Every AssignMessage uses
// templates, three steps carry conditions (two true, one false), two
// conditional Flows exist (one matches), and the RouteRules are a
// conditional one that does not match followed by a null route, so the
// request never leaves the process.
var tenPolicies = map[string]string{
	"apiproxy/bench.xml": `<APIProxy revision="1" name="bench"/>`,
	"apiproxy/proxies/default.xml": `<ProxyEndpoint name="default">
  <PreFlow>
    <Request>
      <Step><Name>AM-Vars</Name></Step>
      <Step><Name>AM-ReqHeaders</Name></Step>
      <Step><Name>AM-Full</Name><Condition>request.header.x-mode = "full"</Condition></Step>
      <Step><Name>AM-Delete</Name><Condition>request.verb = "DELETE"</Condition></Step>
    </Request>
  </PreFlow>
  <Flows>
    <Flow name="other"><Condition>proxy.pathsuffix MatchesPath "/other/**"</Condition>
      <Request><Step><Name>AM-Other</Name></Step></Request></Flow>
    <Flow name="items"><Condition>proxy.pathsuffix MatchesPath "/items/*" and request.verb = "GET"</Condition>
      <Request><Step><Name>AM-Items</Name></Step><Step><Name>AM-Query</Name></Step></Request>
      <Response><Step><Name>AM-Payload</Name></Step></Response></Flow>
  </Flows>
  <PostFlow>
    <Response>
      <Step><Name>AM-RspHeaders</Name></Step>
      <Step><Name>AM-Answer</Name><Condition>item.id = "42" and request.header.x-mode != null</Condition></Step>
    </Response>
  </PostFlow>
  <HTTPProxyConnection><BasePath>/v1/bench</BasePath></HTTPProxyConnection>
  <RouteRule name="to-target"><Condition>request.header.x-route = "target"</Condition><TargetEndpoint>default</TargetEndpoint></RouteRule>
  <RouteRule name="null"/>
</ProxyEndpoint>`,
	"apiproxy/targets/default.xml": `<TargetEndpoint name="default">
  <HTTPTargetConnection><URL>http://backend.invalid</URL></HTTPTargetConnection>
</TargetEndpoint>`,
	"apiproxy/policies/AM-Vars.xml": `<AssignMessage name="AM-Vars">
  <AssignVariable><Name>bench.tag</Name><Template>{request.verb}:{proxy.pathsuffix}</Template></AssignVariable>
  <AssignVariable><Name>bench.mode</Name><Ref>request.header.x-mode</Ref></AssignVariable>
  <AssignVariable><Name>bench.kind</Name><Value>bench</Value></AssignVariable>
</AssignMessage>`,
	"apiproxy/policies/AM-ReqHeaders.xml": `<AssignMessage name="AM-ReqHeaders"><AssignTo createNew="false" type="request"/>
  <Set><Headers><Header name="X-Tag">{bench.tag}</Header><Header name="X-Msg">{messageid}</Header></Headers></Set>
</AssignMessage>`,
	"apiproxy/policies/AM-Full.xml": `<AssignMessage name="AM-Full">
  <AssignVariable><Name>bench.full</Name><Template>{bench.mode}-{bench.kind}</Template></AssignVariable>
</AssignMessage>`,
	"apiproxy/policies/AM-Delete.xml": `<AssignMessage name="AM-Delete">
  <AssignVariable><Name>bench.deleted</Name><Value>true</Value></AssignVariable>
</AssignMessage>`,
	"apiproxy/policies/AM-Other.xml": `<AssignMessage name="AM-Other">
  <AssignVariable><Name>item.kind</Name><Value>other</Value></AssignVariable>
</AssignMessage>`,
	"apiproxy/policies/AM-Items.xml": `<AssignMessage name="AM-Items">
  <AssignVariable><Name>item.kind</Name><Value>item</Value></AssignVariable>
</AssignMessage>`,
	"apiproxy/policies/AM-Query.xml": `<AssignMessage name="AM-Query">
  <AssignVariable><Name>item.id</Name><Template>{request.queryparam.id}</Template></AssignVariable>
</AssignMessage>`,
	"apiproxy/policies/AM-Payload.xml": `<AssignMessage name="AM-Payload"><AssignTo createNew="false" type="response"/>
  <Set><Payload contentType="text/plain">kind={item.kind} id={item.id} tag={bench.tag} full={bench.full}</Payload></Set>
</AssignMessage>`,
	"apiproxy/policies/AM-RspHeaders.xml": `<AssignMessage name="AM-RspHeaders"><AssignTo createNew="false" type="response"/>
  <Set><Headers><Header name="X-Kind">{item.kind}</Header><Header name="X-Flow">{current.flow.name}</Header>
  <Header name="X-Deleted">{bench.deleted}</Header></Headers></Set>
</AssignMessage>`,
	"apiproxy/policies/AM-Answer.xml": `<AssignMessage name="AM-Answer"><AssignTo createNew="false" type="response"/>
  <Set><Headers><Header name="X-Answer">yes</Header></Headers></Set>
</AssignMessage>`,
}

// processCPU is the user plus system CPU time this process has used. On a
// busy machine ns/op (wall time) includes time spent waiting for a CPU;
// cpu-ns/op does not.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time used since start per iteration, GC and
// every goroutine included, as cpu-ns/op.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
}

// writeBenchFiles is writeFiles for benchmarks.
func writeBenchFiles(b *testing.B, files map[string]string) string {
	b.Helper()
	dir := b.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

// buildBench loads and builds paths, failing the benchmark on any error.
func buildBench(b *testing.B, paths ...string) *Engine {
	b.Helper()
	set, ps := bundle.Load(paths, bundle.Options{})
	if ps.HasErrors() {
		b.Fatalf("load problems:\n%s", ps.String())
	}
	eng, bps := Build(set, Options{})
	if eng == nil {
		b.Fatalf("build problems:\n%s", bps.String())
	}
	b.Cleanup(eng.Close)
	return eng
}

// checkTenPolicies fails b unless rec holds what the ten policies produce.
func checkTenPolicies(b *testing.B, rec *httptest.ResponseRecorder) {
	b.Helper()
	wantBody := "kind=item id=42 tag=GET:/items/42 full=full-bench"
	if rec.Code != http.StatusOK || rec.Body.String() != wantBody {
		b.Fatalf("GET /v1/bench/items/42 = %d %q, want 200 %q", rec.Code, rec.Body.String(), wantBody)
	}
	for name, want := range map[string]string{"X-Kind": "item", "X-Answer": "yes", "X-Deleted": ""} {
		if got := rec.Header().Get(name); got != want {
			b.Errorf("header %s = %q, want %q", name, got, want)
		}
	}
}

// BenchmarkTenPolicies runs one request through ten AssignMessage policies
// (eight execute, one is skipped by its condition, one sits in a Flow that
// does not match) and a null route, without any network.
func BenchmarkTenPolicies(b *testing.B) {
	eng := buildBench(b, writeBenchFiles(b, tenPolicies))
	req := httptest.NewRequest("GET", "http://apigo.test/v1/bench/items/42?id=42", nil)
	req.Header.Set("X-Mode", "full")
	rec := httptest.NewRecorder()
	eng.ServeHTTP(rec, req)
	checkTenPolicies(b, rec)
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		eng.ServeHTTP(httptest.NewRecorder(), req)
	}
	reportCPU(b, cpu)
}

// BenchmarkTenPoliciesParallel is BenchmarkTenPolicies from GOMAXPROCS
// goroutines at once: it shows contention on state the engine shares.
func BenchmarkTenPoliciesParallel(b *testing.B) {
	eng := buildBench(b, writeBenchFiles(b, tenPolicies))
	newReq := func() *http.Request {
		req := httptest.NewRequest("GET", "http://apigo.test/v1/bench/items/42?id=42", nil)
		req.Header.Set("X-Mode", "full")
		return req
	}
	rec := httptest.NewRecorder()
	eng.ServeHTTP(rec, newReq())
	checkTenPolicies(b, rec)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	b.RunParallel(func(pb *testing.PB) {
		req := newReq()
		for pb.Next() {
			eng.ServeHTTP(httptest.NewRecorder(), req)
		}
	})
	reportCPU(b, cpu)
}

// benchBackend answers like bench/backend: 200 with a fixed small body.
func benchBackend(b *testing.B) *httptest.Server {
	body := []byte(`{"status":"ok","service":"bench-backend","items":[1,2,3,4,5],"note":"a fixed body of about 100 bytes"}` + "\n")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// benchPassthrough drives h with GET /bench/ping from GOMAXPROCS goroutines
// and checks the first answer is the backend's.
func benchPassthrough(b *testing.B, h http.Handler) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "http://apigo.test/bench/ping", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "bench-backend") {
		b.Fatalf("GET /bench/ping = %d %q, want 200 and the backend's body", rec.Code, rec.Body.String())
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest("GET", "http://apigo.test/bench/ping", nil)
		for pb.Next() {
			h.ServeHTTP(httptest.NewRecorder(), req)
		}
	})
	reportCPU(b, cpu)
}

// BenchmarkPassthrough sends requests through bench/passthrough (no
// policies, one RouteRule) to a loopback backend: the in-process half of
// bench/run.sh, where a CPU profile shows what the engine adds to a proxy.
// CPU time includes the backend's, which is the same in
// BenchmarkBareProxyPassthrough.
func BenchmarkPassthrough(b *testing.B) {
	be := benchBackend(b)
	set, ps := bundle.Load([]string{"../bench/passthrough"}, bundle.Options{})
	if ps.HasErrors() {
		b.Fatalf("load problems:\n%s", ps.String())
	}
	eng, bps := Build(set, Options{MapURL: []URLMap{{From: "http://backend.bench", To: be.URL}}})
	if eng == nil {
		b.Fatalf("build problems:\n%s", bps.String())
	}
	b.Cleanup(eng.Close)
	benchPassthrough(b, eng)
}

// BenchmarkBareProxyPassthrough is BenchmarkPassthrough through a bare
// httputil.ReverseProxy with a Transport like apigo's: the baseline.
func BenchmarkBareProxyPassthrough(b *testing.B) {
	be := benchBackend(b)
	u, err := url.Parse(be.URL)
	if err != nil {
		b.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	tr := &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute}
	b.Cleanup(tr.CloseIdleConnections)
	rp.Transport = tr
	benchPassthrough(b, rp)
}

// corpusDir is the shared corpus as seen from this package's directory.
const corpusDir = "../../shared/corpus"

// largestCorpusBundle returns the corpus folder holding the apiproxy/
// directory with the most files, and that count.
func largestCorpusBundle(root string) (string, int, error) {
	best, bestN := "", 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() || d.Name() != "apiproxy" {
			return err
		}
		n := 0
		_ = filepath.WalkDir(p, func(_ string, f fs.DirEntry, err error) error {
			if err == nil && !f.IsDir() {
				n++
			}
			return nil
		})
		if n > bestN {
			best, bestN = filepath.Dir(p), n
		}
		return filepath.SkipDir
	})
	return best, bestN, err
}

// BenchmarkLoadLargestCorpusBundle times bundle.Load plus Build of the
// corpus bundle with the most files.
func BenchmarkLoadLargestCorpusBundle(b *testing.B) {
	if _, err := os.Stat(corpusDir); err != nil {
		b.Skipf("corpus not available: %v", err)
	}
	dir, files, err := largestCorpusBundle(corpusDir)
	if err != nil || dir == "" {
		b.Fatalf("largestCorpusBundle(%q) = %q, %v; want a bundle", corpusDir, dir, err)
	}
	b.Logf("largest bundle: %s (%d files)", strings.TrimPrefix(dir, corpusDir+"/"), files)
	b.ReportAllocs()
	b.ReportMetric(float64(files), "files")
	cpu := processCPU()
	for b.Loop() {
		set, ps := bundle.Load([]string{dir}, bundle.Options{})
		if ps.HasErrors() {
			b.Fatalf("load problems:\n%s", ps.String())
		}
		eng, bps := Build(set, Options{})
		if eng == nil {
			b.Fatalf("build problems:\n%s", bps.String())
		}
		eng.Close()
	}
	reportCPU(b, cpu)
}
