package policy

import (
	"context"
	"errors"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apigo/apigo/policy/exchange"
	"github.com/apigo/apigo/store"
)

// rcRun drives one exchange through a ResponseCache as the engine would:
// lookup in the request; on a miss a "target" response, then populate.
// It returns whether the lookup was a hit and the final response.
func rcRun(t *testing.T, pol Policy, prepare func(x *exchange.Exchange), target func() *exchange.Message) (bool, *exchange.Message, *exchange.Exchange) {
	t.Helper()
	x := scopedExchange()
	if prepare != nil {
		prepare(x)
	}
	err := pol.Execute(context.Background(), x)
	hit := errors.Is(err, ErrResponseReady)
	if err != nil && !hit {
		t.Fatalf("lookup: %v", err)
	}
	if !hit {
		x.SetResponse(target())
	}
	x.SetCurrent("response")
	if err := pol.Execute(context.Background(), x); err != nil {
		t.Fatalf("populate: %v", err)
	}
	return hit, x.Response(), x
}

func targetResponse(status int, body string, hdr ...string) func() *exchange.Message {
	return func() *exchange.Message {
		m := exchange.NewResponse()
		m.Status, m.Body = status, []byte(body)
		m.Header.Set("Content-Type", "text/plain")
		for i := 0; i+1 < len(hdr); i += 2 {
			m.Header.Set(hdr[i], hdr[i+1])
		}
		return m
	}
}

const rcKey = `<CacheKey><KeyFragment ref="request.uri"/></CacheKey>`

func TestResponseCacheHitAndMiss(t *testing.T) {
	clock := newTestClock()
	st := newFakeStore(clock.Now)
	pol := mustBuild(t, `<ResponseCache name="RC">`+rcKey+`<ExpirySettings><TimeoutInSeconds>60</TimeoutInSeconds></ExpirySettings></ResponseCache>`, stateBC(clock, st))

	hit, resp, x := rcRun(t, pol, nil, targetResponse(201, "first", "X-Backend", "1", "Content-Length", "5"))
	if hit || string(resp.Body) != "first" {
		t.Fatalf("first exchange hit=%v body=%q, want a miss with the target body", hit, resp.Body)
	}
	if v, _ := x.GetString("responsecache.RC.cachehit"); v != "false" {
		t.Errorf("cachehit after a miss = %q, want false", v)
	}
	if v, _ := x.GetString("responsecache.RC.cachekey"); v != "o1__e1__p1__3__default__/items?id=42" {
		t.Errorf("cachekey = %q", v)
	}
	if v, _ := x.GetString("responsecache.RC.cachename"); v != "default" {
		t.Errorf("cachename = %q, want default", v)
	}

	clock.Add(59 * time.Second)
	hit, resp, x = rcRun(t, pol, nil, targetResponse(200, "second"))
	if !hit || resp.Status != 201 || string(resp.Body) != "first" || resp.Header.Get("X-Backend") != "1" {
		t.Fatalf("second exchange hit=%v status=%d body=%q hdr=%v; want the cached 201 first", hit, resp.Status, resp.Body, resp.Header)
	}
	if resp.Header.Get("Content-Length") != "" {
		t.Errorf("cached Content-Length = %q, want it dropped", resp.Header.Get("Content-Length"))
	}
	if v, _ := x.GetString("responsecache.RC.cachehit"); v != "true" {
		t.Errorf("cachehit after a hit = %q, want true", v)
	}

	clock.Add(time.Second)
	hit, resp, _ = rcRun(t, pol, nil, targetResponse(200, "third"))
	if hit || string(resp.Body) != "third" {
		t.Fatalf("after expiry hit=%v body=%q, want a miss", hit, resp.Body)
	}
	hit, resp, _ = rcRun(t, pol, nil, targetResponse(200, "fourth"))
	if !hit || string(resp.Body) != "third" {
		t.Fatalf("after repopulating hit=%v body=%q, want third from the cache", hit, resp.Body)
	}
}

