package flow

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy"
	"github.com/apigo/apigo/policy/httptarget"
)

// modelBackend answers every request with status and body and counts hits.
func modelBackend(t *testing.T, status int, body string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// unreachableURL is an http URL on a loopback port nothing listens on.
func unreachableURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + l.Addr().String()
	l.Close()
	return u
}

// failoverProxy is issue #4's failover chain: a null route whose response
// PostFlow calls the primary model endpoint with continueOnError, the
// secondary only when the primary did not answer 200, and copies the
// answer into the response. The region URLs are mapped with --map-url.
func failoverProxy(t *testing.T) string {
	return writeFiles(t, map[string]string{
		"apiproxy/failover.xml": `<APIProxy name="failover"/>`,
		"apiproxy/proxies/default.xml": proxyXML("default", "/predict", `
			<PostFlow name="PostFlow">
				<Request/>
				<Response>
					<Step><Name>SC-CallPrimary</Name></Step>
					<Step><Condition>modelResponse.status.code != 200</Condition><Name>SC-CallSecondary</Name></Step>
					<Step><Name>AM-SetResponse</Name></Step>
				</Response>
			</PostFlow>
			<RouteRule name="noroute"/>`),
		"apiproxy/policies/SC-CallPrimary.xml": `<ServiceCallout name="SC-CallPrimary" continueOnError="true">
			<Request><Set><Verb>POST</Verb><Path>v1/models/m:predict</Path><Payload contentType="application/json">{request.content}</Payload></Set></Request>
			<Response>modelResponse</Response>
			<HTTPTargetConnection><URL>https://{propertyset.regions.primary}</URL></HTTPTargetConnection>
		</ServiceCallout>`,
		"apiproxy/policies/SC-CallSecondary.xml": `<ServiceCallout name="SC-CallSecondary">
			<Request><Set><Verb>POST</Verb><Path>v1/models/m:predict</Path><Payload contentType="application/json">{request.content}</Payload></Set></Request>
			<Response>modelResponse</Response>
			<HTTPTargetConnection><URL>https://{propertyset.regions.secondary}</URL></HTTPTargetConnection>
		</ServiceCallout>`,
		"apiproxy/policies/AM-SetResponse.xml": `<AssignMessage name="AM-SetResponse">
			<Set>
				<Headers><Header name="X-Primary-Failed">{servicecallout.SC-CallPrimary.failed}</Header></Headers>
				<Payload contentType="application/json">{modelResponse.content}</Payload>
			</Set>
			<AssignTo createNew="false" type="response"/>
		</AssignMessage>`,
		"apiproxy/resources/properties/regions.properties": "primary=us-central1.model.test\nsecondary=europe-west4.model.test\n",
	})
}

func TestServiceCalloutFailoverChain(t *testing.T) {
	dir := failoverProxy(t)
	secondary, secondaryHits := modelBackend(t, 200, `{"region":"secondary"}`)
	primaryOK, primaryOKHits := modelBackend(t, 200, `{"region":"primary"}`)
	primary5xx, primary5xxHits := modelBackend(t, 503, `{"error":"overloaded"}`)
	cases := []struct {
		name          string
		primary       string
		primaryHits   *atomic.Int64
		wantBody      string
		wantFailed    string
		wantSecondary int64
	}{
		{"primary fails with 5xx", primary5xx.URL, primary5xxHits, `{"region":"secondary"}`, "true", 1},
		{"primary unreachable", unreachableURL(t), nil, `{"region":"secondary"}`, "true", 1},
		{"primary fine", primaryOK.URL, primaryOKHits, `{"region":"primary"}`, "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			maps := []httptarget.URLMap{
				{From: "https://us-central1.model.test", To: c.primary},
				{From: "https://europe-west4.model.test", To: secondary.URL},
			}
			_, srv := startEngine(t, Options{Policy: policy.Options{Target: httptarget.Options{MapURL: maps}}}, dir)
			secondaryBefore := secondaryHits.Load()
			var primaryBefore int64
			if c.primaryHits != nil {
				primaryBefore = c.primaryHits.Load()
			}
			status, hdr, body := do(t, "POST", srv.URL+"/predict", `{"prompt":"hi"}`, "Content-Type", "application/json")
			if status != 200 || strings.TrimSpace(body) != c.wantBody {
				t.Fatalf("POST /predict = %d %q, want 200 %q", status, body, c.wantBody)
			}
			if got := hdr.Get("X-Primary-Failed"); got != c.wantFailed {
				t.Errorf("servicecallout.SC-CallPrimary.failed = %q, want %q", got, c.wantFailed)
			}
			if got := secondaryHits.Load() - secondaryBefore; got != c.wantSecondary {
				t.Errorf("secondary calls = %d, want %d", got, c.wantSecondary)
			}
			if c.primaryHits != nil {
				if got := c.primaryHits.Load() - primaryBefore; got != 1 {
					t.Errorf("primary calls = %d, want 1", got)
				}
			}
		})
	}
}

