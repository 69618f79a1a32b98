package bundle

import (
	"archive/zip"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// zipDir writes dir (with dir's own name as the top folder when nested) to
// a zip in t.TempDir.
func zipDir(t *testing.T, dir, prefix string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(dir)+".zip")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		w, err := zw.Create(filepath.ToSlash(filepath.Join(prefix, rel)))
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLoadFolderForms(t *testing.T) {
	zipped := zipDir(t, "testdata/simple", "")
	nested := zipDir(t, "testdata/simple", "simple")
	cases := []struct {
		name, path, base, endpointFile string
	}{
		{"parent of apiproxy", "testdata/simple", "testdata/simple/apiproxy", "testdata/simple/apiproxy/proxies/default.xml"},
		{"apiproxy itself", "testdata/simple/apiproxy", "testdata/simple/apiproxy", "testdata/simple/apiproxy/proxies/default.xml"},
		{"zip", zipped, filepath.ToSlash(zipped) + "!apiproxy", filepath.ToSlash(zipped) + "!apiproxy/proxies/default.xml"},
		{"zip of folder", nested, filepath.ToSlash(nested) + "!simple/apiproxy", filepath.ToSlash(nested) + "!simple/apiproxy/proxies/default.xml"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			set, ps := Load([]string{c.path}, Options{})
			if len(ps.List) != 0 {
				t.Fatalf("Load(%q) problems:\n%s", c.path, ps)
			}
			if len(set.Proxies) != 1 {
				t.Fatalf("Load(%q) = %d proxies, want 1", c.path, len(set.Proxies))
			}
			b := set.Proxies[0]
			if b.Name != "simple" || b.Revision != "7" || b.Base != c.base {
				t.Errorf("bundle = {Name %q, Revision %q, Base %q}, want {simple, 7, %q}", b.Name, b.Revision, b.Base, c.base)
			}
			if got := b.ProxyEndpoints[0].File; got != c.endpointFile {
				t.Errorf("endpoint File = %q, want %q", got, c.endpointFile)
			}
			if set.Env == nil || set.Env.Name != "" {
				t.Errorf("Env = %+v, want an empty environment named \"\"", set.Env)
			}
		})
	}
}

func loadOne(t *testing.T, path string) *Bundle {
	t.Helper()
	set, ps := Load([]string{path}, Options{})
	if ps.HasErrors() || len(set.Proxies)+len(set.SharedFlows) != 1 {
		t.Fatalf("Load(%q): %d bundles, problems:\n%s", path, len(set.Proxies)+len(set.SharedFlows), ps)
	}
	if len(set.Proxies) == 1 {
		return set.Proxies[0]
	}
	return set.SharedFlows[0]
}

func TestLoadProxyModel(t *testing.T) {
	b := loadOne(t, "testdata/simple")
	pe := b.ProxyEndpoints[0]
	check := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", what, got, want)
		}
	}
	check("BasePath", pe.BasePath, "/simple/v1")
	check("VirtualHosts", pe.VirtualHosts, []string{"default", "secure"})
	check("Description", pe.Description, "main endpoint")
	check("Properties", []string{pe.Properties[0].Name, pe.Properties[0].Value}, []string{"allow.http10", "true"})
	var rules [][2]string
	for _, rr := range pe.RouteRules {
		rules = append(rules, [2]string{rr.Name, rr.TargetEndpoint})
	}
	check("RouteRules", rules, [][2]string{{"local", "local"}, {"none", ""}, {"default", "default"}})
	check("RouteRules[2].Condition", pe.RouteRules[2].Condition, (*Condition)(nil))
	check("PreFlow step", pe.PreFlow.Request[0].Name, "verify.key")
	check("PreFlow step condition", pe.PreFlow.Request[0].Condition.Text, `request.header.x-skip != "true"`)
	check("PreFlow.Response", len(pe.PreFlow.Response), 0)
	check("PostFlow non-nil", pe.PostFlow != nil && len(pe.PostFlow.Request) == 0, true)
	check("PostClientFlow", pe.PostClientFlow.Response[0].Name, "AM.Fault")
	var flows []string
	for _, f := range pe.Flows {
		flows = append(flows, f.Name)
	}
	check("Flows", flows, []string{"get-items", "escaped", "blank"})
	check("Flow description", pe.Flows[0].Description, "list items")
	check("blank condition", pe.Flows[2].Condition, (*Condition)(nil))
	check("escaped condition", pe.Flows[1].Condition.Text, `a = "x" && b != "<y>"`)
	check("FaultRule", []string{pe.FaultRules[0].Name, pe.FaultRules[0].Condition.Text, pe.FaultRules[0].Steps[0].Name},
		[]string{"invalid-key", `fault.name = "InvalidApiKey"`, "AM.Fault"})
	check("DefaultFaultRule", []any{pe.DefaultFaultRule.Name, pe.DefaultFaultRule.AlwaysEnforce, pe.DefaultFaultRule.Steps[0].Name},
		[]any{"all", true, "AM.Fault"})

	var targets []string
	for _, te := range b.TargetEndpoints {
		targets = append(targets, te.Name)
	}
	check("TargetEndpoints", targets, []string{"default", "local"})
	def, local := b.TargetEndpoints[0], b.TargetEndpoints[1]
	check("URL", def.HTTP.URL, "https://backend.example.com/api")
	check("SSLInfo element", def.HTTP.SSLInfo != nil && def.HTTP.SSLInfo.Tag == "SSLInfo", true)
	check("target Properties", []string{def.HTTP.Properties[0].Name, def.HTTP.Properties[0].Value}, []string{"io.timeout.millis", "30000"})
	check("target Element", def.Element != nil && def.Element.Tag == "TargetEndpoint" && def.Doc != nil, true)
	check("Local", *local.Local, LocalTargetConnection{APIProxy: "other", ProxyEndpoint: "default", Pos: local.Local.Pos})
	check("Local HTTP", local.HTTP, (*HTTPTargetConnection)(nil))
}