func TestResponseCacheHitDoesNotRepopulate(t *testing.T) {
	clock := newTestClock()
	st := newFakeStore(clock.Now)
	pol := mustBuild(t, `<ResponseCache name="RC">`+rcKey+`<ExpirySettings><TimeoutInSeconds>10</TimeoutInSeconds></ExpirySettings></ResponseCache>`, stateBC(clock, st))
	rcRun(t, pol, nil, targetResponse(200, "a"))
	clock.Add(9 * time.Second)
	// A hit whose response a later policy changes must not extend or
	// replace the entry.
	x := scopedExchange()
	if err := pol.Execute(context.Background(), x); !errors.Is(err, ErrResponseReady) {
		t.Fatalf("lookup = %v, want ErrResponseReady", err)
	}
	x.Response().Body = []byte("changed")
	x.SetCurrent("response")
	if err := pol.Execute(context.Background(), x); err != nil {
		t.Fatal(err)
	}
	clock.Add(2 * time.Second)
	if hit, _, _ := rcRun(t, pol, nil, targetResponse(200, "b")); hit {
		t.Errorf("entry still served after its first 10 s: the hit re-populated it")
	}
}

func TestResponseCacheOptions(t *testing.T) {
	get := func(x *exchange.Exchange) {}
	tests := []struct {
		name    string
		inner   string
		first   func(*exchange.Exchange)
		target  func() *exchange.Message
		second  func(*exchange.Exchange)
		wantHit bool
	}{
		{"SkipCacheLookup true misses", `<SkipCacheLookup>request.header.x-bypass = "true"</SkipCacheLookup>`, get, targetResponse(200, "a"),
			func(x *exchange.Exchange) { x.Request().Header.Set("X-Bypass", "true") }, false},
		{"SkipCacheLookup false hits", `<SkipCacheLookup>request.header.x-bypass = "true"</SkipCacheLookup>`, get, targetResponse(200, "a"), get, true},
		{"SkipCachePopulation stores nothing", `<SkipCachePopulation>request.verb != "GET"</SkipCachePopulation>`,
			func(x *exchange.Exchange) { x.Request().Verb = "POST" }, targetResponse(200, "a"), get, false},
		{"ExcludeErrorResponse skips a 500", `<ExcludeErrorResponse>true</ExcludeErrorResponse>`, get, targetResponse(500, "boom"), get, false},
		{"ExcludeErrorResponse keeps a 2xx", `<ExcludeErrorResponse>true</ExcludeErrorResponse>`, get, targetResponse(204, ""), get, true},
		{"error responses cached by default", ``, get, targetResponse(404, "nf"), get, true},
		{"UseAcceptHeader separates representations", `<UseAcceptHeader>true</UseAcceptHeader>`,
			func(x *exchange.Exchange) { x.Request().Header.Set("Accept", "application/json") }, targetResponse(200, "{}"),
			func(x *exchange.Exchange) { x.Request().Header.Set("Accept", "text/xml") }, false},
		{"UseAcceptHeader same Accept hits", `<UseAcceptHeader>true</UseAcceptHeader>`,
			func(x *exchange.Exchange) { x.Request().Header.Set("Accept", "application/json") }, targetResponse(200, "{}"),
			func(x *exchange.Exchange) { x.Request().Header.Set("Accept", "application/json") }, true},
		{"without UseAcceptHeader Accept is ignored", ``,
			func(x *exchange.Exchange) { x.Request().Header.Set("Accept", "application/json") }, targetResponse(200, "{}"),
			func(x *exchange.Exchange) { x.Request().Header.Set("Accept", "text/xml") }, true},
		{"UseResponseCacheHeaders no-store", `<UseResponseCacheHeaders>true</UseResponseCacheHeaders>`, get,
			targetResponse(200, "a", "Cache-Control", "no-store"), get, false},
		{"UseResponseCacheHeaders private", `<UseResponseCacheHeaders>true</UseResponseCacheHeaders>`, get,
			targetResponse(200, "a", "Cache-Control", "private, max-age=60"), get, false},
		{"no-store ignored without UseResponseCacheHeaders", ``, get,
			targetResponse(200, "a", "Cache-Control", "no-store"), get, true},
		{"UseResponseCacheHeaders max-age=0", `<UseResponseCacheHeaders>true</UseResponseCacheHeaders>`, get,
			targetResponse(200, "a", "Cache-Control", "max-age=0"), get, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newTestClock()
			pol := mustBuild(t, `<ResponseCache name="RC">`+rcKey+tt.inner+`</ResponseCache>`, stateBC(clock, newFakeStore(clock.Now)))
			rcRun(t, pol, tt.first, tt.target)
			hit, _, _ := rcRun(t, pol, tt.second, targetResponse(200, "other"))
			if hit != tt.wantHit {
				t.Errorf("second lookup hit = %v, want %v", hit, tt.wantHit)
			}
		})
	}
}