// TestServiceCalloutDecisionRouting is issue #4's pattern 4: a
// ServiceCallout asks a decision service which backend to use,
// AssignMessage keeps the answer, and a RouteRule routes on it.
func TestServiceCalloutDecisionRouting(t *testing.T) {
	var decisions atomic.Int64
	decision := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		decisions.Add(1)
		backend := "green"
		if strings.HasPrefix(r.URL.Query().Get("user"), "a") {
			backend = "blue"
		}
		w.Header().Set("X-Backend", backend)
		io.WriteString(w, `{"backend":"`+backend+`"}`)
	}))
	t.Cleanup(decision.Close)
	be := backend(t)
	dir := writeFiles(t, map[string]string{
		"apiproxy/decide.xml": `<APIProxy name="decide"/>`,
		"apiproxy/proxies/default.xml": proxyXML("default", "/shop", `
			<PreFlow name="PreFlow">
				<Request>
					<Step><Name>SC-Decide</Name></Step>
					<Step><Name>AM-KeepBackend</Name></Step>
				</Request>
			</PreFlow>
			<RouteRule name="blue"><Condition>backend = "blue"</Condition><TargetEndpoint>blue</TargetEndpoint></RouteRule>
			<RouteRule name="green"><Condition>backend = "green"</Condition><TargetEndpoint>green</TargetEndpoint></RouteRule>`),
		"apiproxy/targets/blue.xml":  targetXML("blue", "http://backend.test/blue", ""),
		"apiproxy/targets/green.xml": targetXML("green", "http://backend.test/green", ""),
		"apiproxy/policies/SC-Decide.xml": `<ServiceCallout name="SC-Decide">
			<Request><Set><Path>/decide</Path><QueryParams><QueryParam name="user">{request.queryparam.user}</QueryParam></QueryParams></Set></Request>
			<Response>decision</Response>
			<HTTPTargetConnection><URL>http://decision.test</URL></HTTPTargetConnection>
		</ServiceCallout>`,
		"apiproxy/policies/AM-KeepBackend.xml": `<AssignMessage name="AM-KeepBackend">
			<AssignVariable><Name>backend</Name><Ref>decision.header.x-backend</Ref></AssignVariable>
		</AssignMessage>`,
	})
	opts := Options{
		MapURL: []URLMap{{From: "http://backend.test", To: be.URL}},
		Policy: policy.Options{Target: httptarget.Options{MapURL: []httptarget.URLMap{{From: "http://decision.test", To: decision.URL}}}},
	}
	_, srv := startEngine(t, opts, dir)
	cases := []struct{ user, wantPath string }{
		{"alice", "/blue/items"},
		{"bob", "/green/items"},
		{"anna", "/blue/items"},
	}
	for _, c := range cases {
		t.Run(c.user, func(t *testing.T) {
			status, hdr, body := do(t, "GET", srv.URL+"/shop/items?user="+c.user, "")
			if status != 200 {
				t.Fatalf("status = %d (%s), want 200", status, body)
			}
			if got := hdr.Get("X-Backend-Path"); got != c.wantPath {
				t.Errorf("GET /shop/items?user=%s reached %q, want %q", c.user, got, c.wantPath)
			}
		})
	}
	if got := decisions.Load(); got != int64(len(cases)) {
		t.Errorf("decision service calls = %d, want %d", got, len(cases))
	}
}

// TestServiceCalloutFaultThroughEngine checks that a failing callout
// without continueOnError answers Apigee's default fault body.
func TestServiceCalloutFaultThroughEngine(t *testing.T) {
	auth, _ := modelBackend(t, 401, `{"error":"denied"}`)
	dir := writeFiles(t, map[string]string{
		"apiproxy/sc.xml": `<APIProxy name="sc"/>`,
		"apiproxy/proxies/default.xml": proxyXML("default", "/sc", `
			<PreFlow name="PreFlow"><Request><Step><Name>AuthenticateUser</Name></Step></Request></PreFlow>
			<RouteRule name="noroute"/>`),
		"apiproxy/policies/AuthenticateUser.xml": `<ServiceCallout name="AuthenticateUser">
			<Response>authResponse</Response>
			<HTTPTargetConnection><URL>` + auth.URL + `</URL></HTTPTargetConnection>
		</ServiceCallout>`,
	})
	_, srv := startEngine(t, Options{}, dir)
	status, _, body := do(t, "GET", srv.URL+"/sc", "")
	fs, code := faultOf(t, body)
	if status != 500 || code != "steps.servicecallout.ExecutionFailed" ||
		fs != "Execution of ServiceCallout AuthenticateUser failed. Reason: ResponseCode 401 is treated as error" {
		t.Errorf("GET /sc = %d %q %q, want 500 ExecutionFailed", status, fs, code)
	}
}

// BenchmarkServiceCalloutStep serves requests through the engine: a null
// route with no step ("null-route", the baseline) and with one
// ServiceCallout step to a loopback backend ("one-callout").
func BenchmarkServiceCalloutStep(b *testing.B) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer be.Close()
	for _, bc := range []struct{ name, preflow string }{
		{"null-route", ""},
		{"one-callout", `<PreFlow name="PreFlow"><Request><Step><Name>SC</Name></Step></Request></PreFlow>`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			srv := benchEngine(b, map[string]string{
				"apiproxy/bench.xml":           `<APIProxy name="bench"/>`,
				"apiproxy/proxies/default.xml": proxyXML("default", "/bench", bc.preflow+`<RouteRule name="noroute"/>`),
				"apiproxy/policies/SC.xml": `<ServiceCallout name="SC"><Request><Set><Path>/x</Path></Set></Request><Response>r</Response>
					<HTTPTargetConnection><URL>` + be.URL + `</URL></HTTPTargetConnection></ServiceCallout>`,
			})
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				resp, err := http.Get(srv.URL + "/bench")
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
		})
	}
}

// benchEngine writes files into a temp dir, builds and serves them.
func benchEngine(b *testing.B, files map[string]string) *httptest.Server {
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
	set, ps := bundle.Load([]string{dir}, bundle.Options{})
	if ps.HasErrors() {
		b.Fatal(ps.String())
	}
	eng, bps := Build(set, Options{})
	if eng == nil {
		b.Fatal(bps.String())
	}
	srv := httptest.NewServer(eng)
	b.Cleanup(func() { srv.Close(); eng.Close() })
	return srv
}
