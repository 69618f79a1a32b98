package policy

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
)

func kvmXML(attrs, inner string) string {
	return `<KeyValueMapOperations name="KVM" ` + attrs + `>` + inner + `</KeyValueMapOperations>`
}

func runKVM(t *testing.T, pol Policy, vars map[string]string) *exchange.Exchange {
	t.Helper()
	x := scopedExchange()
	for k, v := range vars {
		x.Set(k, v)
	}
	if err := pol.Execute(context.Background(), x); err != nil {
		t.Fatalf("Execute: %v", err)
	}
	return x
}

func TestKVMMapID(t *testing.T) {
	tests := []struct{ scope, want string }{
		{"organization", "organization/o/m"},
		{"environment", "environment/o:e/m"},
		{"apiproxy", "apiproxy/o:p/m"},
		{"policy", "policy/o:p:pol/m"},
		{"", "environment/o:e/m"},
		{"Organization", "organization/o/m"},
	}
	for _, tt := range tests {
		if got := KVMMapID(tt.scope, "o", "e", "p", "pol", "m"); got != tt.want {
			t.Errorf("KVMMapID(%q) = %q, want %q", tt.scope, got, tt.want)
		}
	}
}

func TestKVMOperations(t *testing.T) {
	clock := newTestClock()
	st := newFakeStore(clock.Now)
	bc := stateBC(clock, st)
	put := mustBuild(t, kvmXML(`mapIdentifier="cfg"`, `<ExpiryTimeInSecs>-1</ExpiryTimeInSecs>
		<Put override="true"><Key><Parameter ref="tenant"/><Parameter>url</Parameter></Key><Value ref="missing"/><Value ref="url"/></Put>`), bc)
	putKeep := mustBuild(t, kvmXML(`mapIdentifier="cfg"`, `<Put><Key><Parameter ref="tenant"/><Parameter>url</Parameter></Key><Value>kept?</Value></Put>`), bc)
	get := mustBuild(t, kvmXML(`mapIdentifier="cfg"`, `<ExpiryTimeInSecs>-1</ExpiryTimeInSecs>
		<Get assignTo="private.url"><Key><Parameter ref="tenant"/><Parameter>url</Parameter></Key></Get>`), bc)
	del := mustBuild(t, kvmXML(`mapIdentifier="cfg"`, `<Delete><Key><Parameter ref="tenant"/><Parameter>url</Parameter></Key></Delete>`), bc)

	runKVM(t, put, map[string]string{"tenant": "acme", "url": "http://a"})
	if v := st.kvm["environment/o1:e1/cfg"]["acme__url"]; v != "http://a" {
		t.Fatalf("Put stored %q under acme__url, want http://a (store: %v)", v, st.kvm)
	}
	x := runKVM(t, get, map[string]string{"tenant": "acme"})
	if v, _ := x.GetString("private.url"); v != "http://a" {
		t.Errorf("Get = %q, want http://a", v)
	}
	runKVM(t, putKeep, map[string]string{"tenant": "acme"})
	if x := runKVM(t, get, map[string]string{"tenant": "acme"}); x.Get("private.url") != "http://a" {
		t.Errorf("Put without override replaced the value: %v", x.Get("private.url"))
	}
	runKVM(t, put, map[string]string{"tenant": "acme", "url": "http://b"})
	if x := runKVM(t, get, map[string]string{"tenant": "acme"}); x.Get("private.url") != "http://b" {
		t.Errorf("Put override=true kept the old value: %v", x.Get("private.url"))
	}
	runKVM(t, del, map[string]string{"tenant": "acme"})
	if x := runKVM(t, get, map[string]string{"tenant": "acme"}); x.Get("private.url") != nil {
		t.Errorf("Get after Delete = %v, want unset", x.Get("private.url"))
	}
	// An unset key reference skips the operation.
	if x := runKVM(t, get, nil); x.Get("private.url") != nil {
		t.Errorf("Get with an unset key ref = %v, want unset", x.Get("private.url"))
	}
}

