package exchange

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"testing"
	"time"
)

func TestReadOnlyVariables(t *testing.T) {
	readOnly := []string{
		"proxy.basepath", "proxy.pathsuffix", "proxy.url", "proxy.name", "proxy.client.ip",
		"apiproxy.name", "apiproxy.revision", "apiproxy.basepath", "environment.name",
		"organization.name", "messageid", "client.ip", "client.received.start.timestamp",
		"current.flow.name", "current.flow.description", "route.name", "route.target",
		"target.name", "target.basepath", "target.host", "target.port", "target.scheme",
		"target.sent.start.timestamp", "target.received.end.timestamp", "is.error",
		"fault.name", "fault.reason", "fault.category", "error.message", "error.state",
		"error.status.code", "system.timestamp", "system.uuid", "propertyset.set.key",
		"loadbalancing.targetserver",
	}
	for _, name := range readOnly {
		t.Run(name, func(t *testing.T) {
			x := New()
			err := x.Set(name, "v")
			var ro *ReadOnlyError
			if !errors.As(err, &ro) || ro.Name != name {
				t.Fatalf("Set(%q) = %v, want *ReadOnlyError{%q}", name, err, name)
			}
			var want any = "engine"
			if name == "error.status.code" { // a property of the error message
				want = 500
			}
			x.SetSystem(name, want)
			if got := x.Get(name); got != want {
				t.Errorf("after SetSystem(%q): Get = %#v, want %#v", name, got, want)
			}
		})
	}
	writable := []string{
		"target.url", "target.evaluated.url", "target.copy.pathsuffix", "target.copy.queryparams",
		"target.header.host", "target.expectedcn", "error.content", "error.header.X",
		"error.reason.phrase", "private.secret", "my.custom.var", "flow.x", "clientid", "targetX",
	}
	for _, name := range writable {
		t.Run(name, func(t *testing.T) {
			x := New()
			if err := x.Set(name, "v"); err != nil {
				t.Fatalf("Set(%q) = %v, want nil", name, err)
			}
			if got := x.Get(name); got != "v" {
				t.Errorf("after Set(%q): Get = %#v, want %q", name, got, "v")
			}
		})
	}
}

func TestTypedValues(t *testing.T) {
	x := fixture()
	x.SetSystem("proxy.pathsuffix", "/forecast")
	_ = x.Set("ratelimit.Q.allowed.count", int64(100))
	_ = x.Set("flag", true)
	_ = x.Set("ratio", 0.5)
	_ = x.Set("nothing", nil)
	tests := []struct {
		name string
		want any
	}{
		{"proxy.pathsuffix", "/forecast"},
		{"ratelimit.Q.allowed.count", int64(100)},
		{"flag", true},
		{"ratio", 0.5},
		{"response.status.code", 404},
		{"request.headers.count", 4},
		{"request.queryparam.a.values.count", 2},
	}
	for _, tt := range tests {
		got, ok := x.Lookup(tt.name)
		if !ok || got != tt.want {
			t.Errorf("Lookup(%q) = %#v (%T), want %#v (%T)", tt.name, got, got, tt.want, tt.want)
		}
	}
	if v, ok := x.Lookup("nothing"); !ok || v != nil {
		t.Errorf("Lookup(%q) = %#v, %v; want nil, true (set to null)", "nothing", v, ok)
	}
	if v, ok := x.Lookup("never.set"); ok || v != nil {
		t.Errorf("Lookup(%q) = %#v, %v; want nil, false", "never.set", v, ok)
	}
	if s, ok := x.GetString("ratelimit.Q.allowed.count"); !ok || s != "100" {
		t.Errorf("GetString(ratelimit.Q.allowed.count) = %q, %v", s, ok)
	}
	if s, ok := x.GetString("never.set"); ok || s != "" {
		t.Errorf("GetString(never.set) = %q, %v; want \"\", false", s, ok)
	}
}

