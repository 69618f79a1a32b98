package policy

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
	"github.com/apigo/apigo/store"
)

// fakeStore is a map-backed store.Store for unit tests (the cache and KVM
// parts; counters are not used by these policies). It reads the test
// clock, so expiry needs no sleeping. fail makes every call fail.
type fakeStore struct {
	mu    sync.Mutex
	now   func() time.Time
	cache map[string]fakeEntry
	kvm   map[string]map[string]string
	gets  int
	fail  error
}

type fakeEntry struct {
	v   []byte
	exp time.Time
}

func newFakeStore(now func() time.Time) *fakeStore {
	return &fakeStore{now: now, cache: map[string]fakeEntry{}, kvm: map[string]map[string]string{}}
}

var errFakeDown = errors.New("fake store down")

func (s *fakeStore) Incr(context.Context, string, int64, time.Time) (int64, error) {
	return 0, errors.New("unused")
}
func (s *fakeStore) SlidingIncr(context.Context, string, int64, time.Duration, time.Time) (int64, error) {
	return 0, errors.New("unused")
}
func (s *fakeStore) Take(context.Context, string, time.Duration, int64, int64, time.Time) (bool, time.Duration, error) {
	return false, 0, errors.New("unused")
}
func (s *fakeStore) Peek(context.Context, string) (int64, error) { return 0, errors.New("unused") }
func (s *fakeStore) Close() error                                { return nil }

func (s *fakeStore) Get(_ context.Context, key string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return nil, false, s.fail
	}
	e, ok := s.cache[key]
	if !ok || (!e.exp.IsZero() && !s.now().Before(e.exp)) {
		return nil, false, nil
	}
	return e.v, true, nil
}

func (s *fakeStore) Set(_ context.Context, key string, v []byte, ttl time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	e := fakeEntry{v: append([]byte(nil), v...)}
	if ttl > 0 {
		e.exp = s.now().Add(ttl)
	}
	s.cache[key] = e
	return nil
}

func (s *fakeStore) SetNX(ctx context.Context, key string, v []byte, ttl time.Duration) (bool, error) {
	if _, ok, _ := s.Get(ctx, key); ok {
		return false, nil
	}
	return true, s.Set(ctx, key, v, ttl)
}

func (s *fakeStore) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.cache, key)
	return s.fail
}

func (s *fakeStore) DeletePrefix(_ context.Context, prefix string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.cache {
		if strings.HasPrefix(k, prefix) {
			delete(s.cache, k)
		}
	}
	return s.fail
}

func (s *fakeStore) KVMGet(_ context.Context, id, key string) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gets++
	if s.fail != nil {
		return "", false, s.fail
	}
	v, ok := s.kvm[id][key]
	return v, ok, nil
}

func (s *fakeStore) KVMPut(_ context.Context, id, key, v string, override bool) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return false, s.fail
	}
	if s.kvm[id] == nil {
		s.kvm[id] = map[string]string{}
	}
	if _, ok := s.kvm[id][key]; ok && !override {
		return false, nil
	}
	s.kvm[id][key] = v
	return true, nil
}

func (s *fakeStore) KVMDelete(_ context.Context, id, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.kvm[id], key)
	return s.fail
}

func (s *fakeStore) KVMKeys(_ context.Context, id string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []string
	for k := range s.kvm[id] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys, nil
}

var _ store.Store = (*fakeStore)(nil)

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// stateBC is a build context with a fake store and a test clock.
func stateBC(clock *testClock, st store.Store) *BuildContext {
	return &BuildContext{Store: st, Options: &Options{Now: clock.Now}}
}

// scopedExchange is a request in org o1, env e1, proxy p1 rev 3, proxy
// endpoint default, target t1.
func scopedExchange() *exchange.Exchange {
	x := exchange.New()
	for k, v := range map[string]string{"organization.name": "o1", "environment.name": "e1", "apiproxy.name": "p1",
		"apiproxy.revision": "3", "proxy.name": "default", "target.name": "t1"} {
		x.SetSystem(k, v)
	}
	x.Request().Path = "/items"
	x.Request().Query = exchange.ParseParams("id=42")
	return x
}

