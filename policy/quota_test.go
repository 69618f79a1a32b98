package policy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
	"github.com/apigo/apigo/store"
)

// rlTestClock is an injectable clock tests move by hand.
type rlTestClock struct {
	mu sync.Mutex
	t  time.Time
}

func newRLClock(at string) *rlTestClock {
	return &rlTestClock{t: rlTime(at)}
}

func rlTime(at string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		panic(err)
	}
	return t
}

func (c *rlTestClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *rlTestClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// rlBC is a build context with a memory store on clk, as the engine
// builds one.
func rlBC(clk *rlTestClock, st store.Store) *BuildContext {
	if st == nil {
		st = store.NewMemory(store.MemoryOptions{Now: clk.Now})
	}
	return &BuildContext{
		Store: st, Options: &Options{Now: clk.Now}, Problems: &bundle.Problems{},
		Bundle: &bundle.Bundle{Name: "proxy-a"}, Data: &bundle.Data{},
	}
}

// rlExchange is an exchange with the variables the engine sets, plus vars.
func rlExchange(vars map[string]string) *exchange.Exchange {
	x := exchange.New()
	x.SetSystem("organization.name", "org")
	x.SetSystem("environment.name", "test")
	for k, v := range vars {
		_ = x.Set(k, v)
	}
	return x
}

// rlStep is one request of a sequence: its time, variables, and whether it
// is admitted.
type rlStep struct {
	at   string
	vars map[string]string
	ok   bool
}

func rlRunSteps(t *testing.T, src string, steps []rlStep) {
	t.Helper()
	clk := newRLClock(steps[0].at)
	pol := mustBuild(t, src, rlBC(clk, nil))
	for i, s := range steps {
		clk.Set(rlTime(s.at))
		err := execute(t, pol, rlExchange(s.vars))
		if got := err == nil; got != s.ok {
			t.Errorf("request %d at %s: Execute() = %v, want admitted=%v", i, s.at, err, s.ok)
		}
	}
}

func TestQuotaWindows(t *testing.T) {
	tests := []struct {
		name  string
		xml   string
		steps []rlStep
	}{
		{"default minute aligned to the minute", `<Quota name="Q"><Allow count="2"/><Interval>1</Interval><TimeUnit>minute</TimeUnit></Quota>`, []rlStep{
			{at: "2024-05-01T10:00:50Z", ok: true}, {at: "2024-05-01T10:00:55Z", ok: true},
			{at: "2024-05-01T10:00:59.999Z", ok: false}, {at: "2024-05-01T10:01:00Z", ok: true},
			{at: "2024-05-01T10:01:01Z", ok: true}, {at: "2024-05-01T10:01:02Z", ok: false},
		}},
		{"default 2 hours laid from the epoch", `<Quota name="Q"><Allow count="1"/><Interval>2</Interval><TimeUnit>hour</TimeUnit></Quota>`, []rlStep{
			{at: "2024-05-01T11:10:00Z", ok: true}, {at: "2024-05-01T11:59:00Z", ok: false}, {at: "2024-05-01T12:00:00Z", ok: true},
			{at: "2024-05-01T13:59:59Z", ok: false}, {at: "2024-05-01T14:00:00Z", ok: true},
		}},
		{"default day and week", `<Quota name="Q"><Allow count="1"/><Interval>1</Interval><TimeUnit>week</TimeUnit></Quota>`, []rlStep{
			// 2024-05-05 is a Sunday: the week runs Monday to Monday.
			{at: "2024-04-29T00:00:00Z", ok: true}, {at: "2024-05-05T23:59:59Z", ok: false}, {at: "2024-05-06T00:00:00Z", ok: true},
		}},
		{"default month on calendar months", `<Quota name="Q"><Allow count="1"/><Interval>1</Interval><TimeUnit>month</TimeUnit></Quota>`, []rlStep{
			{at: "2024-02-01T00:00:00Z", ok: true}, {at: "2024-02-29T23:59:59Z", ok: false}, {at: "2024-03-01T00:00:00Z", ok: true},
		}},
		{"calendar from StartTime, months clamp to the month's end", `<Quota name="Q" type="calendar"><Allow count="1"/><Interval>1</Interval><TimeUnit>month</TimeUnit><StartTime>2024-1-31 00:00:00</StartTime></Quota>`, []rlStep{
			{at: "2024-02-15T00:00:00Z", ok: true}, {at: "2024-02-28T23:59:59Z", ok: false},
			{at: "2024-02-29T00:00:00Z", ok: true}, {at: "2024-03-30T23:00:00Z", ok: false}, {at: "2024-03-31T00:00:00Z", ok: true},
		}},
		{"calendar hours from an odd start", `<Quota name="Q" type="calendar"><Allow count="1"/><Interval>3</Interval><TimeUnit>hour</TimeUnit><StartTime>2024-5-1 10:30:00</StartTime></Quota>`, []rlStep{
			{at: "2024-05-01T13:29:00Z", ok: true}, {at: "2024-05-01T13:30:00Z", ok: true},
			{at: "2024-05-01T16:29:59Z", ok: false}, {at: "2024-05-01T16:30:00Z", ok: true},
			{at: "2024-05-01T09:00:00Z", ok: true}, // before StartTime: the window before it
		}},
		{"rollingwindow slides", `<Quota name="Q" type="rollingwindow"><Allow count="2"/><Interval>1</Interval><TimeUnit>minute</TimeUnit></Quota>`, []rlStep{
			{at: "2024-05-01T10:00:00Z", ok: true}, {at: "2024-05-01T10:00:30Z", ok: true},
			{at: "2024-05-01T10:00:50Z", ok: false}, {at: "2024-05-01T10:00:59Z", ok: false},
			{at: "2024-05-01T10:01:00Z", ok: true}, // the first request left the window
			{at: "2024-05-01T10:01:20Z", ok: false}, {at: "2024-05-01T10:01:30Z", ok: true},
		}},
		{"flexi starts at the first request", `<Quota name="Q" type="flexi"><Allow count="1"/><Interval>1</Interval><TimeUnit>minute</TimeUnit></Quota>`, []rlStep{
			{at: "2024-05-01T10:00:30Z", ok: true}, {at: "2024-05-01T10:01:10Z", ok: false},
			{at: "2024-05-01T10:01:29Z", ok: false}, {at: "2024-05-01T10:01:30Z", ok: true},
			{at: "2024-05-01T10:05:07Z", ok: true}, {at: "2024-05-01T10:06:06Z", ok: false}, {at: "2024-05-01T10:06:07Z", ok: true},
		}},
		{"a huge interval is a century", `<Quota name="Q"><Allow count="1"/><Interval>999999999999</Interval><TimeUnit>week</TimeUnit></Quota>`, []rlStep{
			// one window from the first Monday of 1970 to the end of 2069
			{at: "2024-05-01T10:00:00Z", ok: true}, {at: "2069-05-01T10:00:00Z", ok: false}, {at: "2070-05-01T10:00:00Z", ok: true},
		}},
		{"a huge interval in months", `<Quota name="Q" type="flexi"><Allow count="1"/><Interval>999999999999</Interval><TimeUnit>month</TimeUnit></Quota>`, []rlStep{
			{at: "2024-05-01T10:00:00Z", ok: true}, {at: "2100-05-01T10:00:00Z", ok: false},
		}},
		{"second unit", `<Quota name="Q" type="rollingwindow"><Allow count="1"/><Interval>10</Interval><TimeUnit>second</TimeUnit></Quota>`, []rlStep{
			{at: "2024-05-01T10:00:00Z", ok: true}, {at: "2024-05-01T10:00:09Z", ok: false}, {at: "2024-05-01T10:00:10Z", ok: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { rlRunSteps(t, tt.xml, tt.steps) })
	}
}

func TestQuotaSettings(t *testing.T) {
	const at = "2024-05-01T10:00:00Z"
	n := func(k int, vars map[string]string) []rlStep {
		s := make([]rlStep, k)
		for i := range s {
			s[i] = rlStep{at: at, vars: vars, ok: true}
		}
		return s
	}
	no := func(vars map[string]string) rlStep { return rlStep{at: at, vars: vars, ok: false} }
	cat := func(parts ...[]rlStep) []rlStep {
		var out []rlStep
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	alice, bob := map[string]string{"who": "alice"}, map[string]string{"who": "bob"}
	tests := []struct {
		name  string
		xml   string
		steps []rlStep
	}{
		{"countRef wins when it resolves", `<Quota name="Q"><Allow count="1" countRef="lim"/><Interval>1</Interval><TimeUnit>hour</TimeUnit></Quota>`,
			cat(n(3, map[string]string{"lim": "3"}), []rlStep{no(map[string]string{"lim": "3"})})},
		{"count when countRef is unset or invalid", `<Quota name="Q"><Allow count="1" countRef="lim"/><Interval>1</Interval><TimeUnit>hour</TimeUnit></Quota>`,
			cat(n(1, nil), []rlStep{no(map[string]string{"lim": "many"})})},
		{"Allow text with countRef", `<Quota name="Q"><Allow countRef="lim">2</Allow><Interval>1</Interval><TimeUnit>hour</TimeUnit></Quota>`,
			cat(n(2, nil), []rlStep{no(nil)})},
		{"Identifier keeps separate counters", `<Quota name="Q"><Allow count="1"/><Interval>1</Interval><TimeUnit>hour</TimeUnit><Identifier ref="who"/></Quota>`,
			cat(n(1, alice), n(1, bob), []rlStep{no(alice), no(bob)})},
		{"class override and fallback", `<Quota name="Q"><Allow count="1"><Class ref="tier"><Allow class="gold" count="3"/><Allow class="silver" count="2"/></Class></Allow><Interval>1</Interval><TimeUnit>hour</TimeUnit></Quota>`,
			cat(n(3, map[string]string{"tier": "gold"}), []rlStep{no(map[string]string{"tier": "gold"})},
				n(2, map[string]string{"tier": "silver"}), n(1, map[string]string{"tier": "bronze"}), []rlStep{no(map[string]string{"tier": "bronze"})},
				n(1, nil), []rlStep{no(nil)})},
		{"MessageWeight counts units and a rejected weight is given back", `<Quota name="Q"><Allow count="5"/><Interval>1</Interval><TimeUnit>hour</TimeUnit><MessageWeight ref="w"/></Quota>`,
			cat(n(1, map[string]string{"w": "3"}), []rlStep{no(map[string]string{"w": "3"})}, n(1, map[string]string{"w": "2"}), []rlStep{no(nil)})},
		{"Interval and TimeUnit refs", `<Quota name="Q" type="rollingwindow"><Allow count="1"/><Interval ref="iv">1</Interval><TimeUnit ref="tu">hour</TimeUnit></Quota>`, []rlStep{
			{at: at, vars: map[string]string{"iv": "5", "tu": "second"}, ok: true},
			{at: "2024-05-01T10:00:04Z", vars: map[string]string{"iv": "5", "tu": "second"}, ok: false},
			{at: "2024-05-01T10:00:05Z", vars: map[string]string{"iv": "5", "tu": "second"}, ok: true},
			{at: "2024-05-01T10:00:06Z", ok: false}, // literal: 1 hour
		}},
		{"UseQuotaConfigInAPIProduct reads the product's quota", `<Quota name="Q"><UseQuotaConfigInAPIProduct stepName="VA"><DefaultConfig><Allow>1</Allow><Interval>1</Interval><TimeUnit>minute</TimeUnit></DefaultConfig></UseQuotaConfigInAPIProduct></Quota>`,
			cat(n(2, map[string]string{"verifyapikey.VA.apiproduct.developer.quota.limit": "2", "verifyapikey.VA.apiproduct.developer.quota.interval": "1", "verifyapikey.VA.apiproduct.developer.quota.timeunit": "hour"}),
				[]rlStep{no(map[string]string{"verifyapikey.VA.apiproduct.developer.quota.limit": "2"}),
					{at: "2024-05-01T10:30:00Z", vars: map[string]string{"verifyapikey.VA.apiproduct.developer.quota.limit": "3", "verifyapikey.VA.apiproduct.developer.quota.timeunit": "hour"}, ok: true},
					{at: "2024-05-01T10:30:00Z", vars: map[string]string{"verifyapikey.VA.apiproduct.developer.quota.limit": "3", "verifyapikey.VA.apiproduct.developer.quota.timeunit": "hour"}, ok: false}})},
		{"UseQuotaConfigInAPIProduct falls back to DefaultConfig", `<Quota name="Q"><UseQuotaConfigInAPIProduct stepName="VA"><DefaultConfig><Allow>1</Allow><Interval>1</Interval><TimeUnit>minute</TimeUnit></DefaultConfig></UseQuotaConfigInAPIProduct></Quota>`, []rlStep{
			{at: at, ok: true}, {at: "2024-05-01T10:00:59Z", ok: false}, {at: "2024-05-01T10:01:00Z", ok: true},
		}},
		{"CountOnly never fails", `<Quota name="Q"><Allow count="1"/><Interval>1</Interval><TimeUnit>hour</TimeUnit><CountOnly>true</CountOnly></Quota>`, n(4, nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { rlRunSteps(t, tt.xml, tt.steps) })
	}
}

// TestQuotaSharedName checks a CountOnly policy in the response flow and an
// EnforceOnly one in the request flow sharing one counter.
func TestQuotaSharedName(t *testing.T) {
	clk := newRLClock("2024-05-01T10:00:00Z")
	bc := rlBC(clk, nil)
	enforce := mustBuild(t, `<Quota name="Q-Enforce"><Allow count="2"/><Interval>1</Interval><TimeUnit>hour</TimeUnit><EnforceOnly>true</EnforceOnly><SharedName>s</SharedName></Quota>`, bc)
	count := mustBuild(t, `<Quota name="Q-Count"><Allow count="2"/><Interval>1</Interval><TimeUnit>hour</TimeUnit><CountOnly>true</CountOnly><SharedName>s</SharedName></Quota>`, bc)
	other := mustBuild(t, `<Quota name="Q-Other"><Allow count="2"/><Interval>1</Interval><TimeUnit>hour</TimeUnit><EnforceOnly>true</EnforceOnly></Quota>`, bc)
	for i := range 2 {
		if err := execute(t, enforce, rlExchange(nil)); err != nil {
			t.Fatalf("enforce %d: Execute() = %v, want admitted", i, err)
		}
		if err := execute(t, count, rlExchange(nil)); err != nil {
			t.Fatalf("count %d: Execute() = %v, want nil", i, err)
		}
	}
	x := rlExchange(nil)
	f := rlFaultOf(t, execute(t, enforce, x))
	want(t, "fault", f.Name, "QuotaViolation")
	want(t, "used.count", getString(x, "ratelimit.Q-Enforce.used.count"), "2")
	want(t, "exceed.count", getString(x, "ratelimit.Q-Enforce.exceed.count"), "1")
	if err := execute(t, other, rlExchange(nil)); err != nil {
		t.Errorf("a policy without the SharedName: Execute() = %v, want admitted", err)
	}
}

func rlFaultOf(t *testing.T, err error) *Fault {
	t.Helper()
	var f *Fault
	if !errors.As(err, &f) {
		t.Fatalf("Execute() = %v, want a *Fault", err)
	}
	return f
}

func TestQuotaVariablesAndFault(t *testing.T) {
	clk := newRLClock("2024-05-01T10:00:20Z")
	pol := mustBuild(t, `<Quota name="Q-1"><Allow count="2"><Class ref="tier"><Allow class="gold" count="2"/></Class></Allow><Interval>1</Interval><TimeUnit>minute</TimeUnit><Identifier ref="who"/></Quota>`, rlBC(clk, nil))
	vars := map[string]string{"who": "app-7", "tier": "gold"}
	wantVars := func(x *exchange.Exchange, kv ...string) {
		t.Helper()
		for i := 0; i < len(kv); i += 2 {
			want(t, kv[i], getString(x, "ratelimit.Q-1."+kv[i]), kv[i+1])
		}
	}
	expiry := fmt.Sprint(rlTime("2024-05-01T10:01:00Z").UnixMilli())
	x := rlExchange(vars)
	if err := execute(t, pol, x); err != nil {
		t.Fatal(err)
	}
	wantVars(x, "allowed.count", "2", "used.count", "1", "available.count", "1", "exceed.count", "0",
		"total.exceed.count", "0", "expiry.time", expiry, "identifier", "app-7", "class", "gold",
		"class.allowed.count", "2", "class.used.count", "1", "class.available.count", "1", "class.exceed.count", "0")
	_ = execute(t, pol, rlExchange(vars))
	x = rlExchange(vars)
	f := rlFaultOf(t, execute(t, pol, x))
	want(t, "Code", f.Code, "policies.ratelimit.QuotaViolation")
	want(t, "Status", f.HTTPStatus(), 429)
	want(t, "FaultString", f.FaultString, "Rate limit quota violation. Quota limit  exceeded. Identifier : app-7")
	want(t, "Policy", f.Policy, "Q-1")
	wantVars(x, "used.count", "2", "available.count", "0", "exceed.count", "1", "total.exceed.count", "1",
		"class.used.count", "2", "class.exceed.count", "1", "class.total.exceed.count", "1")

	anon := mustBuild(t, `<Quota name="Q-2"><Allow count="0"/><Interval>1</Interval><TimeUnit>minute</TimeUnit><Identifier ref="nobody"/></Quota>`, rlBC(clk, nil))
	x = rlExchange(nil)
	f = rlFaultOf(t, execute(t, anon, x))
	want(t, "FaultString", f.FaultString, "Rate limit quota violation. Quota limit  exceeded. Identifier : _default")
	want(t, "identifier", getString(x, "ratelimit.Q-2.identifier"), "_default")
	if _, ok := x.Lookup("ratelimit.Q-2.class"); ok {
		t.Error("ratelimit.Q-2.class is set without a Class")
	}
}

func TestQuotaRuntimeFaults(t *testing.T) {
	tests := []struct {
		name, xml string
		vars      map[string]string
		code      string
		text      string
	}{
		{"unresolved interval ref", `<Quota name="Q"><Allow count="1"/><Interval ref="iv"/><TimeUnit>minute</TimeUnit></Quota>`, nil,
			"policies.ratelimit.FailedToResolveQuotaIntervalReference", "Failed to resolve quota interval reference iv of quota policy Q"},
		{"invalid interval value", `<Quota name="Q"><Allow count="1"/><Interval ref="iv"/><TimeUnit>minute</TimeUnit></Quota>`, map[string]string{"iv": "0"},
			"policies.ratelimit.FailedToResolveQuotaIntervalReference", "Failed to resolve quota interval reference iv of quota policy Q"},
		{"unresolved time unit ref", `<Quota name="Q"><Allow count="1"/><Interval>1</Interval><TimeUnit ref="tu"/></Quota>`, map[string]string{"tu": "fortnight"},
			"policies.ratelimit.FailedToResolveQuotaIntervalTimeUnitReference", "Failed to resolve quota time unit reference tu of quota policy Q"},
		{"unresolved allow ref", `<Quota name="Q"><Allow countRef="lim"/><Interval>1</Interval><TimeUnit>minute</TimeUnit></Quota>`, nil,
			"policies.ratelimit.FailedToResolveAllowCountRef", "Failed to resolve the allowed count reference lim of quota policy Q"},
		{"non-integer message weight", `<Quota name="Q"><Allow count="9"/><Interval>1</Interval><TimeUnit>minute</TimeUnit><MessageWeight ref="w"/></Quota>`, map[string]string{"w": "1.5"},
			"policies.ratelimit.InvalidMessageWeight", "Invalid message weight value 1.5"},
		{"negative message weight", `<Quota name="Q"><Allow count="9"/><Interval>1</Interval><TimeUnit>minute</TimeUnit><MessageWeight ref="w"/></Quota>`, map[string]string{"w": "-1"},
			"policies.ratelimit.InvalidMessageWeight", "Invalid message weight value -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newRLClock("2024-05-01T10:00:00Z")
			pol := mustBuild(t, tt.xml, rlBC(clk, nil))
			f := rlFaultOf(t, execute(t, pol, rlExchange(tt.vars)))
			if f.Code != tt.code || f.FaultString != tt.text || f.HTTPStatus() != 500 || f.Policy != "Q" {
				t.Errorf("fault = {%s %q %d %s}, want {%s %q 500 Q}", f.Code, f.FaultString, f.HTTPStatus(), f.Policy, tt.code, tt.text)
			}
		})
	}
}

// rlFailingStore fails every call, as an unreachable Redis does.
type rlFailingStore struct{ store.Store }

var rlErrDown = fmt.Errorf("dial tcp 127.0.0.1:6379: connection refused: %w", store.ErrUnavailable)

func (rlFailingStore) Incr(context.Context, string, int64, time.Time) (int64, error) {
	return 0, rlErrDown
}
func (rlFailingStore) SlidingIncr(context.Context, string, int64, time.Duration, time.Time) (int64, error) {
	return 0, rlErrDown
}
func (rlFailingStore) Take(context.Context, string, time.Duration, int64, int64, time.Time) (bool, time.Duration, error) {
	return false, 0, rlErrDown
}
func (rlFailingStore) Peek(context.Context, string) (int64, error) { return 0, rlErrDown }
func (rlFailingStore) SetNX(context.Context, string, []byte, time.Duration) (bool, error) {
	return false, rlErrDown
}

func TestQuotaStoreFailure(t *testing.T) {
	for _, typ := range []string{"", "rollingwindow", "flexi", "calendar"} {
		t.Run("type="+typ, func(t *testing.T) {
			clk := newRLClock("2024-05-01T10:00:00Z")
			pol := mustBuild(t, `<Quota name="Q" type="`+typ+`"><Allow count="9"/><Interval>1</Interval><TimeUnit>minute</TimeUnit></Quota>`, rlBC(clk, rlFailingStore{}))
			f := rlFaultOf(t, execute(t, pol, rlExchange(nil)))
			if f.Code != "policies.ratelimit.ExecutionFailed" || f.HTTPStatus() != 500 || !errors.Is(f, store.ErrUnavailable) {
				t.Errorf("fault = {%s %d %v}, want {policies.ratelimit.ExecutionFailed 500 wrapping store.ErrUnavailable}", f.Code, f.HTTPStatus(), f.Cause)
			}
		})
	}
}

func TestQuotaBuildProblems(t *testing.T) {
	tests := []struct {
		name, xml, want string
		isError         bool
	}{
		{"unknown type", `<Quota name="Q" type="weekly"><Allow count="1"/></Quota>`, `<Quota> type "weekly" is not calendar, rollingwindow or flexi`, true},
		{"no allow", "<Quota name=\"Q\">\n  <Interval>1</Interval></Quota>", `<Quota> needs <Allow> or <UseQuotaConfigInAPIProduct>`, true},
		{"bad count", "<Quota name=\"Q\">\n  <Allow count=\"ten\"/></Quota>", `<Allow> "ten" is not a non-negative integer count`, true},
		{"bad interval", "<Quota name=\"Q\"><Allow count=\"1\"/>\n<Interval>x</Interval></Quota>", `<Interval> "x" is not a positive integer`, true},
		{"bad time unit", `<Quota name="Q"><Allow count="1"/><TimeUnit>year</TimeUnit></Quota>`, `<TimeUnit> "year" is not second, minute, hour, day, week or month`, true},
		{"bad start time", `<Quota name="Q" type="calendar"><Allow count="1"/><StartTime>tomorrow</StartTime></Quota>`, `<StartTime> "tomorrow" is not yyyy-M-d HH:mm:ss`, true},
		{"class without ref", `<Quota name="Q"><Allow count="1"><Class><Allow class="a" count="1"/></Class></Allow></Quota>`, `<Class> needs a ref attribute`, true},
		{"class allow without count", `<Quota name="Q"><Allow count="1"><Class ref="c"><Allow class="a"/></Class></Allow></Quota>`, `<Allow> in <Class> needs class and a non-negative integer count`, true},
		{"CountOnly with EnforceOnly", `<Quota name="Q"><Allow count="1"/><CountOnly>true</CountOnly><EnforceOnly>true</EnforceOnly></Quota>`, `CountOnly and EnforceOnly cannot both be true`, true},
		{"product config without stepName", `<Quota name="Q"><UseQuotaConfigInAPIProduct/></Quota>`, `<UseQuotaConfigInAPIProduct> needs a stepName`, true},
		{"StartTime outside calendar", `<Quota name="Q"><Allow count="1"/><StartTime>2024-1-1 00:00:00</StartTime></Quota>`, `<StartTime> applies to calendar quotas only, ignored`, false},
		{"calendar without StartTime", `<Quota name="Q" type="calendar"><Allow count="1"/></Quota>`, `calendar <Quota> without <StartTime>`, false},
		{"unknown element", `<Quota name="Q"><Allow count="1"/><Bogus/></Quota>`, `unknown element <Bogus> in <Quota>, ignored`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pol, probs := buildXML(t, tt.xml, rlBC(newRLClock("2024-01-01T00:00:00Z"), nil))
			if !strings.Contains(probs.String(), tt.want) {
				t.Errorf("problems = %q, want %q", probs.String(), tt.want)
			}
			if probs.HasErrors() != tt.isError || (pol == nil) != tt.isError {
				t.Errorf("HasErrors() = %v, policy nil = %v, want %v", probs.HasErrors(), pol == nil, tt.isError)
			}
		})
	}
}

// TestQuotaExactUnderConcurrency: whatever the interleaving, a quota of 10
// admits exactly 10 of 50 concurrent requests.
func TestQuotaExactUnderConcurrency(t *testing.T) {
	for _, typ := range []string{"", "rollingwindow", "flexi"} {
		t.Run("type="+typ, func(t *testing.T) {
			clk := newRLClock("2024-05-01T10:00:00Z")
			pol := mustBuild(t, `<Quota name="Q" type="`+typ+`"><Allow count="10"/><Interval>1</Interval><TimeUnit>minute</TimeUnit></Quota>`, rlBC(clk, nil))
			if got := rlAdmitConcurrently(pol, 50); got != 10 {
				t.Errorf("admitted %d of 50, want 10", got)
			}
		})
	}
}

func rlAdmitConcurrently(pol Policy, n int) int64 {
	var ok atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			if pol.Execute(context.Background(), rlExchange(nil)) == nil {
				ok.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	return ok.Load()
}

func TestQuotaTestdataBuilds(t *testing.T) {
	for _, name := range []string{"product.xml", "calendar.xml", "class.xml"} {
		t.Run(name, func(t *testing.T) {
			mustBuild(t, readTestdata(t, "quota/"+name), rlBC(newRLClock("2024-01-01T00:00:00Z"), nil))
		})
	}
}

func BenchmarkQuotaMemory(b *testing.B) {
	bc := &BuildContext{Store: store.NewMemory(store.MemoryOptions{}), Options: &Options{}, Problems: &bundle.Problems{}, Bundle: &bundle.Bundle{Name: "p"}}
	pol := mustBuild(b, `<Quota name="Q"><Allow count="1000000000"/><Interval>1</Interval><TimeUnit>hour</TimeUnit><Identifier ref="who"/></Quota>`, bc)
	rlBench(b, pol)
}

// rlRedis opens the Redis store APIGO_TEST_REDIS names, with a prefix of
// its own so runs never see each other's counters; it skips without one.
func rlRedis(tb testing.TB, now func() time.Time) store.Store {
	url := os.Getenv("APIGO_TEST_REDIS")
	if url == "" {
		tb.Skip("no Redis: set APIGO_TEST_REDIS=redis://127.0.0.1:6379/0")
	}
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	st, err := store.Open(url+sep+"prefix=quota-test-"+strconv.FormatInt(time.Now().UnixNano(), 36), now)
	if err != nil {
		tb.Fatalf("store.Open: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// TestQuotaRedis runs the exactness and rollover checks against Redis.
func TestQuotaRedis(t *testing.T) {
	for _, typ := range []string{"", "rollingwindow", "flexi"} {
		t.Run("type="+typ, func(t *testing.T) {
			clk := newRLClock("2024-05-01T10:00:00Z")
			pol := mustBuild(t, `<Quota name="Q" type="`+typ+`"><Allow count="10"/><Interval>1</Interval><TimeUnit>minute</TimeUnit></Quota>`, rlBC(clk, rlRedis(t, clk.Now)))
			if got := rlAdmitConcurrently(pol, 50); got != 10 {
				t.Errorf("admitted %d of 50, want 10", got)
			}
			clk.Set(rlTime("2024-05-01T10:01:00Z"))
			if got := rlAdmitConcurrently(pol, 20); got != 10 {
				t.Errorf("next window: admitted %d of 20, want 10", got)
			}
		})
	}
}

func BenchmarkQuotaRedis(b *testing.B) {
	bc := &BuildContext{Store: rlRedis(b, nil), Options: &Options{}, Problems: &bundle.Problems{}, Bundle: &bundle.Bundle{Name: "p"}}
	pol := mustBuild(b, `<Quota name="Q"><Allow count="1000000000"/><Interval>1</Interval><TimeUnit>hour</TimeUnit><Identifier ref="who"/></Quota>`, bc)
	rlBench(b, pol)
}

func BenchmarkSpikeArrestMemory(b *testing.B) {
	bc := &BuildContext{Store: store.NewMemory(store.MemoryOptions{}), Options: &Options{}, Problems: &bundle.Problems{}, Bundle: &bundle.Bundle{Name: "p"}}
	pol := mustBuild(b, `<SpikeArrest name="SA"><Rate>1000000000ps</Rate><UseEffectiveCount>true</UseEffectiveCount></SpikeArrest>`, bc)
	rlBench(b, pol)
}

func rlBench(b *testing.B, pol Policy) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		x := rlExchange(map[string]string{"who": "app"})
		for pb.Next() {
			if err := pol.Execute(context.Background(), x); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestQuotaProductStepMustExist: a stepName naming no VerifyAPIKey/OAuthV2
// policy of the bundle is a warning (apigeelint PO035).
func TestQuotaProductStepMustExist(t *testing.T) {
	const q = `<Quota name="Q"><UseQuotaConfigInAPIProduct stepName="VA-1"><DefaultConfig><Allow>5</Allow><Interval>1</Interval><TimeUnit>minute</TimeUnit></DefaultConfig></UseQuotaConfigInAPIProduct></Quota>`
	for _, c := range []struct {
		policies map[string]*bundle.Policy
		warn     bool
	}{
		{map[string]*bundle.Policy{}, true},
		{map[string]*bundle.Policy{"VA-1": {Name: "VA-1", Type: "AssignMessage"}}, true},
		{map[string]*bundle.Policy{"VA-1": {Name: "VA-1", Type: "VerifyAPIKey"}}, false},
	} {
		pol, ps := buildXML(t, q, &BuildContext{Bundle: &bundle.Bundle{Policies: c.policies}})
		got := strings.Contains(ps.String(), `stepName "VA-1" is not a VerifyAPIKey or OAuthV2 policy`)
		if pol == nil || ps.HasErrors() || got != c.warn {
			t.Errorf("policies %v: built=%v problems %q, want warning=%v", c.policies, pol != nil, ps.String(), c.warn)
		}
	}
}