func TestKVMGetIndexAndMissing(t *testing.T) {
	clock := newTestClock()
	st := newFakeStore(clock.Now)
	st.kvm["environment/o1:e1/m"] = map[string]string{"k": "v"}
	tests := []struct {
		name, inner string
		want        any
	}{
		{"no index", `<Get assignTo="out"><Key><Parameter>k</Parameter></Key></Get>`, "v"},
		{"index 1", `<Get assignTo="out" index="1"><Key><Parameter>k</Parameter></Key></Get>`, "v"},
		{"index 2 reads nothing", `<Get assignTo="out" index="2"><Key><Parameter>k</Parameter></Key></Get>`, nil},
		{"missing key leaves it unset", `<Get assignTo="out"><Key><Parameter>nope</Parameter></Key></Get>`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pol := mustBuild(t, kvmXML(`mapIdentifier="m"`, tt.inner), stateBC(clock, st))
			if got := runKVM(t, pol, nil).Get("out"); got != tt.want {
				t.Errorf("Get = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestKVMScopesAndMapName(t *testing.T) {
	clock := newTestClock()
	st := newFakeStore(clock.Now)
	tests := []struct {
		name, attrs, inner string
		vars               map[string]string
		wantID             string
	}{
		{"organization", `mapIdentifier="m"`, `<Scope>organization</Scope>`, nil, "organization/o1/m"},
		{"environment default", `mapIdentifier="m"`, ``, nil, "environment/o1:e1/m"},
		{"apiproxy", `mapIdentifier="m"`, `<Scope>apiproxy</Scope>`, nil, "apiproxy/o1:p1/m"},
		{"policy", `mapIdentifier="m"`, `<Scope>policy</Scope>`, nil, "policy/o1:p1:KVM/m"},
		{"MapName text", ``, `<MapName>named</MapName>`, nil, "environment/o1:e1/named"},
		{"MapName ref", ``, `<MapName ref="which">fallback</MapName>`, map[string]string{"which": "dyn"}, "environment/o1:e1/dyn"},
		{"MapName unset ref uses text", ``, `<MapName ref="which">fallback</MapName>`, nil, "environment/o1:e1/fallback"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st.kvm = map[string]map[string]string{}
			pol := mustBuild(t, kvmXML(tt.attrs, tt.inner+`<Put><Key><Parameter>k</Parameter></Key><Value>v</Value></Put>`), stateBC(clock, st))
			runKVM(t, pol, tt.vars)
			if _, ok := st.kvm[tt.wantID]["k"]; !ok || len(st.kvm) != 1 {
				t.Errorf("Put went to %v, want map %s", st.kvm, tt.wantID)
			}
		})
	}
}

func TestKVMFaults(t *testing.T) {
	clock := newTestClock()
	st := newFakeStore(clock.Now)
	st.kvm["environment/o1:e1/m"] = map[string]string{"k": "v"}
	tests := []struct {
		name, xml, code string
		fail            bool
	}{
		{"empty map ref", kvmXML(``, `<MapName ref="nothing"/><Get assignTo="o"><Key><Parameter>k</Parameter></Key></Get>`), "steps.keyvaluemapoperations.UnsupportedOperationException", false},
		{"read-only assignTo", kvmXML(`mapIdentifier="m"`, `<Get assignTo="proxy.pathsuffix"><Key><Parameter>k</Parameter></Key></Get>`), "steps.keyvaluemapoperations.SetVariableFailed", false},
		{"store down", kvmXML(`mapIdentifier="m"`, `<ExpiryTimeInSecs>-1</ExpiryTimeInSecs><Get assignTo="o"><Key><Parameter>k</Parameter></Key></Get>`), "steps.keyvaluemapoperations.ExecutionFailed", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pol := mustBuild(t, tt.xml, stateBC(clock, st))
			if tt.fail {
				st.fail = errFakeDown
				defer func() { st.fail = nil }()
			}
			var f *Fault
			err := pol.Execute(context.Background(), scopedExchange())
			if !errors.As(err, &f) || f.Code != tt.code || f.HTTPStatus() != 500 || f.Policy != "KVM" {
				t.Errorf("Execute = %v, want a 500 %s fault", err, tt.code)
			}
		})
	}
}

func TestKVMBuildProblems(t *testing.T) {
	tests := []struct{ name, xml, want string }{
		{"no map", kvmXML(``, `<Get assignTo="o"><Key><Parameter>k</Parameter></Key></Get>`), "needs mapIdentifier or <MapName>"},
		{"both map forms", kvmXML(`mapIdentifier="a"`, `<MapName>b</MapName>`), "not both"},
		{"bad scope", kvmXML(`mapIdentifier="a"`, `<Scope>galaxy</Scope>`), `<Scope> "galaxy"`},
		{"get without assignTo", kvmXML(`mapIdentifier="a"`, `<Get><Key><Parameter>k</Parameter></Key></Get>`), "<Get> needs assignTo"},
		{"get without key", kvmXML(`mapIdentifier="a"`, `<Get assignTo="o"/>`), "<Get> needs a <Key>"},
		{"put without value", kvmXML(`mapIdentifier="a"`, `<Put><Key><Parameter>k</Parameter></Key></Put>`), "<Put> needs a <Value>"},
		{"bad index", kvmXML(`mapIdentifier="a"`, `<Get assignTo="o" index="0"><Key><Parameter>k</Parameter></Key></Get>`), `index="0"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pol, ps := buildXML(t, tt.xml, stateBC(newTestClock(), newFakeStore(time.Now)))
			if pol != nil || !strings.Contains(ps.String(), tt.want) {
				t.Errorf("build = %v, problems %q; want nil and %q", pol, ps.String(), tt.want)
			}
		})
	}
	_, ps := buildXML(t, kvmXML(`mapIdentifier="a"`, `<ExclusiveCache>true</ExclusiveCache>`), stateBC(newTestClock(), newFakeStore(time.Now)))
	if ps.HasErrors() || !strings.Contains(ps.String(), "deprecated") {
		t.Errorf("ExclusiveCache problems = %q, want only a deprecation warning", ps.String())
	}
}

func TestKVMInitialEntries(t *testing.T) {
	clock := newTestClock()
	st := newFakeStore(clock.Now)
	st.kvm["environment/o1:e1/m"] = map[string]string{"b": "already"}
	pol := mustBuild(t, kvmXML(`mapIdentifier="m"`, `<InitialEntries>
		<Entry><Key><Parameter>a</Parameter><Parameter>x</Parameter></Key><Value>1</Value></Entry>
		<Entry><Key><Parameter>b</Parameter></Key><Value>2</Value></Entry></InitialEntries>
		<Get assignTo="va"><Key><Parameter>a</Parameter><Parameter>x</Parameter></Key></Get>
		<Get assignTo="vb"><Key><Parameter>b</Parameter></Key></Get>`), stateBC(clock, st))
	x := runKVM(t, pol, nil)
	if x.Get("va") != "1" || x.Get("vb") != "already" {
		t.Errorf("InitialEntries: va=%v vb=%v, want 1 and the existing value", x.Get("va"), x.Get("vb"))
	}
}

// TestKVMReadCache checks ExpiryTimeInSecs: a value changed behind the
// policies' back (another instance) is seen only after the expiry, while a
// Put through a policy is seen at once.
func TestKVMReadCache(t *testing.T) {
	clock := newTestClock()
	st := newFakeStore(clock.Now)
	st.kvm["environment/o1:e1/m"] = map[string]string{"k": "v1"}
	bc := stateBC(clock, st)
	get := mustBuild(t, kvmXML(`mapIdentifier="m"`, `<ExpiryTimeInSecs>10</ExpiryTimeInSecs><Get assignTo="o"><Key><Parameter>k</Parameter></Key></Get>`), bc)
	put := mustBuild(t, kvmXML(`mapIdentifier="m"`, `<Put override="true"><Key><Parameter>k</Parameter></Key><Value ref="nv"/></Put>`), bc)
	if got := runKVM(t, get, nil).Get("o"); got != "v1" {
		t.Fatalf("Get = %v, want v1", got)
	}
	st.kvm["environment/o1:e1/m"]["k"] = "v2" // another instance's write
	clock.Add(9 * time.Second)
	if got := runKVM(t, get, nil).Get("o"); got != "v1" {
		t.Errorf("Get within ExpiryTimeInSecs = %v, want the cached v1", got)
	}
	clock.Add(time.Second)
	if got := runKVM(t, get, nil).Get("o"); got != "v2" {
		t.Errorf("Get after ExpiryTimeInSecs = %v, want v2", got)
	}
	runKVM(t, put, map[string]string{"nv": "v3"})
	if got := runKVM(t, get, nil).Get("o"); got != "v3" {
		t.Errorf("Get after a Put through a policy = %v, want v3 at once", got)
	}
	gets := st.gets
	runKVM(t, get, nil)
	if st.gets != gets {
		t.Errorf("a cached Get reached the store")
	}
}

func TestSeedKVMs(t *testing.T) {
	st := newFakeStore(time.Now)
	data := &bundle.Data{KVMs: []*bundle.KVM{
		{Name: "foo", Scope: "environment", Environment: "dev", Entries: []bundle.KVMEntry{{Name: "success", Value: "value-from-kvm"}}},
		{Name: "org", Scope: "organization", Entries: []bundle.KVMEntry{{Name: "a", Value: "1"}}},
		{Name: "px", Scope: "apiproxy", APIProxy: "p1", Entries: []bundle.KVMEntry{{Name: "b", Value: "2"}}},
	}}
	env := &bundle.Environment{Name: "e1", Files: map[string][]byte{"kvms.json": []byte(`[
		{"name": "envmap", "entries": [{"name": "c", "value": "3"}]},
		{"name": "objmap", "scope": "organization", "entries": {"d": "4", "n": 5}}]`)}}
	if err := SeedKVMs(context.Background(), st, data, env, "o1"); err != nil {
		t.Fatal(err)
	}
	want := map[[2]string]string{
		{"environment/o1:e1/foo", "success"}: "value-from-kvm",
		{"organization/o1/org", "a"}:         "1",
		{"apiproxy/o1:p1/px", "b"}:           "2",
		{"environment/o1:e1/envmap", "c"}:    "3",
		{"organization/o1/objmap", "d"}:      "4",
		{"organization/o1/objmap", "n"}:      "5",
	}
	for k, v := range want {
		if got := st.kvm[k[0]][k[1]]; got != v {
			t.Errorf("seeded %s[%s] = %q, want %q", k[0], k[1], got, v)
		}
	}
	// A policy reads what was seeded.
	pol := mustBuild(t, kvmXML(`mapIdentifier="foo"`, `<Get assignTo="o"><Key><Parameter>success</Parameter></Key></Get>`), stateBC(newTestClock(), st))
	if got := runKVM(t, pol, nil).Get("o"); got != "value-from-kvm" {
		t.Errorf("Get of a seeded entry = %v", got)
	}

	bad := []struct {
		name string
		data *bundle.Data
		env  *bundle.Environment
	}{
		{"apiproxy without proxy", &bundle.Data{KVMs: []*bundle.KVM{{Name: "x", Scope: "apiproxy"}}}, nil},
		{"malformed kvms.json", nil, &bundle.Environment{Name: "e", Dir: "env/e", Files: map[string][]byte{"kvms.json": []byte(`{`)}}},
		{"entries of the wrong shape", nil, &bundle.Environment{Name: "e", Files: map[string][]byte{"kvms.json": []byte(`[{"name":"m","entries":7}]`)}}},
	}
	for _, tt := range bad {
		if err := SeedKVMs(context.Background(), newFakeStore(time.Now), tt.data, tt.env, "o"); err == nil {
			t.Errorf("SeedKVMs(%s) = nil, want an error", tt.name)
		}
	}
	if err := SeedKVMs(context.Background(), newFakeStore(time.Now), nil, nil, "o"); err != nil {
		t.Errorf("SeedKVMs(nothing) = %v, want nil", err)
	}
}

// FuzzKVMsJSON: kvms.json of any shape is an error or maps, never a panic.
func FuzzKVMsJSON(f *testing.F) {
	f.Add([]byte(`[{"name":"m","scope":"organization","entries":{"a":"1"}}]`))
	f.Add([]byte(`[{"name":"m","entries":[{"name":"a","value":"1"}]}]`))
	f.Add([]byte(`[{"name":"","entries":7}]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		maps, err := parseKVMsJSON(raw)
		if err != nil {
			return
		}
		for _, m := range maps {
			if m.Name == "" {
				t.Errorf("parseKVMsJSON(%q) kept a map without a name", raw)
			}
		}
	})
}

// TestKVMReadCacheReleased: the shared read cache lives while a KVM policy
// on the store is open, and goes with the last Close.
func TestKVMReadCacheReleased(t *testing.T) {
	st := newFakeStore(time.Now)
	bc := stateBC(newTestClock(), st)
	src := kvmXML(`mapIdentifier="m"`, `<Get assignTo="o"><Key><Parameter>k</Parameter></Key></Get>`)
	a, b := mustBuild(t, src, bc).(*KeyValueMapOperations), mustBuild(t, src, bc).(*KeyValueMapOperations)
	if a.cache == nil || a.cache != b.cache || existingKVMCache(st) != a.cache {
		t.Fatalf("policies on one store do not share one read cache")
	}
	a.Close()
	a.Close() // idempotent
	if existingKVMCache(st) == nil {
		t.Errorf("cache dropped while policy b still holds it")
	}
	b.Close()
	if existingKVMCache(st) != nil {
		t.Errorf("cache kept after every policy closed")
	}
}