func TestDottedTree(t *testing.T) {
	tests := []struct {
		dotted bool
		want   any // foo.bar after Set("foo", "x"), Set("foo.bar", "y")
		wantOK bool
	}{
		{true, nil, false},
		{false, "y", true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint("DottedTree=", tt.dotted), func(t *testing.T) {
			x := New()
			x.DottedTree = tt.dotted
			_ = x.Set("foo", "x")
			if err := x.Set("foo.bar", "y"); err != nil {
				t.Fatalf("Set(foo.bar) = %v, want a silent drop", err)
			}
			if got, ok := x.Lookup("foo.bar"); ok != tt.wantOK || got != tt.want {
				t.Errorf("Lookup(foo.bar) = %#v, %v; want %#v, %v", got, ok, tt.want, tt.wantOK)
			}
			_ = x.Set("foo.bar.baz", "z")
			if _, ok := x.Lookup("foo.bar.baz"); ok != tt.wantOK {
				t.Errorf("Lookup(foo.bar.baz) set=%v, want %v", ok, tt.wantOK)
			}
			if got := x.Get("foo"); got != "x" {
				t.Errorf("Get(foo) = %#v, want %q", got, "x")
			}
		})
	}
	// Children set first keep working when the parent gets a value, and
	// a message-valued prefix never blocks its properties.
	x := New()
	_ = x.Set("a.b", "1")
	_ = x.Set("a", "2")
	if x.Get("a.b") != "1" || x.Get("a") != "2" {
		t.Errorf("a.b = %#v, a = %#v; want both kept", x.Get("a.b"), x.Get("a"))
	}
	x.SetMessage("m", NewRequest())
	if err := x.Set("m.header.h", "v"); err != nil || x.Get("m.header.h") != "v" {
		t.Errorf("Set(m.header.h) on a message variable = %v, read %#v", err, x.Get("m.header.h"))
	}
}

func TestPropertySets(t *testing.T) {
	x := New()
	x.SetPropertySets(map[string]map[string]string{
		"backend": {"url": "http://b", "timeout.ms": "300"},
		"flags":   {"on": "true"},
	})
	tests := []struct {
		name string
		want any
	}{
		{"propertyset.backend.url", "http://b"},
		{"propertyset.backend.timeout.ms", "300"},
		{"propertyset.flags.on", "true"},
		{"propertyset.flags.off", nil},
		{"propertyset.nope.url", nil},
	}
	for _, tt := range tests {
		got, ok := x.Lookup(tt.name)
		if ok != (tt.want != nil) || got != tt.want {
			t.Errorf("Lookup(%q) = %#v, %v; want %#v", tt.name, got, ok, tt.want)
		}
	}
	var ro *ReadOnlyError
	if err := x.Set("propertyset.backend.url", "x"); !errors.As(err, &ro) {
		t.Errorf("Set(propertyset.backend.url) = %v, want *ReadOnlyError", err)
	}
}

func TestSystemVariables(t *testing.T) {
	at := time.Date(2013, time.August, 21, 19, 16, 47, 123e6, time.UTC)
	x := New()
	x.Now = func() time.Time { return at }
	tests := []struct {
		name string
		want any
	}{
		{"system.timestamp", at.UnixMilli()},
		{"system.time", "Wed, 21 Aug 2013 19:16:47 UTC"},
		{"system.time.year", 2013},
		{"system.time.month", 8},
		{"system.time.day", 21},
		{"system.time.dayofweek", 4}, // Wednesday, java.util.Calendar numbering
		{"system.time.hour", 19},
		{"system.time.minute", 16},
		{"system.time.second", 47},
		{"system.time.millisecond", 123},
		{"system.time.zone", "UTC"},
		{"system.region.name", "local"},
		{"system.nope", nil},
	}
	for _, tt := range tests {
		got, ok := x.Lookup(tt.name)
		if ok != (tt.want != nil) || got != tt.want {
			t.Errorf("Lookup(%q) = %#v (%T), want %#v (%T)", tt.name, got, got, tt.want, tt.want)
		}
	}
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	u1, _ := x.GetString("system.uuid")
	u2, _ := New().GetString("system.uuid")
	if !uuid.MatchString(u1) || u1 != u2 {
		t.Errorf("system.uuid = %q and %q, want one process-wide UUID", u1, u2)
	}
	if pod, ok := x.GetString("system.pod.name"); !ok || pod == "" {
		t.Errorf("system.pod.name = %q, %v", pod, ok)
	}
	x.SetSystem("system.region.name", "europe-west1")
	if got := x.Get("system.region.name"); got != "europe-west1" {
		t.Errorf("after SetSystem, system.region.name = %#v", got)
	}
	if ts, ok := New().Get("system.timestamp").(int64); !ok || math.Abs(float64(ts-time.Now().UnixMilli())) > 5000 {
		t.Errorf("system.timestamp on the real clock = %v", ts)
	}
}

