package bundle

import (
	"reflect"
	"sort"
	"testing"
)

func bundleNames(list []*Bundle) []string {
	out := []string{}
	for _, b := range list {
		out = append(out, b.Name)
	}
	sort.Strings(out)
	return out
}

func TestLoadWorkspace(t *testing.T) {
	cases := []struct {
		name, path, env string
		proxies, flows  []string
		deployments     *Deployments
		servers         map[string]TargetServer
		hooks           map[string]FlowHook
	}{
		{
			name: "dev object entries, isEnabled, sSLInfo, keyed hooks", path: "testdata/workspace", env: "dev",
			proxies: []string{"alpha", "beta"}, flows: []string{"common"},
			deployments: &Deployments{Proxies: []string{"alpha", "beta"}, SharedFlows: []string{"common"}},
			servers: map[string]TargetServer{
				"backend": {Name: "backend", Host: "localhost", Port: 8080, IsEnabled: true, Protocol: "HTTP"},
				"secure": {Name: "secure", Host: "secure.example.com", Port: 443, IsEnabled: false, SSLInfo: &TLSInfo{
					Enabled: true, ClientAuthEnabled: true, TrustStore: "ts1", Protocols: []string{"TLSv1.2"},
					CommonName: "*.example.com", WildcardMatch: true}},
			},
			hooks: map[string]FlowHook{
				"PreProxyFlowHook":  {Point: "PreProxyFlowHook", SharedFlow: "common", ContinueOnError: false},
				"PostProxyFlowHook": {Point: "PostProxyFlowHook", SharedFlow: "common", ContinueOnError: true},
			},
		},
		{
			name: "test filters, sharedFlows, enabled, sslInfo, REST hooks", path: "testdata/workspace/src/main/apigee", env: "test",
			proxies: []string{"alpha"}, flows: []string{"common"},
			deployments: &Deployments{Proxies: []string{"alpha"}, SharedFlows: []string{"common"}},
			servers: map[string]TargetServer{
				"backend": {Name: "backend", Host: "test.example.com", Port: 80, IsEnabled: false,
					SSLInfo: &TLSInfo{Enabled: true, Enforce: true, CommonName: "test.example.com"}},
			},
			hooks: map[string]FlowHook{
				"PostTargetFlowHook": {Point: "PostTargetFlowHook", SharedFlow: "common", ContinueOnError: true},
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			set, ps := Load([]string{c.path}, Options{Env: c.env})
			if len(ps.List) != 0 {
				t.Fatalf("Load(%q, %q) problems:\n%s", c.path, c.env, ps)
			}
			if got := bundleNames(set.Proxies); !reflect.DeepEqual(got, c.proxies) {
				t.Errorf("proxies = %q, want %q", got, c.proxies)
			}
			if got := bundleNames(set.SharedFlows); !reflect.DeepEqual(got, c.flows) {
				t.Errorf("shared flows = %q, want %q", got, c.flows)
			}
			env := set.Env
			if env.Name != c.env {
				t.Errorf("Env.Name = %q, want %q", env.Name, c.env)
			}
			if !reflect.DeepEqual(env.Deployments, c.deployments) {
				t.Errorf("Deployments = %+v, want %+v", env.Deployments, c.deployments)
			}
			if len(env.TargetServers) != len(c.servers) {
				t.Errorf("len(TargetServers) = %d, want %d", len(env.TargetServers), len(c.servers))
			}
			for name, want := range c.servers {
				got := env.TargetServers[name]
				if got == nil || got.Pos.Line == 0 {
					t.Errorf("TargetServers[%q] = %+v, want a positioned entry", name, got)
					continue
				}
				want.Pos = got.Pos
				if !reflect.DeepEqual(*got, want) {
					t.Errorf("TargetServers[%q] = %+v, want %+v", name, *got, want)
				}
			}
			if len(env.FlowHooks) != len(c.hooks) {
				t.Errorf("len(FlowHooks) = %d, want %d", len(env.FlowHooks), len(c.hooks))
			}
			for point, want := range c.hooks {
				got := env.FlowHooks[point]
				if got == nil {
					t.Errorf("FlowHooks[%q] missing", point)
					continue
				}
				want.Pos = got.Pos
				if *got != want {
					t.Errorf("FlowHooks[%q] = %+v, want %+v", point, *got, want)
				}
			}
		})
	}
}

func TestWorkspaceKeepsEnvFiles(t *testing.T) {
	set, _ := Load([]string{"testdata/workspace"}, Options{Env: "dev"})
	if len(set.Env.Files["kvms.json"]) == 0 {
		t.Errorf("Env.Files[kvms.json] is empty; files: %v", len(set.Env.Files))
	}
	if want := "testdata/workspace/src/main/apigee/environments/dev"; set.Env.Dir != want {
		t.Errorf("Env.Dir = %q, want %q", set.Env.Dir, want)
	}
}

func TestTargetServerPositions(t *testing.T) {
	set, _ := Load([]string{"testdata/workspace"}, Options{Env: "dev"})
	file := "testdata/workspace/src/main/apigee/environments/dev/targetservers.json"
	for name, want := range map[string]Pos{"backend": {file, 2, 3}, "secure": {file, 9, 3}} {
		if got := set.Env.TargetServers[name].Pos; got != want {
			t.Errorf("TargetServers[%q].Pos = %v, want %v", name, got, want)
		}
	}
}

func TestWorkspaceEnvOnlyBundles(t *testing.T) {
	// No workspace: the environment is empty and takes the --env name.
	set, ps := Load([]string{"testdata/simple"}, Options{Env: "prod"})
	if len(ps.List) != 0 || set.Env.Name != "prod" || set.Env.Deployments != nil {
		t.Errorf("Env = %+v, problems %s; want an empty env named prod", set.Env, ps)
	}
}

func TestLoadWorkspaceZip(t *testing.T) {
	zipped := zipDir(t, "testdata/workspace", "")
	set, ps := Load([]string{zipped}, Options{Env: "test"})
	if len(ps.List) != 0 {
		t.Fatalf("Load(zip) problems:\n%s", ps)
	}
	if got := bundleNames(set.Proxies); !reflect.DeepEqual(got, []string{"alpha"}) {
		t.Errorf("proxies = %q, want [alpha]", got)
	}
	want := zipped + "!src/main/apigee/environments/test/targetservers.json"
	if got := set.Env.TargetServers["backend"].Pos; got.File != want || got.Line != 1 {
		t.Errorf("target server Pos = %v, want %s:1", got, want)
	}
}
