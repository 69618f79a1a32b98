package flow

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apigo/apigo/policy"
	"github.com/apigo/apigo/store"
)

// rlClock is an injectable clock moved by hand.
type rlClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *rlClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *rlClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func newRLClock(at time.Time) *rlClock { return &rlClock{t: at} }
func rlHeaders(names ...string) string {
	s := ""
	for _, n := range names {
		s += `<Header name="X-` + n + `">{ratelimit.` + n + `}</Header>`
	}
	return s
}

// rateLimitBundle: /q is guarded by Quota Q (3 per minute per x-app),
// /s by SpikeArrest SA (1pm); the response and a FaultRule copy their
// variables into headers.
func rateLimitBundle(allow int) map[string]string {
	vars := rlHeaders("Q.allowed.count", "Q.used.count", "Q.available.count", "Q.exceed.count", "Q.identifier", "Q.expiry.time", "SA.allowed.count", "SA.exceed.count")
	return map[string]string{
		"apiproxy/proxies/default.xml": proxyXML("default", "/rl", `
			<FaultRules><FaultRule name="limits"><Condition>fault.name = "QuotaViolation" or fault.name = "SpikeArrestViolation"</Condition>
			  <Step><Name>AM-Vars</Name></Step></FaultRule></FaultRules>
			<Flows>
			  <Flow name="q"><Condition>proxy.pathsuffix = "/q"</Condition><Request><Step><Name>Q</Name></Step></Request></Flow>
			  <Flow name="s"><Condition>proxy.pathsuffix = "/s"</Condition><Request><Step><Name>SA</Name></Step></Request></Flow>
			</Flows>
			<PostFlow><Response><Step><Name>AM-Vars</Name></Step></Response></PostFlow>
			<RouteRule name="none"/>`),
		"apiproxy/policies/Q.xml": `<Quota name="Q"><Allow count="` + strconv.Itoa(allow) + `"/><Interval>1</Interval><TimeUnit>minute</TimeUnit>
			<Identifier ref="request.header.x-app"/></Quota>`,
		"apiproxy/policies/SA.xml":      `<SpikeArrest name="SA"><Rate>1pm</Rate></SpikeArrest>`,
		"apiproxy/policies/AM-Vars.xml": `<AssignMessage name="AM-Vars"><AssignTo createNew="false" type="response"/><Set><Headers>` + vars + `</Headers></Set></AssignMessage>`,
	}
}

func TestQuotaOverHTTP(t *testing.T) {
	clk := newRLClock(time.Date(2024, 5, 1, 10, 0, 30, 0, time.UTC))
	st := store.NewMemory(store.MemoryOptions{Now: clk.Now})
	_, srv := startEngine(t, Options{Store: st, Policy: policy.Options{Now: clk.Now}}, writeFiles(t, rateLimitBundle(3)))
	expiry := strconv.FormatInt(time.Date(2024, 5, 1, 10, 1, 0, 0, time.UTC).UnixMilli(), 10)
	for i := 1; i <= 3; i++ {
		status, h, body := do(t, "GET", srv.URL+"/rl/q", "", "x-app", "app-1")
		if status != 200 {
			t.Fatalf("request %d: status %d %s, want 200", i, status, body)
		}
		for name, want := range map[string]string{"X-Q.used.count": strconv.Itoa(i), "X-Q.available.count": strconv.Itoa(3 - i),
			"X-Q.allowed.count": "3", "X-Q.exceed.count": "0", "X-Q.identifier": "app-1", "X-Q.expiry.time": expiry} {
			if got := h.Get(name); got != want {
				t.Errorf("request %d: %s = %q, want %q", i, name, got, want)
			}
		}
	}
	status, h, body := do(t, "GET", srv.URL+"/rl/q", "", "x-app", "app-1")
	fs, code := faultOf(t, body)
	if status != 429 || code != "policies.ratelimit.QuotaViolation" || fs != "Rate limit quota violation. Quota limit  exceeded. Identifier : app-1" {
		t.Errorf("4th request = %d %q %q, want 429 QuotaViolation", status, code, fs)
	}
	if h.Get("X-Q.exceed.count") != "1" || h.Get("X-Q.available.count") != "0" {
		t.Errorf("violation headers exceed=%q available=%q, want 1 and 0", h.Get("X-Q.exceed.count"), h.Get("X-Q.available.count"))
	}
	if status, _, _ := do(t, "GET", srv.URL+"/rl/q", "", "x-app", "app-2"); status != 200 {
		t.Errorf("another identifier: status %d, want 200", status)
	}
	clk.Add(30 * time.Second) // 10:01:00, the next window
	if status, h, _ := do(t, "GET", srv.URL+"/rl/q", "", "x-app", "app-1"); status != 200 || h.Get("X-Q.used.count") != "1" {
		t.Errorf("after rollover: status %d used %q, want 200 and 1", status, h.Get("X-Q.used.count"))
	}
}

