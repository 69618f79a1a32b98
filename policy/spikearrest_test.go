package policy

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

func TestSpikeArrestSmoothing(t *testing.T) {
	tests := []struct {
		name  string
		xml   string
		steps []rlStep
	}{
		{"30pm admits one request per 2 s", `<SpikeArrest name="SA"><Rate>30pm</Rate></SpikeArrest>`, []rlStep{
			{at: "2024-05-01T10:00:00Z", ok: true}, {at: "2024-05-01T10:00:00Z", ok: false},
			{at: "2024-05-01T10:00:01.999Z", ok: false}, {at: "2024-05-01T10:00:02Z", ok: true},
			{at: "2024-05-01T10:00:03Z", ok: false}, {at: "2024-05-01T10:00:10Z", ok: true}, {at: "2024-05-01T10:00:10.5Z", ok: false},
		}},
		{"10ps admits one request per 100 ms, no bursts", `<SpikeArrest name="SA"><Rate>10ps</Rate></SpikeArrest>`, []rlStep{
			{at: "2024-05-01T10:00:00Z", ok: true}, {at: "2024-05-01T10:00:00.05Z", ok: false},
			{at: "2024-05-01T10:00:00.1Z", ok: true}, {at: "2024-05-01T10:00:05Z", ok: true}, {at: "2024-05-01T10:00:05.01Z", ok: false},
		}},
		{"UseEffectiveCount allows bursts up to the rate", `<SpikeArrest name="SA"><Rate>5ps</Rate><UseEffectiveCount>true</UseEffectiveCount></SpikeArrest>`, []rlStep{
			{at: "2024-05-01T10:00:00Z", ok: true}, {at: "2024-05-01T10:00:00Z", ok: true}, {at: "2024-05-01T10:00:00Z", ok: true},
			{at: "2024-05-01T10:00:00Z", ok: true}, {at: "2024-05-01T10:00:00Z", ok: true}, {at: "2024-05-01T10:00:00Z", ok: false},
			{at: "2024-05-01T10:00:00.2Z", ok: true}, {at: "2024-05-01T10:00:00.2Z", ok: false},
		}},
		{"Rate ref wins when it resolves", `<SpikeArrest name="SA"><Rate ref="rate">1pm</Rate></SpikeArrest>`, []rlStep{
			{at: "2024-05-01T10:00:00Z", vars: map[string]string{"rate": "2ps"}, ok: true},
			{at: "2024-05-01T10:00:00.5Z", vars: map[string]string{"rate": "2ps"}, ok: true},
			{at: "2024-05-01T10:00:00.6Z", ok: true}, // 1pm: its own cell
			{at: "2024-05-01T10:00:30Z", ok: false},
			{at: "2024-05-01T10:00:30Z", vars: map[string]string{"rate": "bogus"}, ok: false}, // invalid: the literal
		}},
		{"Identifier keeps separate cells", `<SpikeArrest name="SA"><Rate>1pm</Rate><Identifier ref="who"/></SpikeArrest>`, []rlStep{
			{at: "2024-05-01T10:00:00Z", vars: map[string]string{"who": "a"}, ok: true},
			{at: "2024-05-01T10:00:00Z", vars: map[string]string{"who": "b"}, ok: true},
			{at: "2024-05-01T10:00:01Z", vars: map[string]string{"who": "a"}, ok: false},
			{at: "2024-05-01T10:00:01Z", ok: true},
		}},
		{"MessageWeight takes several intervals", `<SpikeArrest name="SA"><Rate>10ps</Rate><MessageWeight ref="w"/></SpikeArrest>`, []rlStep{
			{at: "2024-05-01T10:00:00Z", vars: map[string]string{"w": "3"}, ok: true},
			{at: "2024-05-01T10:00:00.2Z", ok: false},
			{at: "2024-05-01T10:00:00.3Z", ok: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { rlRunSteps(t, tt.xml, tt.steps) })
	}
}

func TestSpikeArrestVariablesAndFault(t *testing.T) {
	clk := newRLClock("2024-05-01T10:00:00Z")
	pol := mustBuild(t, `<SpikeArrest name="SA-1"><Rate>5ps</Rate></SpikeArrest>`, rlBC(clk, nil))
	x := rlExchange(nil)
	if err := execute(t, pol, x); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{"allowed.count": "1", "used.count": "1", "available.count": "1", "exceed.count": "0"} {
		want(t, name, getString(x, "ratelimit.SA-1."+name), v)
	}
	x = rlExchange(nil)
	f := rlFaultOf(t, execute(t, pol, x))
	want(t, "Name", f.Name, "SpikeArrestViolation")
	want(t, "Code", f.Code, "policies.ratelimit.SpikeArrestViolation")
	want(t, "Status", f.HTTPStatus(), 429)
	want(t, "FaultString", f.FaultString, "Spike arrest violation. Allowed rate : MessageRate{messagesPerPeriod=5, periodInMicroseconds=1000000, maxBurstMessageCount=1.0}")
	for name, v := range map[string]string{"used.count": "0", "available.count": "0", "exceed.count": "1"} {
		want(t, name, getString(x, "ratelimit.SA-1."+name), v)
	}
	if _, ok := x.Lookup("ratelimit.SA-1.failed"); ok {
		t.Error("ratelimit.SA-1.failed is set on a violation")
	}

	eff := mustBuild(t, `<SpikeArrest name="SA-2"><Rate>90pm</Rate><UseEffectiveCount>true</UseEffectiveCount></SpikeArrest>`, rlBC(clk, nil))
	for range 90 {
		_ = execute(t, eff, rlExchange(nil))
	}
	f = rlFaultOf(t, execute(t, eff, rlExchange(nil)))
	want(t, "FaultString", f.FaultString, "Spike arrest violation. Allowed rate : MessageRate{messagesPerPeriod=90, periodInMicroseconds=60000000, maxBurstMessageCount=90.0}")
}

func TestSpikeArrestRuntimeFaults(t *testing.T) {
	tests := []struct {
		name, xml string
		vars      map[string]string
		code      string
		text      string
	}{
		{"unresolved rate ref", `<SpikeArrest name="SA"><Rate ref="rate"/></SpikeArrest>`, nil,
			"policies.ratelimit.FailedToResolveSpikeArrestRate", "Failed to resolve Spike Arrest Rate reference rate in SpikeArrest policy SA"},
		{"invalid rate value", `<SpikeArrest name="SA"><Rate ref="rate"/></SpikeArrest>`, map[string]string{"rate": "10 per second"},
			"policies.ratelimit.FailedToResolveSpikeArrestRate", "Failed to resolve Spike Arrest Rate reference rate in SpikeArrest policy SA"},
		{"non-integer message weight", `<SpikeArrest name="SA"><Rate>10ps</Rate><MessageWeight ref="w"/></SpikeArrest>`, map[string]string{"w": "1.5"},
			"policies.ratelimit.InvalidMessageWeight", "Invalid message weight value 1.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pol := mustBuild(t, tt.xml, rlBC(newRLClock("2024-05-01T10:00:00Z"), nil))
			f := rlFaultOf(t, execute(t, pol, rlExchange(tt.vars)))
			if f.Code != tt.code || f.FaultString != tt.text || f.HTTPStatus() != 500 || f.Policy != "SA" {
				t.Errorf("fault = {%s %q %d %s}, want {%s %q 500 SA}", f.Code, f.FaultString, f.HTTPStatus(), f.Policy, tt.code, tt.text)
			}
		})
	}
}

// TestSpikeArrestFailsOpen: a store that cannot be reached admits the
// request and sets ratelimit.<name>.failed.
func TestSpikeArrestFailsOpen(t *testing.T) {
	pol := mustBuild(t, `<SpikeArrest name="SA"><Rate>1pm</Rate></SpikeArrest>`, rlBC(newRLClock("2024-05-01T10:00:00Z"), rlFailingStore{}))
	for i := range 3 {
		x := rlExchange(nil)
		if err := execute(t, pol, x); err != nil {
			t.Fatalf("request %d: Execute() = %v, want nil (fail open)", i, err)
		}
		want(t, "failed", getString(x, "ratelimit.SA.failed"), "true")
	}
}

func TestSpikeArrestExactUnderConcurrency(t *testing.T) {
	tests := []struct {
		xml  string
		want int64
	}{
		{`<SpikeArrest name="SA"><Rate>10ps</Rate></SpikeArrest>`, 1},
		{`<SpikeArrest name="SA"><Rate>10ps</Rate><UseEffectiveCount>true</UseEffectiveCount></SpikeArrest>`, 10},
	}
	for _, tt := range tests {
		t.Run(tt.xml, func(t *testing.T) {
			pol := mustBuild(t, tt.xml, rlBC(newRLClock("2024-05-01T10:00:00Z"), nil))
			if got := rlAdmitConcurrently(pol, 50); got != tt.want {
				t.Errorf("admitted %d of 50 at one instant, want %d", got, tt.want)
			}
		})
	}
}

func TestSpikeArrestBuildProblems(t *testing.T) {
	tests := []struct {
		name, xml, want string
		isError         bool
	}{
		{"no rate", `<SpikeArrest name="SA"/>`, `<SpikeArrest> needs a <Rate>`, true},
		{"bad rate", `<SpikeArrest name="SA"><Rate>10ph</Rate></SpikeArrest>`, `<Rate> "10ph" is not a rate such as 10ps or 30pm`, true},
		{"zero rate", `<SpikeArrest name="SA"><Rate>0ps</Rate></SpikeArrest>`, `<Rate> "0ps" is not a rate`, true},
		{"unknown element", `<SpikeArrest name="SA"><Rate>1ps</Rate><Burst/></SpikeArrest>`, `unknown element <Burst> in <SpikeArrest>, ignored`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pol, probs := buildXML(t, tt.xml, rlBC(newRLClock("2024-01-01T00:00:00Z"), nil))
			if !strings.Contains(probs.String(), tt.want) || probs.HasErrors() != tt.isError || (pol == nil) != tt.isError {
				t.Errorf("problems = %q (policy nil = %v), want %q (error %v)", probs.String(), pol == nil, tt.want, tt.isError)
			}
		})
	}
}

