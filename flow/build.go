// Package flow compiles a loaded bundle set into an executable engine and
// runs Apigee's flow for each request: ProxyEndpoint flows, RouteRules,
// TargetEndpoint flows, the target call, response flows, fault handling and
// PostClientFlow, in exactly Apigee's order.
package flow

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/conditions"
	"github.com/apigo/apigo/policy"
	"github.com/apigo/apigo/policy/httptarget"
	"github.com/apigo/apigo/policy/template"
	"github.com/apigo/apigo/store"
)

// Options configure Build. The zero value is usable.
type Options struct {
	// Org is organization.name; default "local".
	Org string
	// Env is environment.name when the loaded set has no named environment;
	// default "local".
	Env string
	// Transport sends every outgoing request (targets, ServiceCallouts,
	// scripts); nil means one pooled transport per connection honouring
	// its properties and SSLInfo.
	Transport http.RoundTripper
	// MapURL rewrites outgoing URLs that start with From to start with To.
	MapURL []URLMap
	// Target holds the other connection switches (ReadmitAfter,
	// TakeOutOnFirstFailure, StrictTLS, KeystoreDir ...); Transport and
	// MapURL above are added to it. KeystoreDir defaults to the
	// environment folder's keystores/ when it exists.
	Target httptarget.Options
	// ProxyDefaultFaultRuleAfterTargetFault runs the ProxyEndpoint's
	// DefaultFaultRule after a target-side fault even when a TargetEndpoint
	// FaultRule ran and the proxy rule lacks AlwaysEnforce. Default true
	// (reference 6.6: "make it a switch defaulting to runs"); a nil pointer
	// means true.
	ProxyDefaultFaultRuleAfterTargetFault *bool
	// Policy holds switches for policy behaviours.
	Policy policy.Options
	// Log receives one line per request; nil discards.
	Log func(line string)
	// Store keeps policy state between requests (quotas, caches, KVMs,
	// tokens); nil means a fresh in-memory store, closed with the engine.
	Store store.Store
	// Data is the test data (--data); nil means none.
	Data *bundle.Data
	// Variables are set on every new exchange before its flows run, as a
	// policy would set them (apigo test's fixed variables). Default none.
	Variables map[string]any
	// Trace, when set, receives the trace of every exchange after its
	// response is written (apigo serve --trace). Nil: no tracing cost.
	Trace func(*Trace)
}

// URLMap is one --map-url FROM=TO rewrite.
type URLMap struct{ From, To string }

// ParseURLMap parses "FROM=TO".
func ParseURLMap(s string) (URLMap, error) {
	from, to, ok := strings.Cut(s, "=")
	if !ok || from == "" || to == "" {
		return URLMap{}, fmt.Errorf("--map-url wants FROM=TO, got %q", s)
	}
	return URLMap{From: from, To: to}, nil
}

// step is a compiled <Step>.
type step struct {
	id              string // position of the <Step>
	name            string // policy name
	kind            string // policy type
	prefix          string // failure-flag prefix
	pol             policy.Policy
	cond            *conditions.Condition
	enabled         bool
	continueOnError bool
}

// segment is one compiled flow (PreFlow, conditional Flow, PostFlow ...).
type segment struct {
	id                string // position of the <Flow>
	name, description string
	cond              *conditions.Condition
	request, response []*step
}

type faultRule struct {
	id            string
	name          string
	cond          *conditions.Condition
	steps         []*step
	alwaysEnforce bool
}

// endpoint is what compiled Proxy and Target endpoints share.
type endpoint struct {
	name        string
	preFlow     *segment
	flows       []*segment
	postFlow    *segment
	faultRules  []*faultRule
	defaultRule *faultRule
	props       map[string]string
}

type routeRule struct {
	id     string
	name   string
	cond   *conditions.Condition
	target *targetEndpoint // nil with url or for a null route
	url    *template.Template
	conn   *httptarget.Connection // for a URL route
}

type proxyEndpoint struct {
	endpoint
	proxy      *proxy
	basePath   string
	postClient *segment
	routes     []*routeRule
	// streamRequest is true when no step on the request path can read the
	// body, so it is streamed to the target instead of buffered.
	streamRequest bool
}

type targetEndpoint struct {
	endpoint
	url       *template.Template     // the URL of a URL connection
	conn      *httptarget.Connection // nil without HTTPTargetConnection
	direct    *httptarget.Connection // load-balanced only: for a target.url a policy sets
	basePath  any                    // target.basepath of a literal URL, parsed once
	local     *bundle.LocalTargetConnection
	localPE   *proxyEndpoint // the chained endpoint when named by APIProxy
	streamRsp bool           // no target or proxy response step can read the body
}

