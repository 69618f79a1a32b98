package bundle

import "strings"

// checkBundle reports references the bundle cannot satisfy: steps naming
// missing policies and RouteRules naming missing TargetEndpoints.
func checkBundle(b *Bundle, ps *Problems) {
	targets := map[string]bool{}
	for _, te := range b.TargetEndpoints {
		targets[te.Name] = true
		checkEndpointSteps(b, &te.Endpoint, ps)
	}
	for _, pe := range b.ProxyEndpoints {
		checkEndpointSteps(b, &pe.Endpoint, ps)
		if pe.PostClientFlow != nil {
			checkSteps(b, pe.PostClientFlow.Response, ps)
			checkSteps(b, pe.PostClientFlow.Request, ps)
		}
		for _, rr := range pe.RouteRules {
			if rr.TargetEndpoint != "" && !targets[rr.TargetEndpoint] {
				ps.Errorf(rr.Pos, "RouteRule %q names missing TargetEndpoint %q", rr.Name, rr.TargetEndpoint)
			}
		}
	}
	for _, sf := range b.SharedFlows {
		checkSteps(b, sf.Steps, ps)
	}
}

func checkEndpointSteps(b *Bundle, ep *Endpoint, ps *Problems) {
	flows := append([]*Flow{ep.PreFlow}, ep.Flows...)
	for _, f := range append(flows, ep.PostFlow) {
		checkSteps(b, f.Request, ps)
		checkSteps(b, f.Response, ps)
	}
	for _, fr := range ep.FaultRules {
		checkSteps(b, fr.Steps, ps)
	}
	if ep.DefaultFaultRule != nil {
		checkSteps(b, ep.DefaultFaultRule.Steps, ps)
	}
}

func checkSteps(b *Bundle, steps []*Step, ps *Problems) {
	for _, s := range steps {
		if s.Name != "" && b.Policies[s.Name] == nil {
			ps.Errorf(s.Pos, "step names missing policy %q", s.Name)
		}
	}
}

// checkSet reports what clashes between deployed bundles: duplicate bundle
// names, two ProxyEndpoints with the same BasePath, and flow hooks naming
// shared flows that are not deployed.
func checkSet(set *Set, ps *Problems) {
	set.Proxies = dropDuplicateBundles(set.Proxies, "proxy", ps)
	set.SharedFlows = dropDuplicateBundles(set.SharedFlows, "shared flow", ps)
	type owner struct {
		b  *Bundle
		pe *ProxyEndpoint
	}
	seen := map[string]owner{}
	for _, b := range set.Proxies {
		for _, pe := range b.ProxyEndpoints {
			key := normalizeBasePath(pe.BasePath)
			if o, dup := seen[key]; dup {
				ps.Errorf(pe.BasePathPos, "BasePath %q is already used by proxy %q ProxyEndpoint %q (%s)",
					pe.BasePath, o.b.Name, o.pe.Name, o.pe.BasePathPos)
				continue
			}
			seen[key] = owner{b, pe}
		}
	}
	flows := map[string]bool{}
	for _, b := range set.SharedFlows {
		flows[b.Name] = true
	}
	for _, point := range hookPoints {
		if h := set.Env.FlowHooks[point]; h != nil && !flows[h.SharedFlow] {
			ps.Errorf(h.Pos, "flow hook %s names shared flow %q, which is not deployed", point, h.SharedFlow)
		}
	}
}

// normalizeBasePath makes "/a/" and "/a" the same base path.
func normalizeBasePath(p string) string {
	p = strings.TrimRight(p, "/")
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return p
}

func dropDuplicateBundles(list []*Bundle, what string, ps *Problems) []*Bundle {
	seen := map[string]*Bundle{}
	out := list[:0]
	for _, b := range list {
		if old := seen[b.Name]; old != nil {
			ps.Errorf(bundlePos(b), "duplicate %s name %q (also %s)", what, b.Name, old.Base)
			continue
		}
		seen[b.Name] = b
		out = append(out, b)
	}
	return out
}

// bundlePos is where problems about a whole bundle point: its first
// endpoint or shared flow file, else its folder.
func bundlePos(b *Bundle) Pos {
	switch {
	case len(b.ProxyEndpoints) > 0:
		return b.ProxyEndpoints[0].Pos
	case len(b.SharedFlows) > 0:
		return b.SharedFlows[0].Pos
	}
	return Pos{File: b.Base}
}

// bundleFilePos is the manifest's position, else the bundle folder's.
func bundleFilePos(b *Bundle) Pos {
	if b.manifest.Line > 0 {
		return b.manifest
	}
	return Pos{File: b.Base}
}
