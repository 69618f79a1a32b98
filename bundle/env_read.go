package bundle

import (
	"encoding/json"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// hookPoints are the flow hook points an environment may attach to.
var hookPoints = []string{"PreProxyFlowHook", "PreTargetFlowHook", "PostTargetFlowHook", "PostProxyFlowHook"}

// deploymentEntries keeps where each name of deployments.json was written.
type deploymentEntries struct {
	proxies, sharedFlows map[string]Pos
}

// readEnvironment reads environments/<name>/ of a workspace.
func readEnvironment(s source, dir, name string, ps *Problems) (*Environment, *deploymentEntries) {
	env := &Environment{Name: name, Dir: s.display(dir), Files: map[string][]byte{},
		TargetServers: map[string]*TargetServer{}, FlowHooks: map[string]*FlowHook{}}
	entries, err := fs.ReadDir(s.fsys, dir)
	if err != nil {
		ps.Errorf(s.filePos(dir), "cannot read: %v", err)
		return env, nil
	}
	var dep *deploymentEntries
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		rel := path.Join(dir, e.Name())
		data, err := fs.ReadFile(s.fsys, rel)
		if err != nil {
			ps.Errorf(s.filePos(rel), "cannot read: %v", err)
			continue
		}
		env.Files[e.Name()] = data
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		j := newJSONFile(s.display(rel), data, ps)
		switch strings.ToLower(e.Name()) {
		case "deployments.json":
			env.Deployments, dep = readDeployments(j)
		case "targetservers.json":
			readTargetServers(j, env)
		case "flowhooks.json":
			readFlowHooks(j, env)
		}
	}
	return env, dep
}

// readDeployments reads {"proxies": [...], "sharedflows": [...]}, entries
// as names or {name, serviceAccount} objects.
func readDeployments(j *jsonFile) (*Deployments, *deploymentEntries) {
	d := &Deployments{}
	dep := &deploymentEntries{proxies: map[string]Pos{}, sharedFlows: map[string]Pos{}}
	if !j.check() {
		return d, dep
	}
	ok := j.object(0, len(j.src), func(key string, raw []byte, off int) {
		var list *[]string
		var seen map[string]Pos
		switch strings.ToLower(key) {
		case "proxies", "apiproxies":
			list, seen = &d.Proxies, dep.proxies
		case "sharedflows":
			list, seen = &d.SharedFlows, dep.sharedFlows
		default:
			return
		}
		if !j.array(off, len(j.src), func(raw []byte, off int) {
			name := deploymentName(j, raw, off)
			if name == "" {
				return
			}
			if _, dup := seen[name]; !dup {
				*list = append(*list, name)
				seen[name] = j.pos(off)
			}
		}) {
			j.ps.Errorf(j.pos(off), "%q must be a list", key)
		}
	})
	if !ok {
		j.ps.Errorf(j.pos(j.valueStart(0)), "deployments.json must hold an object")
	}
	return d, dep
}

func deploymentName(j *jsonFile, raw []byte, off int) string {
	var name flexString
	if json.Unmarshal(raw, &name) == nil && name != "" {
		return string(name)
	}
	var obj struct {
		Name flexString `json:"name"`
	}
	if json.Unmarshal(raw, &obj) != nil || obj.Name == "" {
		j.ps.Errorf(j.pos(off), "deployment entry must be a name or an object with a name")
		return ""
	}
	return string(obj.Name)
}

type tlsJSON struct {
	Enabled                flexBool    `json:"enabled"`
	Enforce                flexBool    `json:"enforce"`
	ClientAuthEnabled      flexBool    `json:"clientAuthEnabled"`
	KeyStore               flexString  `json:"keyStore"`
	KeyAlias               flexString  `json:"keyAlias"`
	TrustStore             flexString  `json:"trustStore"`
	IgnoreValidationErrors flexBool    `json:"ignoreValidationErrors"`
	Protocols              flexStrings `json:"protocols"`
	Ciphers                flexStrings `json:"ciphers"`
	CommonName             commonName  `json:"commonName"`
}

// commonName is {"value": "...", "wildcardMatch": true} or a bare string.
type commonName struct {
	Value         flexString `json:"value"`
	WildcardMatch flexBool   `json:"wildcardMatch"`
}

func (c *commonName) UnmarshalJSON(b []byte) error {
	if json.Unmarshal(b, &c.Value) == nil {
		return nil
	}
	type plain commonName
	return json.Unmarshal(b, (*plain)(c))
}