// proxy is one deployed API proxy bundle.
type proxy struct {
	name, revision string
	propertySets   map[string]map[string]string
	endpoints      []*proxyEndpoint
	targets        map[string]*targetEndpoint
	policies       []policy.Policy // every built policy, for Close
	conns          []*httptarget.Connection
}

type builder struct {
	opts     *Options
	set      *bundle.Set
	problems *bundle.Problems
	bc       *policy.BuildContext
	b        *bundle.Bundle
	policies map[string]*step // built once per bundle, shared by steps
	endpoint string           // endpoint being built, for elements
	elements *[]Element       // what coverage tracks
}

// Build compiles a loaded set. It returns a nil engine only when errors
// make serving impossible; warnings come back with a usable engine.
func Build(set *bundle.Set, opts Options) (*Engine, *bundle.Problems) {
	ps := &bundle.Problems{}
	if opts.Org == "" {
		opts.Org = "local"
	}
	env := opts.Env
	if set.Env != nil && set.Env.Name != "" {
		env = set.Env.Name
	}
	if env == "" {
		env = "local"
	}
	opts.Env = env
	e := &Engine{opts: opts}
	if e.opts.Data == nil {
		e.opts.Data = &bundle.Data{}
	}
	if e.opts.Store == nil {
		e.opts.Store = store.NewMemory(store.MemoryOptions{Now: e.opts.Policy.Now})
		e.ownStore = true
	}
	// Seed under the environment name the engine runs as ("local" or --env
	// when no workspace environment is loaded), as the KVM policies read it.
	seedEnv := &bundle.Environment{Name: e.opts.Env}
	if set.Env != nil {
		cp := *set.Env
		cp.Name = e.opts.Env
		seedEnv = &cp
	}
	if err := policy.SeedKVMs(context.Background(), e.opts.Store, e.opts.Data, seedEnv, e.opts.Org); err != nil {
		ps.Errorf(bundle.Pos{File: "maps.json"}, "seeding key value maps: %v", err)
	}
	sharedFlows := map[string]bool{}
	for _, b := range set.SharedFlows {
		sharedFlows[b.Name] = true
	}
	e.opts.Target = targetOptions(&e.opts, set.Env)
	e.opts.Policy.Target = mergeTargetOptions(e.opts.Policy.Target, e.opts.Target)
	newBuilder := func(b *bundle.Bundle) *builder {
		bd := &builder{opts: &e.opts, set: set, problems: ps, b: b, policies: map[string]*step{}, elements: &e.elements}
		bd.bc = &policy.BuildContext{Bundle: b, Env: set.Env, Problems: ps, Options: &e.opts.Policy,
			Store: e.opts.Store, Data: e.opts.Data, SharedFlows: sharedFlows}
		return bd
	}
	e.buildSharedFlows(set, ps, newBuilder)
	for _, b := range set.Proxies {
		e.proxies = append(e.proxies, newBuilder(b).proxy())
	}
	for _, p := range e.proxies {
		e.endpoints = append(e.endpoints, p.endpoints...)
	}
	e.resolveLocalTargets(ps)
	sort.SliceStable(e.endpoints, func(i, j int) bool {
		return len(e.endpoints[i].basePath) > len(e.endpoints[j].basePath)
	})
	// The loader reports two endpoints sharing a base path.
	ps.Sort()
	if ps.HasErrors() {
		return nil, ps
	}
	return e, ps
}

func (bd *builder) proxy() *proxy {
	b := bd.b
	p := &proxy{name: b.Name, revision: b.Revision, propertySets: b.PropertySets, targets: map[string]*targetEndpoint{}}
	for _, te := range b.TargetEndpoints {
		p.targets[te.Name] = bd.target(p, te)
	}
	for _, pe := range b.ProxyEndpoints {
		p.endpoints = append(p.endpoints, bd.proxyEndpoint(p, pe))
	}
	// Build the policies no step names too, so validate reports them.
	for _, n := range sortedKeys(b.Policies) {
		if st := bd.policy(n); st != nil {
			p.policies = append(p.policies, st.pol)
		}
	}
	return p
}