func TestResponseCacheHeaderLifetimes(t *testing.T) {
	now := newTestClock().Now()
	tests := []struct {
		hdr       []string
		wantTTL   time.Duration
		wantFound bool
		wantStore bool
	}{
		{[]string{"Cache-Control", "max-age=30"}, 30 * time.Second, true, true},
		{[]string{"Cache-Control", "public, max-age=30, s-maxage=90"}, 90 * time.Second, true, true},
		{[]string{"Expires", now.Add(2 * time.Minute).Format(http.TimeFormat)}, 2 * time.Minute, true, true},
		{[]string{"Expires", "garbage"}, 0, true, true},
		{[]string{"Cache-Control", "no-store"}, 0, false, false},
		{nil, 0, false, true},
	}
	for _, tt := range tests {
		h := http.Header{}
		for i := 0; i+1 < len(tt.hdr); i += 2 {
			h.Set(tt.hdr[i], tt.hdr[i+1])
		}
		ttl, found, st := httpCacheLifetime(h, now)
		if ttl != tt.wantTTL || found != tt.wantFound || st != tt.wantStore {
			t.Errorf("httpCacheLifetime(%v) = %v, %v, %v; want %v, %v, %v", tt.hdr, ttl, found, st, tt.wantTTL, tt.wantFound, tt.wantStore)
		}
	}
}

func TestResponseCacheUsesCacheHeadersLifetime(t *testing.T) {
	clock := newTestClock()
	pol := mustBuild(t, `<ResponseCache name="RC">`+rcKey+`<ExpirySettings><TimeoutInSeconds>3600</TimeoutInSeconds></ExpirySettings><UseResponseCacheHeaders>true</UseResponseCacheHeaders></ResponseCache>`,
		stateBC(clock, newFakeStore(clock.Now)))
	rcRun(t, pol, nil, targetResponse(200, "a", "Cache-Control", "max-age=5"))
	clock.Add(4 * time.Second)
	if hit, _, _ := rcRun(t, pol, nil, targetResponse(200, "b")); !hit {
		t.Errorf("lookup at 4 s missed, want a hit (max-age=5)")
	}
	clock.Add(2 * time.Second)
	if hit, _, _ := rcRun(t, pol, nil, targetResponse(200, "b")); hit {
		t.Errorf("lookup at 6 s hit, want a miss (max-age=5 overrides the 3600 s timeout)")
	}
}

func TestResponseCacheResourcesAreSeparate(t *testing.T) {
	clock := newTestClock()
	st := newFakeStore(clock.Now)
	a := mustBuild(t, `<ResponseCache name="A">`+rcKey+`<CacheResource>one</CacheResource></ResponseCache>`, stateBC(clock, st))
	b := mustBuild(t, `<ResponseCache name="B">`+rcKey+`<CacheResource>two</CacheResource></ResponseCache>`, stateBC(clock, st))
	rcRun(t, a, nil, targetResponse(200, "a"))
	if hit, _, _ := rcRun(t, b, nil, targetResponse(200, "b")); hit {
		t.Errorf("cache resource two found an entry of cache resource one")
	}
	if hit, _, x := rcRun(t, a, nil, targetResponse(200, "c")); !hit {
		t.Errorf("cache resource one lost its entry")
	} else if v, _ := x.GetString("responsecache.A.cachename"); v != "one" {
		t.Errorf("cachename = %q, want one", v)
	}
}

func TestResponseCacheInvalidEntryAndStoreFailure(t *testing.T) {
	clock := newTestClock()
	st := newFakeStore(clock.Now)
	pol := mustBuild(t, `<ResponseCache name="RC">`+rcKey+`</ResponseCache>`, stateBC(clock, st))
	rc := pol.(*ResponseCache)
	x := scopedExchange()
	st.Set(context.Background(), rc.Key.StoreKey(x, rc.Key.Key(x)), []byte("not json"), 0)
	hit, resp, x := rcRun(t, pol, nil, targetResponse(200, "fresh"))
	if hit || string(resp.Body) != "fresh" {
		t.Errorf("corrupt entry: hit=%v body=%q, want a miss", hit, resp.Body)
	}
	if v, _ := x.GetString("responsecache.RC.invalidentry"); v != "true" {
		t.Errorf("invalidentry = %q, want true", v)
	}
	st.fail = errFakeDown
	hit, resp, _ = rcRun(t, pol, nil, targetResponse(200, "down"))
	if hit || string(resp.Body) != "down" {
		t.Errorf("store down: hit=%v body=%q, want a miss served by the target", hit, resp.Body)
	}
}