func TestLoadPolicies(t *testing.T) {
	b := loadOne(t, "testdata/simple")
	cases := []struct {
		name, typ, display string
		enabled, coe       bool
	}{
		{"verify.key", "VerifyAPIKey", "Verify Key", true, true},
		{"AM.Fault", "AssignMessage", "", false, false},
		{"JS-Set", "Javascript", "", true, false},
	}
	if len(b.Policies) != len(cases) {
		t.Errorf("len(Policies) = %d, want %d", len(b.Policies), len(cases))
	}
	for _, c := range cases {
		p := b.Policies[c.name]
		if p == nil {
			t.Errorf("Policies[%q] missing", c.name)
			continue
		}
		if p.Type != c.typ || p.DisplayName != c.display || p.Enabled != c.enabled || p.ContinueOnError != c.coe {
			t.Errorf("Policies[%q] = {%s %q enabled=%v coe=%v}, want {%s %q %v %v}",
				c.name, p.Type, p.DisplayName, p.Enabled, p.ContinueOnError, c.typ, c.display, c.enabled, c.coe)
		}
		if p.Element == nil || p.Doc.Pos(p.Element) != p.Pos || p.Pos.Line != 1 {
			t.Errorf("Policies[%q] Pos = %v, Element position %v", c.name, p.Pos, p.Doc.Pos(p.Element))
		}
	}
}

func TestLoadResources(t *testing.T) {
	b := loadOne(t, "testdata/simple")
	for _, key := range []string{"jsc://set.js", "oas://spec.yaml", "properties://cfg.properties"} {
		if len(b.Resources[key]) == 0 {
			t.Errorf("Resources[%q] is empty", key)
		}
	}
	want := map[string]string{
		"host": "api.example.com", "port": "8443", "empty": "", "spaced key": "spaced value",
		"long": "one, two, three", "unicode": "café", "tab": "a\tb",
	}
	if got := b.PropertySets["cfg"]; !reflect.DeepEqual(got, want) {
		t.Errorf("PropertySets[cfg] = %q, want %q", got, want)
	}
}

func TestLoadSharedFlow(t *testing.T) {
	b := loadOne(t, "testdata/workspace/src/main/apigee/sharedflows/common")
	if b.Kind != KindSharedFlow || b.Name != "common" {
		t.Fatalf("bundle = {Kind %v, Name %q}, want shared flow common", b.Kind, b.Name)
	}
	if len(b.SharedFlows) != 1 || b.SharedFlows[0].Name != "default" {
		t.Fatalf("SharedFlows = %+v, want one named default", b.SharedFlows)
	}
	s := b.SharedFlows[0].Steps[0]
	if s.Name != "AM-Common" || s.Condition == nil || s.Condition.Text != `request.verb = "POST"` {
		t.Errorf("step = {%q %+v}, want AM-Common with a condition", s.Name, s.Condition)
	}
	if got := s.Condition.Pos; got.Line != 4 || got.Col != 16 {
		t.Errorf("condition Pos = %v, want line 4 col 16", got)
	}
}