func (bd *builder) proxyEndpoint(p *proxy, pe *bundle.ProxyEndpoint) *proxyEndpoint {
	c := &proxyEndpoint{proxy: p, basePath: normalizeBasePath(pe.BasePath)}
	bd.endpoint = "ProxyEndpoint " + pe.Name
	c.endpoint = bd.compileEndpoint(&pe.Endpoint)
	if pe.PostClientFlow != nil {
		c.postClient = bd.segment(pe.PostClientFlow)
	}
	for _, rr := range pe.RouteRules {
		r := &routeRule{id: rr.Pos.String(), name: rr.Name, cond: bd.condition(rr.Condition)}
		bd.element(r.id, "RouteRule", rr.Name, rr.Condition)
		switch {
		case rr.TargetEndpoint != "":
			// The loader reports a TargetEndpoint that does not exist.
			r.target = p.targets[rr.TargetEndpoint]
		case rr.URL != "":
			r.conn = httptarget.Build(&bundle.HTTPTargetConnection{URL: rr.URL, URLPos: rr.Pos, Pos: rr.Pos}, nil, bd.set.Env, bd.opts.Target, bd.problems)
			r.url = r.conn.URL()
			p.conns = append(p.conns, r.conn)
		}
		c.routes = append(c.routes, r)
	}
	c.streamRequest = !hasSteps(c.preFlow, c.postFlow, true) && !anyFlowSteps(c.flows, true)
	for _, r := range c.routes {
		if r.target != nil && (hasSteps(r.target.preFlow, r.target.postFlow, true) || anyFlowSteps(r.target.flows, true)) {
			c.streamRequest = false
		}
	}
	for _, t := range p.targets {
		t.streamRsp = t.streamRsp && !hasSteps(c.preFlow, c.postFlow, false) && !anyFlowSteps(c.flows, false)
	}
	return c
}

func hasSteps(pre, post *segment, request bool) bool {
	if request {
		return len(pre.request)+len(post.request) > 0
	}
	return len(pre.response)+len(post.response) > 0
}

func anyFlowSteps(flows []*segment, request bool) bool {
	for _, f := range flows {
		if (request && len(f.request) > 0) || (!request && len(f.response) > 0) {
			return true
		}
	}
	return false
}

func normalizeBasePath(bp string) string {
	bp = strings.TrimSpace(bp)
	if bp == "" || bp == "/" {
		return "/"
	}
	if !strings.HasPrefix(bp, "/") {
		bp = "/" + bp
	}
	return strings.TrimRight(bp, "/")
}

func (bd *builder) target(p *proxy, te *bundle.TargetEndpoint) *targetEndpoint {
	bd.endpoint = "TargetEndpoint " + te.Name
	t := &targetEndpoint{endpoint: bd.compileEndpoint(&te.Endpoint)}
	t.streamRsp = !hasSteps(t.preFlow, t.postFlow, false) && !anyFlowSteps(t.flows, false)
	switch {
	case te.HTTP != nil:
		t.conn = httptarget.Build(te.HTTP, te.Doc, bd.set.Env, bd.opts.Target, bd.problems)
		t.url = t.conn.URL()
		if t.url != nil && t.url.IsLiteral() {
			t.basePath = urlPath(t.url.String())
		}
		p.conns = append(p.conns, t.conn)
		if t.conn.LoadBalanced() {
			d := *te.HTTP
			d.LoadBalancer, d.HealthMonitor, d.Path, d.URL = nil, nil, "", "http://target.url.unset"
			t.direct = httptarget.Build(&d, te.Doc, bd.set.Env, bd.opts.Target, &bundle.Problems{})
			p.conns = append(p.conns, t.direct)
		}
		for _, pr := range te.HTTP.Properties {
			t.props[pr.Name] = strings.TrimSpace(pr.Value)
		}
	case te.Local != nil:
		t.local = te.Local
		if te.Local.APIProxy == "" && te.Local.Path == "" {
			bd.problems.Errorf(te.Local.Pos, "TargetEndpoint %q: LocalTargetConnection needs <APIProxy> or <Path>", te.Name)
		}
	default:
		bd.problems.Warnf(te.Pos, "TargetEndpoint %q has no HTTPTargetConnection", te.Name)
	}
	return t
}

func (bd *builder) compileEndpoint(ep *bundle.Endpoint) endpoint {
	e := endpoint{name: ep.Name, props: map[string]string{}}
	for _, p := range ep.Properties {
		e.props[p.Name] = strings.TrimSpace(p.Value)
	}
	e.preFlow = bd.segment(ep.PreFlow)
	e.postFlow = bd.segment(ep.PostFlow)
	for _, f := range ep.Flows {
		e.flows = append(e.flows, bd.segment(f))
		bd.element(f.Pos.String(), "Flow", f.Name, f.Condition)
	}
	for _, fr := range ep.FaultRules {
		e.faultRules = append(e.faultRules, bd.faultRule(fr))
		bd.element(fr.Pos.String(), "FaultRule", fr.Name, fr.Condition)
	}
	if ep.DefaultFaultRule != nil {
		e.defaultRule = bd.faultRule(ep.DefaultFaultRule)
		bd.element(ep.DefaultFaultRule.Pos.String(), "DefaultFaultRule", ep.DefaultFaultRule.Name, ep.DefaultFaultRule.Condition)
	}
	return e
}