func TestIsError(t *testing.T) {
	x := New()
	if v, ok := x.Lookup("is.error"); ok {
		t.Errorf("is.error before a fault = %#v, want unset", v)
	}
	x.IsErrorFalseBeforeFault = true
	if v, ok := x.Lookup("is.error"); !ok || v != false {
		t.Errorf("is.error with IsErrorFalseBeforeFault = %#v, %v; want false", v, ok)
	}
	x.SetSystem("is.error", true)
	if v := x.Get("is.error"); v != true {
		t.Errorf("is.error after SetSystem = %#v, want true", v)
	}
}

func TestBool(t *testing.T) {
	tests := []struct {
		value any
		def   bool
		want  bool
	}{
		{nil, true, true},
		{false, true, false},
		{true, false, true},
		{"false", true, false},
		{" FALSE ", true, false},
		{"True", false, true},
		{"maybe", true, true},
		{1, false, false},
	}
	for _, tt := range tests {
		x := New()
		if tt.value != nil {
			_ = x.Set("target.copy.pathsuffix", tt.value)
		}
		if got := x.Bool("target.copy.pathsuffix", tt.def); got != tt.want {
			t.Errorf("Bool(%#v, def %v) = %v, want %v", tt.value, tt.def, got, tt.want)
		}
	}
}

func TestExchangesAreIndependent(t *testing.T) {
	a, b := New(), New()
	_ = a.Set("v", "a")
	_ = a.Set("request.header.X", "a")
	a.SetSystem("proxy.pathsuffix", "/a")
	a.SetPropertySets(map[string]map[string]string{"s": {"k": "a"}})
	if _, ok := b.Lookup("v"); ok {
		t.Error("variable set on one exchange visible on another")
	}
	if _, ok := b.Lookup("request.header.X"); ok {
		t.Error("header set on one exchange visible on another")
	}
	if _, ok := b.Lookup("proxy.pathsuffix"); ok {
		t.Error("system variable of one exchange visible on another")
	}
	if _, ok := b.Lookup("propertyset.s.k"); ok {
		t.Error("property set of one exchange visible on another")
	}
}

func TestNames(t *testing.T) {
	x := New()
	_ = x.Set("z", 1)
	_ = x.Set("a.b", "x")
	x.SetSystem("proxy.pathsuffix", "/")
	x.SetMessage("myreq", NewRequest())
	_ = x.Set("request.header.h", "not a variable")
	want := []string{"a.b", "myreq", "proxy.pathsuffix", "z"}
	if got := x.Names(); !reflect.DeepEqual(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	if !IsPrivate("private.key") || IsPrivate("privatekey") {
		t.Error("IsPrivate misclassifies")
	}
}

type stringer struct{}

func (stringer) String() string { return "S" }

func TestFormat(t *testing.T) {
	m := NewResponse()
	m.Body = []byte("body")
	tests := []struct {
		v    any
		want string
	}{
		{nil, ""},
		{"s", "s"},
		{true, "true"},
		{false, "false"},
		{42, "42"},
		{-7, "-7"},
		{int64(1) << 40, "1099511627776"},
		{int32(5), "5"},
		{1.0, "1.0"},
		{2.5, "2.5"},
		{-0.25, "-0.25"},
		{0.0, "0.0"},
		{1e7, "1.0E7"},
		{12345678.9, "1.23456789E7"},
		{1e-4, "1.0E-4"},
		{0.001, "0.001"},
		{math.NaN(), "NaN"},
		{math.Inf(-1), "-Infinity"},
		{float32(0.1), "0.1"},
		{[]string{"a", "b"}, "[a, b]"},
		{[]string{}, "[]"},
		{[]byte("raw"), "raw"},
		{m, "body"},
		{(*Message)(nil), ""},
		{stringer{}, "S"},
		{errors.New("e"), "e"},
		{struct{ A int }{1}, "{1}"},
	}
	for _, tt := range tests {
		if got := Format(tt.v); got != tt.want {
			t.Errorf("Format(%#v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}