func TestParseSpikeRate(t *testing.T) {
	tests := []struct {
		in   string
		want SpikeRate
		ok   bool
	}{
		{"10ps", SpikeRate{10, 1e9}, true}, {" 30PM ", SpikeRate{30, 60e9}, true}, {"1pm", SpikeRate{1, 60e9}, true},
		{"ps", SpikeRate{}, false}, {"-1ps", SpikeRate{}, false}, {"1.5ps", SpikeRate{}, false}, {"10", SpikeRate{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseSpikeRate(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseSpikeRate(%q) = %v, %v, want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestRateLimitCorpusBuilds builds every Quota and SpikeArrest policy of
// the shared corpus: none may fail to build.
func TestRateLimitCorpusBuilds(t *testing.T) {
	root := filepath.Join("..", "..", "shared", "corpus")
	if _, err := os.Stat(root); err != nil {
		t.Skip("no corpus at " + root)
	}
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".xml") || !strings.Contains(filepath.ToSlash(path), "/policies/") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		src := string(b)
		if !strings.Contains(src, "<Quota") && !strings.Contains(src, "<SpikeArrest") {
			return nil
		}
		doc := etree.NewDocument()
		if doc.ReadFromString(src) != nil || (doc.Root().Tag != "Quota" && doc.Root().Tag != "SpikeArrest") {
			return nil
		}
		n++
		pol, probs := buildXML(t, src, rlBC(newRLClock("2024-01-01T00:00:00Z"), nil))
		if len(probs.List) > 0 {
			t.Logf("%s:\n%s", path, probs.String())
		}
		if pol == nil || probs.HasErrors() {
			t.Errorf("%s: build failed:\n%s", path, probs.String())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Error("found no Quota or SpikeArrest policy in the corpus")
	}
	t.Logf("built %d corpus policies", n)
}

// TestSpikeArrestRedis runs the concurrency check against Redis.
func TestSpikeArrestRedis(t *testing.T) {
	clk := newRLClock("2024-05-01T10:00:00Z")
	st := rlRedis(t, clk.Now)
	smooth := mustBuild(t, `<SpikeArrest name="SA"><Rate>10ps</Rate></SpikeArrest>`, rlBC(clk, st))
	burst := mustBuild(t, `<SpikeArrest name="SB"><Rate>10ps</Rate><UseEffectiveCount>true</UseEffectiveCount></SpikeArrest>`, rlBC(clk, st))
	if got := rlAdmitConcurrently(smooth, 30); got != 1 {
		t.Errorf("10ps: admitted %d of 30 at one instant, want 1", got)
	}
	if got := rlAdmitConcurrently(burst, 30); got != 10 {
		t.Errorf("10ps with UseEffectiveCount: admitted %d of 30 at one instant, want 10", got)
	}
	clk.Set(rlTime("2024-05-01T10:00:00.1Z"))
	if got := rlAdmitConcurrently(smooth, 30); got != 1 {
		t.Errorf("10ps, 100 ms later: admitted %d of 30, want 1", got)
	}
}