func TestSpikeArrestOverHTTP(t *testing.T) {
	clk := newRLClock(time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC))
	st := store.NewMemory(store.MemoryOptions{Now: clk.Now})
	_, srv := startEngine(t, Options{Store: st, Policy: policy.Options{Now: clk.Now}}, writeFiles(t, rateLimitBundle(3)))
	if status, h, body := do(t, "GET", srv.URL+"/rl/s", ""); status != 200 || h.Get("X-SA.allowed.count") != "1" {
		t.Fatalf("first: %d %q allowed=%q, want 200 and 1", status, body, h.Get("X-SA.allowed.count"))
	}
	status, h, body := do(t, "GET", srv.URL+"/rl/s", "")
	fs, code := faultOf(t, body)
	if status != 429 || code != "policies.ratelimit.SpikeArrestViolation" ||
		fs != "Spike arrest violation. Allowed rate : MessageRate{messagesPerPeriod=1, periodInMicroseconds=60000000, maxBurstMessageCount=1.0}" {
		t.Errorf("second = %d %q %q, want 429 SpikeArrestViolation", status, code, fs)
	}
	if h.Get("X-SA.exceed.count") != "1" {
		t.Errorf("X-SA.exceed.count = %q, want 1", h.Get("X-SA.exceed.count"))
	}
	clk.Add(time.Minute)
	if status, _, _ := do(t, "GET", srv.URL+"/rl/s", ""); status != 200 {
		t.Errorf("a minute later: status %d, want 200", status)
	}
}

// TestQuotaSharedAcrossEngines: two engines on one store, a quota of 10,
// 40 concurrent requests spread over both: exactly 10 pass.
func TestQuotaSharedAcrossEngines(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		sharedQuota(t, store.NewMemory(store.MemoryOptions{}), "local")
	})
	t.Run("redis", func(t *testing.T) {
		url := os.Getenv("APIGO_TEST_REDIS")
		if url == "" {
			t.Skip("no Redis: set APIGO_TEST_REDIS=redis://127.0.0.1:6379/0 to run the shared-quota test against a real server")
		}
		st, err := store.Open(url, nil)
		if err != nil {
			t.Fatalf("store.Open(%q): %v", url, err)
		}
		t.Cleanup(func() { st.Close() })
		sharedQuota(t, st, "org-"+rlNonce()) // a fresh org: counts of earlier runs stay apart
	})
}

