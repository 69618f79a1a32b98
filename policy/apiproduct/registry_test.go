package apiproduct

import (
	"regexp"
	"testing"
	"time"

	"github.com/apigo/apigo/bundle"
)

func TestPatternMatch(t *testing.T) {
	cases := []struct {
		pattern, suffix string
		want            bool
	}{
		{"/", "", true},
		{"/", "/a/b/c", true},
		{"/**", "", true},
		{"/**", "/x/y", true},
		{"/*", "/a", true},
		{"/*", "/a/", true},
		{"/*", "/a/b", false},
		{"/*", "", false},
		{"/a/**", "/a/b", true},
		{"/a/**", "/a/b/c", true},
		{"/a/**", "/a", false},
		{"/a/**", "/b/c", false},
		{"/a/*", "/a/b", true},
		{"/a/*", "/a/b/c", false},
		{"/a", "/a", true},
		{"/a", "/a/", true},
		{"/a", "/a/b", false},
		{"/a/**/c", "/a/x/y/c", true},
		{"/a/**/c", "/a/c", false},
		{"/v1/item*", "/v1/items", true},
		{"/v1/item*", "/v1/other", false},
	}
	for _, c := range cases {
		t.Run(c.pattern+" "+c.suffix, func(t *testing.T) {
			if got := compilePattern(c.pattern).match(c.suffix); got != c.want {
				t.Errorf("match(%q, %q) = %v, want %v", c.pattern, c.suffix, got, c.want)
			}
		})
	}
}

func testData() *bundle.Data {
	return &bundle.Data{
		Products: []*bundle.Product{
			{Name: "weather", ApprovalType: "auto", Proxies: []string{"weather-v1"}, APIResources: []string{"/forecasts/**"},
				Environments: []string{"test"}, Quota: "100", QuotaInterval: "1", QuotaTimeUnit: "minute",
				Attributes: []bundle.Attribute{{Name: "access", Value: "public"}}},
			{Name: "manual", ApprovalType: "manual"},
			{Name: "ops", OperationGroup: &bundle.OperationGroup{OperationConfigType: "proxy", OperationConfigs: []bundle.OperationConfig{
				{APISource: "orders", Operations: []bundle.Operation{{Resource: "/orders/*", Methods: []string{"GET"}}},
					Quota: &bundle.OperationQuota{Limit: "5", Interval: "1", TimeUnit: "hour"}},
			}}},
		},
		Developers: []*bundle.Developer{{Email: "ada@example.com", FirstName: "Ada"}},
		Apps: []*bundle.DeveloperApp{
			{Name: "gen", DeveloperEmail: "ada@example.com", APIProducts: []string{"weather", "manual"}, Status: "approved"},
			{Name: "pinned", DeveloperEmail: "ADA@example.com", Status: "approved", Credentials: []*bundle.Credential{
				{ConsumerKey: "key-1", ConsumerSecret: "secret-1", Status: "approved", ExpiresAt: -1,
					APIProducts: []bundle.CredentialProduct{{APIProduct: "ops", Status: "approved"}, {APIProduct: "weather", Status: "revoked"}}},
				{ConsumerKey: "key-old", ConsumerSecret: "s", Status: "approved", ExpiresAt: 1000},
				{ConsumerKey: "key-revoked", ConsumerSecret: "s", Status: "revoked", ExpiresAt: -1},
			}},
			{Name: "stopped", DeveloperEmail: "ada@example.com", Status: "revoked", Credentials: []*bundle.Credential{
				{ConsumerKey: "key-stopped", Status: "approved", ExpiresAt: -1}}},
		},
	}
}

func TestGeneratedCredentials(t *testing.T) {
	d := testData()
	r := For(d)
	if For(d) != r {
		t.Fatal("For(d) built a second registry for the same data")
	}
	ls := r.Credentials()
	var gen *Listing
	for i := range ls {
		if ls[i].App == "gen" {
			gen = &ls[i]
		}
	}
	if gen == nil || !gen.Generated {
		t.Fatalf("Credentials() = %+v, want a generated credential for app gen", ls)
	}
	if !regexp.MustCompile(`^[A-Za-z0-9]{32}$`).MatchString(gen.ConsumerKey) || !regexp.MustCompile(`^[A-Za-z0-9]{16}$`).MatchString(gen.ConsumerSecret) {
		t.Errorf("generated key %q secret %q, want 32 and 16 alphanumerics", gen.ConsumerKey, gen.ConsumerSecret)
	}
	c, ok := r.Credential(gen.ConsumerKey)
	if !ok || c.App.Name != "gen" || c.App.Developer.FirstName != "Ada" {
		t.Fatalf("Credential(generated) = %+v, %v", c, ok)
	}
	if got := c.Products[1].Status; got != "pending" {
		t.Errorf("generated approval of a manual product = %q, want pending", got)
	}
	if New(d).Credentials()[0].ConsumerKey == gen.ConsumerKey {
		t.Error("a second New generated the same key")
	}
}