func TestCacheKey(t *testing.T) {
	tests := []struct {
		name, inner string
		ctx         CacheContext
		want        string
	}{
		{"prefix replaces the scope", `<CacheKey><Prefix>v1</Prefix><KeyFragment ref="request.queryparam.id"/><KeyFragment>lit</KeyFragment></CacheKey><Scope>Global</Scope>`, CacheContext{}, "v1__42__lit"},
		{"default scope is Exclusive", `<CacheKey><KeyFragment ref="request.queryparam.id"/></CacheKey>`, CacheContext{}, "o1__e1__p1__3__default__42"},
		{"Global", `<CacheKey><KeyFragment>k</KeyFragment></CacheKey><Scope>Global</Scope>`, CacheContext{}, "o1__e1__k"},
		{"Application, case-insensitive", `<CacheKey><KeyFragment>k</KeyFragment></CacheKey><Scope>application</Scope>`, CacheContext{}, "o1__e1__p1__k"},
		{"Proxy", `<CacheKey><KeyFragment>k</KeyFragment></CacheKey><Scope>Proxy</Scope>`, CacheContext{}, "o1__e1__p1__3__default__k"},
		{"Target", `<CacheKey><KeyFragment>k</KeyFragment></CacheKey><Scope>Target</Scope>`, CacheContext{}, "o1__e1__p1__3__t1__k"},
		{"unset ref is empty", `<CacheKey><Prefix>p</Prefix><KeyFragment ref="nope"/><KeyFragment>b</KeyFragment></CacheKey>`, CacheContext{}, "p____b"},
		{"CacheContext overrides names", `<CacheKey><KeyFragment>k</KeyFragment></CacheKey><Scope>Target</Scope>`, CacheContext{APIProxyName: "other", TargetName: "t9"}, "o1__e1__other__3__t9__k"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pol := mustBuild(t, `<LookupCache name="L">`+tt.inner+`<AssignTo>v</AssignTo></LookupCache>`, stateBC(newTestClock(), newFakeStore(time.Now)))
			k := pol.(*LookupCache).Key
			k.Context = tt.ctx
			if got := k.Key(scopedExchange()); got != tt.want {
				t.Errorf("Key() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCacheStoreKeyQualifiesEnvAndResource(t *testing.T) {
	x := scopedExchange()
	a := CacheKey{Resource: "mycache"}
	b := CacheKey{}
	if got, want := a.StoreKey(x, "k"), "cache/e1/mycache/k"; got != want {
		t.Errorf("StoreKey(resource) = %q, want %q", got, want)
	}
	if got, want := b.StoreKey(x, "k"), "cache/e1/default/k"; got != want {
		t.Errorf("StoreKey(no resource) = %q, want %q", got, want)
	}
}

func TestExpiryTTL(t *testing.T) {
	now := time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name, inner string
		vars        map[string]string
		want        time.Duration
	}{
		{"none is the default", ``, nil, DefaultCacheTimeout},
		{"TimeoutInSeconds", `<TimeoutInSeconds>60</TimeoutInSeconds>`, nil, 60 * time.Second},
		{"TimeoutInSec alias", `<TimeoutInSec>7</TimeoutInSec>`, nil, 7 * time.Second},
		{"ref wins", `<TimeoutInSeconds ref="ttl">60</TimeoutInSeconds>`, map[string]string{"ttl": "5"}, 5 * time.Second},
		{"unset ref falls back", `<TimeoutInSeconds ref="ttl">60</TimeoutInSeconds>`, nil, 60 * time.Second},
		{"invalid ref falls back", `<TimeoutInSeconds ref="ttl">60</TimeoutInSeconds>`, map[string]string{"ttl": "soon"}, 60 * time.Second},
		{"ExpiryDate", `<ExpiryDate>03-16-2025</ExpiryDate>`, nil, 38 * time.Hour},
		{"ExpiryDate ref", `<ExpiryDate ref="d"/>`, map[string]string{"d": "03-15-2025"}, 14 * time.Hour},
		{"ExpiryDate past", `<ExpiryDate>01-01-2025</ExpiryDate>`, nil, -(time.Duration(72*24+10) * time.Hour)},
		{"TimeOfDay later today", `<TimeOfDay>12:30:00</TimeOfDay>`, nil, 150 * time.Minute},
		{"TimeOfDay tomorrow", `<TimeOfDay>09:00:00</TimeOfDay>`, nil, 23 * time.Hour},
		{"empty UI placeholders are ignored", `<ExpiryDate/><TimeOfDay/><TimeoutInSec ref="">90</TimeoutInSec>`, nil, 90 * time.Second},
		{"only placeholders is the default", `<ExpiryDate/><TimeOfDay/>`, nil, DefaultCacheTimeout},
		{"TimeOfDay ref", `<TimeOfDay ref="tod">00:00:00</TimeOfDay>`, map[string]string{"tod": "10:00:30"}, 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := `<PopulateCache name="P"><Source>v</Source><ExpirySettings>` + tt.inner + `</ExpirySettings></PopulateCache>`
			if tt.inner == "" {
				src = `<PopulateCache name="P"><Source>v</Source></PopulateCache>`
			}
			pol := mustBuild(t, src, stateBC(newTestClock(), newFakeStore(time.Now)))
			x := exchange.New()
			for k, v := range tt.vars {
				x.Set(k, v)
			}
			e := pol.(*PopulateCache).Expiry
			if got := e.TTL(x, now); got != tt.want {
				t.Errorf("TTL(%s) = %v, want %v", tt.inner, got, tt.want)
			}
		})
	}
}

func TestCacheBuildErrors(t *testing.T) {
	tests := []struct{ name, xml, want string }{
		{"bad scope", `<ResponseCache name="R"><Scope>Planet</Scope></ResponseCache>`, `<Scope> "Planet" is not Global`},
		{"bad timeout", `<ResponseCache name="R"><ExpirySettings><TimeoutInSeconds>ten</TimeoutInSeconds></ExpirySettings></ResponseCache>`, `<TimeoutInSeconds> "ten" is not a number`},
		{"bad date", `<PopulateCache name="P"><Source>v</Source><ExpirySettings><ExpiryDate>2025-01-01</ExpiryDate></ExpirySettings></PopulateCache>`, `<ExpiryDate>: "2025-01-01" is not a date mm-dd-yyyy`},
		{"bad time of day", `<PopulateCache name="P"><Source>v</Source><ExpirySettings><TimeOfDay>25:00:00</TimeOfDay></ExpirySettings></PopulateCache>`, `<TimeOfDay>: "25:00:00" is not a time hh:mm:ss`},
		{"bad skip condition", `<ResponseCache name="R"><SkipCacheLookup>a = = b</SkipCacheLookup></ResponseCache>`, `<SkipCacheLookup> condition:`},
		{"lookup without AssignTo", `<LookupCache name="L"/>`, `needs <AssignTo>`},
		{"populate without Source", `<PopulateCache name="P"/>`, `needs <Source>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pol, ps := buildXML(t, tt.xml, stateBC(newTestClock(), newFakeStore(time.Now)))
			if pol != nil || !strings.Contains(ps.String(), tt.want) {
				t.Errorf("build(%s) = %v, problems %q; want nil and %q", tt.xml, pol, ps.String(), tt.want)
			}
		})
	}
}

// TestBuildErrorPositions builds the policies of testdata/cache/badpolicies
// as the engine would and checks each problem points at the bad text.
func TestBuildErrorPositions(t *testing.T) {
	set, ps := bundle.Load([]string{"testdata/cache/badpolicies"}, bundle.Options{})
	if ps.HasErrors() || len(set.Proxies) != 1 {
		t.Fatalf("loading testdata: %s", ps.String())
	}
	b := set.Proxies[0]
	want := map[string]string{
		"RC-BadScope":     "policies/RC-BadScope.xml:3:12: <Scope> \"Planet\"",
		"RC-BadCondition": "policies/RC-BadCondition.xml:2:37: <SkipCacheLookup> condition:",
		"PC-BadDate":      "policies/PC-BadDate.xml:4:21: <ExpiryDate>",
		"KVM-BadExpiry":   "policies/KVM-BadExpiry.xml:2:23: <ExpiryTimeInSecs> \"soon\"",
		"ML-BadProtocol":  "policies/ML-BadProtocol.xml:6:19: <Protocol> \"SCTP\"",
		"SC-BadType":      "policies/SC-BadType.xml:3:9: <Statistic> type \"decimal\"",
	}
	for name, w := range want {
		t.Run(name, func(t *testing.T) {
			p := b.Policies[name]
			if p == nil {
				t.Fatalf("no policy %s in testdata", name)
			}
			build, _, _ := Lookup(p.Type)
			bc := stateBC(newTestClock(), newFakeStore(time.Now))
			bc.Problems, bc.Bundle = &bundle.Problems{}, b
			if pol := build(bc, p); pol != nil {
				t.Errorf("build(%s) = %T, want nil", name, pol)
			}
			if got := bc.Problems.String(); !strings.Contains(got, w) {
				t.Errorf("build(%s) problems = %q, want one containing %q", name, got, w)
			}
		})
	}
}

func TestCachePoliciesNeedAStore(t *testing.T) {
	for _, src := range []string{`<ResponseCache name="R"/>`, `<LookupCache name="L"><AssignTo>v</AssignTo></LookupCache>`,
		`<PopulateCache name="P"><Source>v</Source></PopulateCache>`, `<InvalidateCache name="I"/>`} {
		pol, ps := buildXML(t, src, &BuildContext{})
		if pol != nil || !strings.Contains(ps.String(), "store") {
			t.Errorf("build(%s) without store = %v, %q; want nil and a store problem", src, pol, ps.String())
		}
	}
}

// stateTypes are the policy types of the cache, KVM, logging and
// statistics files.
var stateTypes = map[string]bool{"ResponseCache": true, "LookupCache": true, "PopulateCache": true, "InvalidateCache": true,
	"KeyValueMapOperations": true, "MessageLogging": true, "StatisticsCollector": true}

// TestStatePoliciesBuildOnCorpus builds every cache, KVM, MessageLogging
// and StatisticsCollector policy of the shared corpus: none may fail to
// build, and every problem has a position.
func TestStatePoliciesBuildOnCorpus(t *testing.T) {
	const corpus = "../../shared/corpus"
	if _, err := os.Stat(corpus); err != nil {
		t.Skip("no corpus at", corpus)
	}
	var dirs []string
	_ = filepath.WalkDir(corpus, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && (d.Name() == "apiproxy" || d.Name() == "sharedflowbundle") {
			dirs = append(dirs, filepath.Dir(p))
			return fs.SkipDir
		}
		return nil
	})
	built := 0
	for _, dir := range dirs {
		set, _ := bundle.Load([]string{dir}, bundle.Options{})
		if set == nil {
			continue
		}
		for _, b := range append(append([]*bundle.Bundle(nil), set.Proxies...), set.SharedFlows...) {
			for _, p := range b.Policies {
				if !stateTypes[p.Type] {
					continue
				}
				build, _, _ := Lookup(p.Type)
				bc := stateBC(newTestClock(), newFakeStore(time.Now))
				bc.Problems, bc.Bundle = &bundle.Problems{}, b
				pol := build(bc, p)
				if pol == nil || bc.Problems.HasErrors() {
					t.Errorf("%s: %s %s does not build:\n%s", dir, p.Type, p.Name, bc.Problems)
				}
				for _, pr := range bc.Problems.List {
					if pr.Pos.File == "" || pr.Pos.Line <= 0 {
						t.Errorf("problem without a position: %s", pr)
					}
				}
				if c, ok := pol.(interface{ Close() }); ok {
					c.Close()
				}
				built++
			}
		}
	}
	if built == 0 {
		t.Errorf("no cache, KVM, MessageLogging or StatisticsCollector policy found in %s", corpus)
	}
	t.Logf("built %d policies", built)
}