func TestResponseCacheErrorSegmentIsNoop(t *testing.T) {
	clock := newTestClock()
	st := newFakeStore(clock.Now)
	pol := mustBuild(t, `<ResponseCache name="RC">`+rcKey+`</ResponseCache>`, stateBC(clock, st))
	x := scopedExchange()
	x.SetCurrent("error")
	if err := pol.Execute(context.Background(), x); err != nil || len(st.cache) != 0 {
		t.Errorf("Execute in an error segment = %v with %d entries, want nil and none", err, len(st.cache))
	}
}

func TestCachePoliciesMeet(t *testing.T) {
	clock := newTestClock()
	st := newFakeStore(clock.Now)
	bc := stateBC(clock, st)
	key := `<CacheKey><Prefix>tok</Prefix><KeyFragment ref="client"/></CacheKey><Scope>Application</Scope>`
	pop := mustBuild(t, `<PopulateCache name="P">`+key+`<Source>token</Source><ExpirySettings><TimeoutInSec>30</TimeoutInSec></ExpirySettings></PopulateCache>`, bc)
	look := mustBuild(t, `<LookupCache name="L">`+key+`<AssignTo>found</AssignTo></LookupCache>`, bc)
	inval := mustBuild(t, `<InvalidateCache name="I">`+key+`</InvalidateCache>`, bc)
	ctx := context.Background()

	lookup := func(client string) (string, string) {
		x := scopedExchange()
		x.Set("client", client)
		if err := look.Execute(ctx, x); err != nil {
			t.Fatal(err)
		}
		v, _ := x.GetString("found")
		hit, _ := x.GetString("lookupcache.L.cachehit")
		return v, hit
	}
	x := scopedExchange()
	x.Set("client", "c1")
	x.Set("token", "abc")
	if err := pop.Execute(ctx, x); err != nil {
		t.Fatal(err)
	}
	if v, hit := lookup("c1"); v != "abc" || hit != "true" {
		t.Errorf("lookup(c1) = %q hit %s, want abc true", v, hit)
	}
	if v, hit := lookup("c2"); v != "" || hit != "false" {
		t.Errorf("lookup(c2) = %q hit %s, want nothing, false", v, hit)
	}
	y := scopedExchange()
	y.Set("client", "c1")
	if err := inval.Execute(ctx, y); err != nil {
		t.Fatal(err)
	}
	if v, hit := lookup("c1"); v != "" || hit != "false" {
		t.Errorf("lookup(c1) after InvalidateCache = %q hit %s, want a miss", v, hit)
	}
	// Expiry.
	if err := pop.Execute(ctx, x); err != nil {
		t.Fatal(err)
	}
	clock.Add(31 * time.Second)
	if v, hit := lookup("c1"); hit != "false" {
		t.Errorf("lookup(c1) after 31 s = %q hit %s, want expired", v, hit)
	}
}