type targetServerJSON struct {
	Name        flexString `json:"name"`
	Host        flexString `json:"host"`
	Port        flexInt    `json:"port"`
	IsEnabled   flexBool   `json:"isEnabled"`
	Enabled     flexBool   `json:"enabled"`
	Protocol    flexString `json:"protocol"`
	Description flexString `json:"description"`
	// Matching is case-insensitive, so this also reads "sslInfo".
	SSLInfo *tlsJSON `json:"sSLInfo"`
}

func readTargetServers(j *jsonFile, env *Environment) {
	if !j.check() {
		return
	}
	ok := j.array(0, len(j.src), func(raw []byte, off int) {
		var t targetServerJSON
		if !j.decode(raw, off, "target server", &t) {
			return
		}
		ts := &TargetServer{Name: string(t.Name), Host: string(t.Host), Port: int(t.Port),
			IsEnabled: t.IsEnabled.or(t.Enabled.or(true)), Protocol: string(t.Protocol),
			Description: string(t.Description), SSLInfo: t.SSLInfo.model(), Pos: j.pos(off)}
		switch {
		case ts.Name == "":
			j.ps.Errorf(ts.Pos, "target server has no name")
		case ts.Host == "":
			j.ps.Errorf(ts.Pos, "target server %q has no host", ts.Name)
		case ts.Port <= 0 || ts.Port > 65535:
			j.ps.Errorf(ts.Pos, "target server %q has no valid port", ts.Name)
		case env.TargetServers[ts.Name] != nil:
			j.ps.Errorf(ts.Pos, "duplicate target server %q (also at %s)", ts.Name, env.TargetServers[ts.Name].Pos)
		default:
			env.TargetServers[ts.Name] = ts
		}
	})
	if !ok {
		j.ps.Errorf(j.pos(j.valueStart(0)), "targetservers.json must hold a list")
	}
}

func (t *tlsJSON) model() *TLSInfo {
	if t == nil {
		return nil
	}
	return &TLSInfo{Enabled: t.Enabled.V, Enforce: t.Enforce.V, ClientAuthEnabled: t.ClientAuthEnabled.V,
		KeyStore: string(t.KeyStore), KeyAlias: string(t.KeyAlias), TrustStore: string(t.TrustStore),
		IgnoreValidationErrors: t.IgnoreValidationErrors.V, Protocols: t.Protocols, Ciphers: t.Ciphers,
		CommonName: string(t.CommonName.Value), WildcardMatch: t.CommonName.WildcardMatch.V}
}

type flowHookJSON struct {
	FlowHookPoint   flexString `json:"flowHookPoint"`
	SharedFlow      flexString `json:"sharedFlow"`
	ContinueOnError flexBool   `json:"continueOnError"`
}

// readFlowHooks reads the keyed object shape, the REST array shape, or a
// bare shared flow name as a keyed value.
func readFlowHooks(j *jsonFile, env *Environment) {
	if !j.check() {
		return
	}
	add := func(point string, h flowHookJSON, off int) {
		fh := &FlowHook{Point: point, SharedFlow: string(h.SharedFlow), ContinueOnError: h.ContinueOnError.or(true), Pos: j.pos(off)}
		switch {
		case !contains(hookPoints, point):
			j.ps.Errorf(fh.Pos, "unknown flow hook point %q (want one of %s)", point, strings.Join(hookPoints, ", "))
		case fh.SharedFlow == "":
		case env.FlowHooks[point] != nil:
			j.ps.Errorf(fh.Pos, "flow hook %s is attached twice", point)
		default:
			env.FlowHooks[point] = fh
		}
	}
	isObj := j.object(0, len(j.src), func(key string, raw []byte, off int) {
		var h flowHookJSON
		if json.Unmarshal(raw, &h.SharedFlow) != nil && !j.decode(raw, off, "flow hook", &h) {
			return
		}
		add(key, h, off)
	})
	isList := !isObj && j.array(0, len(j.src), func(raw []byte, off int) {
		var h flowHookJSON
		if j.decode(raw, off, "flow hook", &h) {
			add(string(h.FlowHookPoint), h, off)
		}
	})
	if !isObj && !isList {
		j.ps.Errorf(j.pos(j.valueStart(0)), "flowhooks.json must hold an object or a list")
	}
}

// envNames lists the environment folders of a workspace, sorted.
func envNames(s source, dir string) []string {
	entries, _ := fs.ReadDir(s.fsys, dir)
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}