func TestCheck(t *testing.T) {
	r := New(testData())
	now := time.UnixMilli(5000)
	cases := []struct {
		key  string
		want error
	}{
		{"key-1", nil},
		{"key-old", ErrKeyExpired},
		{"key-revoked", ErrAppNotApproved},
		{"key-stopped", ErrAppNotApproved},
	}
	for _, c := range cases {
		t.Run(c.key, func(t *testing.T) {
			cred, ok := r.Credential(c.key)
			if !ok {
				t.Fatalf("Credential(%q) not found", c.key)
			}
			if got := cred.Check(now); got != c.want {
				t.Errorf("Check(%q) = %v, want %v", c.key, got, c.want)
			}
		})
	}
	cred, _ := r.Credential("key-1")
	cred.App.Developer.Status = "inactive"
	defer func() { cred.App.Developer.Status = "active" }()
	if got := cred.Check(now); got != ErrDeveloperInactive {
		t.Errorf("Check with an inactive developer = %v, want %v", got, ErrDeveloperInactive)
	}
}

func TestMatch(t *testing.T) {
	r := New(testData())
	weather := r.Product("weather")
	cases := []struct {
		name  string
		call  Call
		want  bool
		quota string
	}{
		{"covered", Call{Env: "test", Proxy: "weather-v1", PathSuffix: "/forecasts/paris"}, true, "100"},
		{"other env", Call{Env: "prod", Proxy: "weather-v1", PathSuffix: "/forecasts/paris"}, false, ""},
		{"other proxy", Call{Env: "test", Proxy: "other", PathSuffix: "/forecasts/paris"}, false, ""},
		{"other path", Call{Env: "test", Proxy: "weather-v1", PathSuffix: "/alerts"}, false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, ok := weather.Allows(c.call)
			if ok != c.want || (ok && m.Quota.Limit != c.quota) {
				t.Errorf("Allows(%+v) = %+v, %v, want %v with quota %q", c.call, m, ok, c.want, c.quota)
			}
		})
	}
	cred, _ := r.Credential("key-1")
	opsCases := []struct {
		call Call
		want bool
	}{
		{Call{Proxy: "orders", PathSuffix: "/orders/7", Verb: "GET"}, true},
		{Call{Proxy: "orders", PathSuffix: "/orders/7", Verb: "DELETE"}, false},
		{Call{Proxy: "orders", PathSuffix: "/orders", Verb: "GET"}, false},
		{Call{Proxy: "weather-v1", PathSuffix: "/forecasts/x", Env: "test", Verb: "GET"}, false}, // revoked approval
	}
	for _, c := range opsCases {
		m, ok := cred.Match(c.call)
		if ok != c.want {
			t.Errorf("Match(%+v) = %v, want %v", c.call, ok, c.want)
		}
		if ok && (m.Product.Name != "ops" || m.Quota.Limit != "5" || m.Quota.TimeUnit != "hour") {
			t.Errorf("Match(%+v) = %+v, want product ops with its operation quota", c.call, m)
		}
	}
}

func TestAuthenticate(t *testing.T) {
	r := New(testData())
	if _, err := r.Authenticate("key-1", "secret-1"); err != nil {
		t.Errorf("Authenticate(good) = %v", err)
	}
	if _, err := r.Authenticate("key-1", "nope"); err != ErrWrongSecret {
		t.Errorf("Authenticate(wrong secret) = %v, want %v", err, ErrWrongSecret)
	}
	if _, err := r.Authenticate("nokey", "x"); err != ErrUnknownKey {
		t.Errorf("Authenticate(unknown) = %v, want %v", err, ErrUnknownKey)
	}
}
