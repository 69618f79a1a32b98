package flow

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
// (nine execute, one is skipped by its condition, one sits in a Flow that
// does not match) and a null route, without any network.
func BenchmarkTenPolicies(b *testing.B) {
	eng := buildBench(b, writeBenchFiles(b, tenPolicies))
	req := httptest.NewRequest("GET", "http://apigo.test/v1/bench/items/42?id=42", nil)
	req.Header.Set("X-Mode", "full")
	rec := httptest.NewRecorder()
	eng.ServeHTTP(rec, req)
	checkTenPolicies(b, rec)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		eng.ServeHTTP(httptest.NewRecorder(), req)
	}
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
	b.RunParallel(func(pb *testing.PB) {
		req := newReq()
		for pb.Next() {
			eng.ServeHTTP(httptest.NewRecorder(), req)
		}
	})
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
}