func TestPopulateCacheSources(t *testing.T) {
	clock := newTestClock()
	st := newFakeStore(clock.Now)
	bc := stateBC(clock, st)
	pop := mustBuild(t, `<PopulateCache name="P"><CacheKey><Prefix>p</Prefix><KeyFragment>k</KeyFragment></CacheKey><Source>src</Source></PopulateCache>`, bc)
	look := mustBuild(t, `<LookupCache name="L"><CacheKey><Prefix>p</Prefix><KeyFragment>k</KeyFragment></CacheKey><AssignTo>out</AssignTo></LookupCache>`, bc)
	ctx := context.Background()
	tests := []struct {
		name string
		set  func(x *exchange.Exchange)
		want string
	}{
		{"string", func(x *exchange.Exchange) { x.Set("src", "hello") }, "hello"},
		{"number", func(x *exchange.Exchange) { x.Set("src", 42) }, "42"},
		{"message is its body", func(x *exchange.Exchange) {
			m := exchange.NewResponse()
			m.Body = []byte(`{"a":1}`)
			x.SetMessage("src", m)
		}, `{"a":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := scopedExchange()
			tt.set(x)
			if err := pop.Execute(ctx, x); err != nil {
				t.Fatal(err)
			}
			y := scopedExchange()
			look.Execute(ctx, y)
			if got, _ := y.GetString("out"); got != tt.want {
				t.Errorf("LookupCache after PopulateCache(%s) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
	t.Run("unset source stores nothing", func(t *testing.T) {
		st.cache = map[string]fakeEntry{}
		if err := pop.Execute(ctx, scopedExchange()); err != nil || len(st.cache) != 0 {
			t.Errorf("PopulateCache(unset) = %v with %d entries, want nil and none", err, len(st.cache))
		}
	})
	t.Run("store failure is EntryCannotBeCached", func(t *testing.T) {
		st.fail = errFakeDown
		defer func() { st.fail = nil }()
		x := scopedExchange()
		x.Set("src", "v")
		var f *Fault
		if err := pop.Execute(ctx, x); !errors.As(err, &f) || f.Code != "steps.cache.EntryCannotBeCached" {
			t.Errorf("PopulateCache with the store down = %v, want steps.cache.EntryCannotBeCached", err)
		}
	})
}

func TestLookupCacheSetVariableFailed(t *testing.T) {
	clock := newTestClock()
	st := newFakeStore(clock.Now)
	bc := stateBC(clock, st)
	key := `<CacheKey><Prefix>p</Prefix></CacheKey>`
	mustBuild(t, `<PopulateCache name="P">`+key+`<Source>v</Source></PopulateCache>`, bc)
	st.Set(context.Background(), "cache/e1/default/p", []byte("x"), 0)
	look := mustBuild(t, `<LookupCache name="L">`+key+`<AssignTo>proxy.pathsuffix</AssignTo></LookupCache>`, bc)
	var f *Fault
	if err := look.Execute(context.Background(), scopedExchange()); !errors.As(err, &f) || f.Code != "steps.lookupcache.SetVariableFailed" {
		t.Errorf("LookupCache into a read-only variable = %v, want steps.lookupcache.SetVariableFailed", err)
	}
}

func TestInvalidateCachePurgeChildEntries(t *testing.T) {
	clock := newTestClock()
	st := newFakeStore(clock.Now)
	bc := stateBC(clock, st)
	ctx := context.Background()
	for _, k := range []string{"users", "users__1", "users__2", "usersX", "orders__1"} {
		st.Set(ctx, "cache/e1/default/"+k, []byte("v"), 0)
	}
	tests := []struct {
		purge string
		left  []string
	}{
		{"false", []string{"orders__1", "usersX", "users__1", "users__2"}},
		{"true", []string{"orders__1", "usersX"}},
	}
	for _, tt := range tests {
		t.Run("purge="+tt.purge, func(t *testing.T) {
			for _, k := range []string{"users", "users__1", "users__2", "usersX", "orders__1"} {
				st.Set(ctx, "cache/e1/default/"+k, []byte("v"), 0)
			}
			inv := mustBuild(t, `<InvalidateCache name="I"><CacheKey><Prefix>users</Prefix></CacheKey><PurgeChildEntries>`+tt.purge+`</PurgeChildEntries></InvalidateCache>`, bc)
			if err := inv.Execute(ctx, scopedExchange()); err != nil {
				t.Fatal(err)
			}
			var left []string
			for k := range st.cache {
				left = append(left, strings.TrimPrefix(k, "cache/e1/default/"))
			}
			if got, want := strings.Join(slices.Sorted(slices.Values(left)), ","), strings.Join(tt.left, ","); got != want {
				t.Errorf("entries left = %s, want %s", got, want)
			}
		})
	}
}

func TestInvalidateCacheContext(t *testing.T) {
	clock := newTestClock()
	st := newFakeStore(clock.Now)
	bc := stateBC(clock, st)
	ctx := context.Background()
	st.Set(ctx, "cache/e1/default/o1__e1__other__3__t7__k", []byte("v"), 0)
	inv := mustBuild(t, `<InvalidateCache name="I"><CacheKey><KeyFragment>k</KeyFragment></CacheKey><Scope>Target</Scope>
		<CacheContext><APIProxyName>other</APIProxyName><TargetName>t7</TargetName></CacheContext></InvalidateCache>`, bc)
	if err := inv.Execute(ctx, scopedExchange()); err != nil {
		t.Fatal(err)
	}
	if len(st.cache) != 0 {
		t.Errorf("entry of proxy other / target t7 survived InvalidateCache with that CacheContext: %v", st.cache)
	}
}

// BenchmarkCacheLookup measures one cache hit in the in-memory store:
// LookupCache (key build, Get, assign) and ResponseCache (key build, Get,
// decode into a response message).
func BenchmarkCacheLookup(b *testing.B) {
	clock := newTestClock()
	stores := map[string]func() (store.Store, error){
		"memory": func() (store.Store, error) { return store.NewMemory(store.MemoryOptions{Now: clock.Now}), nil },
	}
	if url := os.Getenv("APIGO_TEST_REDIS"); url != "" {
		stores["redis"] = func() (store.Store, error) { return store.Open(url, clock.Now) }
	}
	for name, open := range stores {
		st, err := open()
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) { benchCacheLookup(b, stateBC(clock, st)) })
		st.Close()
	}
}

func benchCacheLookup(b *testing.B, bc *BuildContext) {
	ctx := context.Background()
	b.Run("LookupCache", func(b *testing.B) {
		key := `<CacheKey><KeyFragment ref="request.queryparam.id"/></CacheKey>`
		pop := mustBuild(b, `<PopulateCache name="P">`+key+`<Source>v</Source></PopulateCache>`, bc)
		look := mustBuild(b, `<LookupCache name="L">`+key+`<AssignTo>out</AssignTo></LookupCache>`, bc)
		x := scopedExchange()
		x.Set("v", strings.Repeat("x", 512))
		if err := pop.Execute(ctx, x); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := look.Execute(ctx, x); err != nil || !x.Bool("lookupcache.L.cachehit", false) {
				b.Fatalf("lookup: %v", err)
			}
		}
	})
	b.Run("ResponseCache", func(b *testing.B) {
		pol := mustBuild(b, `<ResponseCache name="RC">`+rcKey+`</ResponseCache>`, bc)
		x := scopedExchange()
		pol.Execute(ctx, x)
		x.SetResponse(targetResponse(200, strings.Repeat("y", 1024))())
		x.SetCurrent("response")
		pol.Execute(ctx, x)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			y := scopedExchange()
			if err := pol.Execute(ctx, y); !errors.Is(err, ErrResponseReady) {
				b.Fatalf("lookup = %v, want a hit", err)
			}
		}
	})
}

// TestCachedResponseEncoding round-trips a response and checks that every
// truncation of a stored entry decodes as invalid instead of panicking.
func TestCachedResponseEncoding(t *testing.T) {
	m := exchange.NewResponse()
	m.Status, m.Reason, m.Body = 203, "Non-Authoritative", []byte("body\x00bytes")
	m.Header.Add("X-Multi", "a")
	m.Header.Add("X-Multi", "b")
	m.Header.Set("Connection", "close")
	raw := encodeCachedResponse(m)
	got, ok := decodeCachedResponse(raw)
	if !ok || got.Status != 203 || got.Reason != m.Reason || string(got.Body) != string(m.Body) ||
		strings.Join(got.Header.Values("X-Multi"), ",") != "a,b" || got.Header.Get("Connection") != "" {
		t.Fatalf("decode(encode(m)) = %+v, %v; want m without Connection", got, ok)
	}
	bodyStart := len(raw) - len(m.Body)
	for n := 0; n < bodyStart; n++ {
		if _, ok := decodeCachedResponse(raw[:n]); ok {
			t.Errorf("decode of the first %d bytes of %d = ok, want invalid", n, len(raw))
		}
	}
}

// FuzzCachedResponse: no stored entry, however damaged, panics the
// decoder; a valid one re-encodes to itself.
func FuzzCachedResponse(f *testing.F) {
	m := exchange.NewResponse()
	m.Status, m.Body = 200, []byte("ok")
	m.Header.Set("Content-Type", "text/plain")
	f.Add(encodeCachedResponse(m))
	f.Add([]byte("RC2"))
	f.Add([]byte("RC2\xc8\x01\x00\xff\xff\xff\xff\x0f"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, ok := decodeCachedResponse(raw)
		if !ok {
			return
		}
		again, ok := decodeCachedResponse(encodeCachedResponse(got))
		if !ok || again.Status != got.Status || string(again.Body) != string(got.Body) {
			t.Errorf("re-encoding %+v gave %+v, %v", got, again, ok)
		}
	})
}
