package bundle

import (
	"reflect"
	"sort"
	"strings"
	"testing"
)

func TestLoadData(t *testing.T) {
	data, ps := LoadData([]string{"testdata/data"})
	if len(ps.List) != 0 {
		t.Fatalf("LoadData problems:\n%s", ps)
	}
	check := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", what, got, want)
		}
	}
	if len(data.Products) != 2 || len(data.Developers) != 1 || len(data.Apps) != 2 || len(data.KVMs) != 2 {
		t.Fatalf("LoadData = %d products, %d developers, %d apps, %d maps; want 2 1 2 2",
			len(data.Products), len(data.Developers), len(data.Apps), len(data.KVMs))
	}
	p := data.Products[0]
	check("product", []any{p.Name, p.DisplayName, p.ApprovalType, p.Quota, p.QuotaInterval, p.QuotaTimeUnit},
		[]any{"energy-trading", "Energy Trading", "auto", "100", "1", "minute"})
	check("product lists", [][]string{p.APIResources, p.Proxies, p.Scopes}, [][]string{{"/", "/**"}, {"TradingAPI-v1"}, {"read"}})
	check("product attributes", p.Attributes, []Attribute{{"access", "public"}})
	check("product Pos", p.Pos, Pos{"testdata/data/products.json", 2, 3})
	check("operationGroup", data.Products[1].OperationGroup, &OperationGroup{OperationConfigType: "proxy",
		OperationConfigs: []OperationConfig{{APISource: "orders",
			Operations: []Operation{{Resource: "/orders/*", Methods: []string{"GET", "POST"}}},
			Quota:      &OperationQuota{Limit: "10", Interval: "1", TimeUnit: "minute"},
			Attributes: []Attribute{{"tier", "gold"}}}}})
	check("default approvalType", data.Products[1].ApprovalType, "auto")

	d := data.Developers[0]
	check("developer", []string{d.Email, d.UserName, d.FirstName, d.LastName}, []string{"dev@example.com", "dev", "Dee", "Veloper"})

	a := data.Apps[0]
	check("app", []any{a.Name, a.DeveloperEmail, a.APIProducts, a.Status, len(a.Credentials)},
		[]any{"mobile-app", "dev@example.com", []string{"energy-trading"}, "approved", 0})
	cred := data.Apps[1].Credentials
	check("pinned credential", cred, []*Credential{{ConsumerKey: "key-123", ConsumerSecret: "secret-456", Status: "approved",
		APIProducts: []CredentialProduct{{"ops", "approved"}, {"energy-trading", "approved"}},
		Attributes:  []Attribute{}, IssuedAt: 1720589222691, ExpiresAt: -1}})

	foo, bar := data.KVMs[0], data.KVMs[1]
	check("object entries", []any{foo.Name, foo.Scope, foo.Environment, foo.Encrypted, names(foo.Entries)},
		[]any{"foo", "environment", "dev", false, []string{"success=value-from-kvm", "n=5"}})
	check("array entries", []any{bar.Name, bar.Scope, bar.APIProxy, bar.Encrypted, names(bar.Entries)},
		[]any{"bar", "apiproxy", "orders", true, []string{"a=1", "b=true"}})
	check("entry Pos", foo.Entries[1].Pos, Pos{"testdata/data/maps.json", 3, 52})
}

func names(entries []KVMEntry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.Name+"="+e.Value)
	}
	return out
}

func TestLoadDataSingleFile(t *testing.T) {
	data, ps := LoadData([]string{"testdata/data/maps.json"})
	if len(ps.List) != 0 || len(data.KVMs) != 2 || len(data.Products) != 0 {
		t.Errorf("LoadData(maps.json) = %d maps, %d products, problems %s; want 2, 0, none", len(data.KVMs), len(data.Products), ps)
	}
}

func TestLoadDataProblems(t *testing.T) {
	_, ps := LoadData([]string{"testdata/data-bad", "testdata/data-malformed", "testdata/data/simple.txt", "testdata/data-bad/notes.json"})
	want := []string{
		"testdata/data-bad/notes.json:1:1: unknown test data file (want products.json, developers.json, developerapps.json or maps.json)",
		`testdata/data-bad/developerapps.json:1:3: developer app "a" has a credential without a consumerKey`,
		`testdata/data-bad/developerapps.json:1:3: developer app "a" has no developerEmail`,
		`testdata/data-bad/developerapps.json:2:3: developer app "b" names unknown developer "nobody@x"`,
		"testdata/data-bad/developers.json:2:3: developer has no email",
		`testdata/data-bad/maps.json:1:3: key value map "m" has unknown scope "galaxy" (want organization, environment or apiproxy)`,
		"testdata/data-bad/products.json:2:3: API product has no name",
		`testdata/data-bad/products.json:3:3: bad API product: want a list of strings, got { "x": 1 }`,
		"testdata/data-malformed/maps.json:1:1: maps.json must hold a list",
		"testdata/data-malformed/products.json:1:18: malformed JSON: invalid character '}' looking for beginning of object key string",
		"testdata/data/simple.txt: cannot read: no such file or directory",
	}
	got := strings.Split(strings.TrimSpace(ps.String()), "\n")
	if !reflect.DeepEqual(sortedCopy(got), sortedCopy(want)) {
		t.Errorf("LoadData problems =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func TestParseProperties(t *testing.T) {
	cases := []struct {
		in   string
		want map[string]string
	}{
		{"a=1\nb = 2\nc:3\nd 4\n", map[string]string{"a": "1", "b": "2", "c": "3", "d": "4"}},
		{"# c\n! c\n\n  x = y  ", map[string]string{"x": "y  "}},
		{"k = a\\\n    b\\\n  c", map[string]string{"k": "abc"}},
		{"k = a\\\\\nz=1", map[string]string{"k": `a\`, "z": "1"}},
		{`a\=b = c\:d`, map[string]string{"a=b": "c:d"}},
		{"u=\\u0041\\n", map[string]string{"u": "A\n"}},
		{"dup=1\r\ndup=2\r\n", map[string]string{"dup": "2"}},
		{"# comment \\\nnext=1", map[string]string{"next": "1"}},
		{"k==v", map[string]string{"k": "=v"}},
	}
	for _, c := range cases {
		if got := parseProperties([]byte(c.in)); !reflect.DeepEqual(got, c.want) {
			t.Errorf("parseProperties(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestLoadDataUnknownProduct(t *testing.T) {
	_, ps := LoadData([]string{"testdata/data/products.json", "testdata/data-bad/developerapps.json"})
	want := `testdata/data-bad/developerapps.json:1:3: developer app "a" has a credential without a consumerKey
testdata/data-bad/developerapps.json:1:3: developer app "a" has no developerEmail
testdata/data-bad/developerapps.json:2:3: developer app "b" names unknown API product "p"
testdata/data-bad/developerapps.json:2:3: developer app "b" names unknown API product "q"
`
	if got := ps.String(); got != want {
		t.Errorf("LoadData problems =\n%swant\n%s", got, want)
	}
}