func sharedQuota(t *testing.T, st store.Store, org string) {
	dir := writeFiles(t, rateLimitBundle(10))
	_, a := startEngine(t, Options{Store: st, Org: org}, dir)
	_, b := startEngine(t, Options{Store: st, Org: org}, dir)
	var ok, limited atomic.Int64
	var wg sync.WaitGroup
	for i := range 40 {
		base := a.URL
		if i%2 == 1 {
			base = b.URL
		}
		wg.Go(func() {
			req, _ := http.NewRequest("GET", base+"/rl/q", nil)
			req.Header.Set("x-app", "shared")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			switch resp.StatusCode {
			case 200:
				ok.Add(1)
			case 429:
				limited.Add(1)
			default:
				t.Errorf("status %d, want 200 or 429", resp.StatusCode)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 10 || limited.Load() != 30 {
		t.Errorf("admitted %d, limited %d of 40 over two engines, want 10 and 30", ok.Load(), limited.Load())
	}
}

func rlNonce() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// quotaOptionsBundle has one flow per Quota option, each with its own
// policy; AM-Out copies the variables of the policy named by the path.
func quotaOptionsBundle() map[string]string {
	flows, files := "", map[string]string{}
	add := func(name, policyXML string) {
		flows += `<Flow name="` + name + `"><Condition>proxy.pathsuffix = "/` + name + `"</Condition><Request><Step><Name>` + name + `</Name></Step></Request></Flow>`
		files["apiproxy/policies/"+name+".xml"] = policyXML
	}
	const hour = `<Interval>1</Interval><TimeUnit>hour</TimeUnit>`
	add("class", `<Quota name="class"><Allow count="1"><Class ref="request.header.tier"><Allow class="gold" count="2"/></Class></Allow>`+hour+`</Quota>`)
	add("weight", `<Quota name="weight"><Allow count="3"/>`+hour+`<MessageWeight ref="request.header.weight"/></Quota>`)
	add("countref", `<Quota name="countref"><Allow count="1" countRef="request.header.limit"/>`+hour+`</Quota>`)
	add("refs", `<Quota name="refs" type="rollingwindow"><Allow count="1"/><Interval ref="request.header.iv">1</Interval><TimeUnit ref="request.header.tu">hour</TimeUnit></Quota>`)
	add("calendar", `<Quota name="calendar" type="calendar"><Allow count="1"/><Interval>1</Interval><TimeUnit>day</TimeUnit><StartTime>2024-1-1 12:00:00</StartTime></Quota>`)
	add("flexi", `<Quota name="flexi" type="flexi"><Allow count="1"/><Interval>1</Interval><TimeUnit>minute</TimeUnit></Quota>`)
	add("rolling", `<Quota name="rolling" type="rollingwindow"><Allow count="2"/><Interval>1</Interval><TimeUnit>minute</TimeUnit></Quota>`)
	flows += `<Flow name="product"><Condition>proxy.pathsuffix = "/product"</Condition><Request><Step><Name>AM-Product</Name></Step><Step><Name>product</Name></Step></Request></Flow>`
	files["apiproxy/policies/AM-Product.xml"] = `<AssignMessage name="AM-Product">
		<AssignVariable><Name>verifyapikey.VA.apiproduct.developer.quota.limit</Name><Value>2</Value></AssignVariable>
		<AssignVariable><Name>verifyapikey.VA.apiproduct.developer.quota.interval</Name><Value>1</Value></AssignVariable>
		<AssignVariable><Name>verifyapikey.VA.apiproduct.developer.quota.timeunit</Name><Value>minute</Value></AssignVariable></AssignMessage>`
	files["apiproxy/policies/product.xml"] = `<Quota name="product"><UseQuotaConfigInAPIProduct stepName="VA"><DefaultConfig><Allow>9</Allow><Interval>1</Interval><TimeUnit>hour</TimeUnit></DefaultConfig></UseQuotaConfigInAPIProduct></Quota>`
	// shared: EnforceOnly before the target, CountOnly on success only.
	flows += `<Flow name="shared"><Condition>proxy.pathsuffix = "/shared"</Condition><Request><Step><Name>enforce</Name></Step></Request>
		<Response><Step><Name>count</Name><Condition>request.header.fail != "yes"</Condition></Step></Response></Flow>`
	files["apiproxy/policies/enforce.xml"] = `<Quota name="enforce"><Allow count="2"/>` + hour + `<EnforceOnly>true</EnforceOnly><SharedName>ok-calls</SharedName></Quota>`
	files["apiproxy/policies/count.xml"] = `<Quota name="count"><Allow count="2"/>` + hour + `<CountOnly>true</CountOnly><SharedName>ok-calls</SharedName></Quota>`
	files["apiproxy/proxies/default.xml"] = proxyXML("default", "/opt", `<Flows>`+flows+`</Flows><RouteRule name="none"/>`)
	return files
}

func TestQuotaOptionsOverHTTP(t *testing.T) {
	type req struct {
		path    string
		advance time.Duration
		hdr     []string
		status  int
	}
	tests := []struct {
		name string
		reqs []req
	}{
		{"class", []req{{"/class", 0, []string{"tier", "gold"}, 200}, {"/class", 0, []string{"tier", "gold"}, 200},
			{"/class", 0, []string{"tier", "gold"}, 429}, {"/class", 0, nil, 200}, {"/class", 0, nil, 429}}},
		{"weight", []req{{"/weight", 0, []string{"weight", "2"}, 200}, {"/weight", 0, []string{"weight", "2"}, 429},
			{"/weight", 0, nil, 200}, {"/weight", 0, []string{"weight", "1.5"}, 500}}},
		{"countRef", []req{{"/countref", 0, []string{"limit", "2"}, 200}, {"/countref", 0, []string{"limit", "2"}, 200},
			{"/countref", 0, []string{"limit", "2"}, 429}, {"/countref", 0, []string{"limit", "3"}, 200}}},
		{"interval and time unit refs", []req{{"/refs", 0, []string{"iv", "10", "tu", "second"}, 200},
			{"/refs", 9 * time.Second, []string{"iv", "10", "tu", "second"}, 429}, {"/refs", time.Second, []string{"iv", "10", "tu", "second"}, 200},
			{"/refs", 0, []string{"tu", "fortnight"}, 429}}},
		{"calendar", []req{{"/calendar", 0, nil, 200}, {"/calendar", 89 * time.Minute, nil, 429}, {"/calendar", time.Minute, nil, 200}}},
		{"flexi", []req{{"/flexi", 0, nil, 200}, {"/flexi", 59 * time.Second, nil, 429}, {"/flexi", time.Second, nil, 200}}},
		{"rollingwindow", []req{{"/rolling", 0, nil, 200}, {"/rolling", 30 * time.Second, nil, 200}, {"/rolling", 29 * time.Second, nil, 429},
			{"/rolling", time.Second, nil, 200}, {"/rolling", 0, nil, 429}}},
		{"UseQuotaConfigInAPIProduct", []req{{"/product", 0, nil, 200}, {"/product", 0, nil, 200}, {"/product", 0, nil, 429}, {"/product", time.Minute, nil, 200}}},
		{"SharedName with EnforceOnly and CountOnly", []req{{"/shared", 0, []string{"fail", "yes"}, 200}, {"/shared", 0, nil, 200},
			{"/shared", 0, nil, 200}, {"/shared", 0, nil, 429}, {"/shared", 0, []string{"fail", "yes"}, 429}}},
	}
	dir := writeFiles(t, quotaOptionsBundle())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// 10:30 UTC: the calendar days run from 12:00, so 89 minutes
			// later is still the same window and 90 the next.
			clk := newRLClock(time.Date(2024, 5, 1, 10, 30, 0, 0, time.UTC))
			st := store.NewMemory(store.MemoryOptions{Now: clk.Now})
			_, srv := startEngine(t, Options{Store: st, Policy: policy.Options{Now: clk.Now}}, dir)
			for i, r := range tt.reqs {
				clk.Add(r.advance)
				if status, _, body := do(t, "GET", srv.URL+"/opt"+r.path, "", r.hdr...); status != r.status {
					t.Errorf("request %d (%s %v): status %d %s, want %d", i, r.path, r.hdr, status, body, r.status)
				}
			}
		})
	}
}

// TestSpikeArrestViolationLeavesFailedUnset: on a violation Quota sets
// ratelimit.<name>.failed (FaultRules test it), SpikeArrest does not.
func TestSpikeArrestViolationLeavesFailedUnset(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"apiproxy/proxies/default.xml": proxyXML("default", "/rl", `
			<FaultRules><FaultRule name="flags"><Step><Name>AM-Flags</Name></Step></FaultRule></FaultRules>
			<PreFlow><Request><Step><Name>Q</Name><Condition>request.header.x-kind = "quota"</Condition></Step>
			<Step><Name>SA</Name><Condition>request.header.x-kind = "spike"</Condition></Step></Request></PreFlow>
			<RouteRule name="n"/>`),
		"apiproxy/policies/Q.xml":  `<Quota name="Q"><Allow count="1"/><Interval>1</Interval><TimeUnit>hour</TimeUnit></Quota>`,
		"apiproxy/policies/SA.xml": `<SpikeArrest name="SA"><Rate>1pm</Rate></SpikeArrest>`,
		"apiproxy/policies/AM-Flags.xml": `<AssignMessage name="AM-Flags"><Set><Headers>
			<Header name="X-Q-Failed">{ratelimit.Q.failed:unset}</Header><Header name="X-SA-Failed">{ratelimit.SA.failed:unset}</Header>
			</Headers></Set></AssignMessage>`,
	})
	_, srv := startEngine(t, Options{}, dir)
	for _, kind := range []string{"quota", "spike"} {
		do(t, "GET", srv.URL+"/rl", "", "X-Kind", kind)
		status, hdr, _ := do(t, "GET", srv.URL+"/rl", "", "X-Kind", kind)
		if status != 429 {
			t.Fatalf("%s: second request status %d, want 429", kind, status)
		}
		want := map[string][2]string{"quota": {"true", "unset"}, "spike": {"unset", "unset"}}[kind]
		if hdr.Get("X-Q-Failed") != want[0] || hdr.Get("X-SA-Failed") != want[1] {
			t.Errorf("%s: ratelimit.Q.failed=%q ratelimit.SA.failed=%q, want %q %q", kind, hdr.Get("X-Q-Failed"), hdr.Get("X-SA-Failed"), want[0], want[1])
		}
	}
}