func (bd *builder) segment(f *bundle.Flow) *segment {
	if f == nil {
		return &segment{}
	}
	return &segment{
		id: f.Pos.String(), name: f.Name, description: f.Description, cond: bd.condition(f.Condition),
		request: bd.steps(f.Request), response: bd.steps(f.Response),
	}
}

func (bd *builder) faultRule(fr *bundle.FaultRule) *faultRule {
	return &faultRule{id: fr.Pos.String(), name: fr.Name, cond: bd.condition(fr.Condition), steps: bd.steps(fr.Steps), alwaysEnforce: fr.AlwaysEnforce}
}

func (bd *builder) steps(in []*bundle.Step) []*step {
	var out []*step
	for _, s := range in {
		pol := bd.policy(s.Name)
		if pol == nil {
			continue
		}
		cp := *pol
		cp.id = s.Pos.String()
		cp.cond = bd.condition(s.Condition)
		out = append(out, &cp)
		bd.element(cp.id, "Step", s.Name, s.Condition)
	}
	return out
}

// policy builds the named policy once per bundle.
func (bd *builder) policy(name string) *step {
	if st, ok := bd.policies[name]; ok {
		return st
	}
	p := bd.b.Policies[name]
	if p == nil {
		// The loader reports steps naming missing policies.
		bd.policies[name] = nil
		return nil
	}
	st := &step{name: p.Name, kind: p.Type, enabled: p.Enabled, continueOnError: p.ContinueOnError}
	build, prefix, ok := policy.Lookup(p.Type)
	switch {
	case ok:
		st.prefix = prefix
		st.pol = build(bd.bc, p)
		if st.pol == nil {
			st.pol = failing{fault: buildFailedFault(p)}
		}
	case policy.IsKnownApigeeType(p.Type):
		bd.problems.Warnf(p.Pos, "policy %q: %s is an Apigee policy type apigo does not support yet; the step faults with steps.%s.NotSupported when it runs", p.Name, p.Type, strings.ToLower(p.Type))
		st.prefix = strings.ToLower(p.Type)
		st.pol = failing{fault: &policy.Fault{Name: "NotSupported", Code: "steps." + strings.ToLower(p.Type) + ".NotSupported",
			FaultString: fmt.Sprintf("%s policy %s is not supported by apigo", p.Type, p.Name), Status: 500, Source: "policy", Policy: p.Name}}
	default:
		bd.problems.Errorf(p.Pos, "policy %q: unknown policy type <%s>", p.Name, p.Type)
		st = nil
	}
	bd.policies[name] = st
	return st
}

func buildFailedFault(p *bundle.Policy) *policy.Fault {
	return &policy.Fault{Name: "ExecutionFailed", Code: "steps." + strings.ToLower(p.Type) + ".ExecutionFailed",
		FaultString: fmt.Sprintf("%s policy %s could not be built", p.Type, p.Name), Status: 500, Source: "policy", Policy: p.Name}
}

func (bd *builder) condition(c *bundle.Condition) *conditions.Condition {
	if c == nil || strings.TrimSpace(c.Text) == "" {
		return nil
	}
	cond, err := conditions.Compile(c.Text)
	if err != nil {
		var se *conditions.SyntaxError
		if errors.As(err, &se) {
			bd.problems.Errorf(c.PosAt(se.Offset), "condition: %s", se.Msg)
		} else {
			bd.problems.Errorf(c.Pos, "condition: %v", err)
		}
		return nil
	}
	return cond
}

func (bd *builder) template(text string, pos bundle.Pos) *template.Template {
	t, err := template.Parse(text)
	if err != nil {
		bd.problems.Errorf(pos, "template %q: %v", text, err)
		return nil
	}
	return t
}

// element records a bundle element for coverage.
func (bd *builder) element(id, kind, name string, c *bundle.Condition) {
	el := Element{ID: id, Kind: kind, Proxy: bd.b.Name, Endpoint: bd.endpoint, Name: name}
	if c != nil {
		el.Condition = c.Text
	}
	*bd.elements = append(*bd.elements, el)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
