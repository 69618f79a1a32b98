package apitest

import (
	"fmt"
	"net/http"
	"sort"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/flow"
)

// fixture is a file's built engine and its mocks.
type fixture struct {
	file     *File
	eng      *flow.Engine
	mocks    *mockTransport
	warnings []string
}

// setup loads the file's bundles and builds an engine whose every outgoing
// call (TargetEndpoints, ServiceCallouts) goes through the file's mocks.
// Bundle errors make a *FileError pointing into the bundle.
func (r *Runner) setup(f *File) (*fixture, error) {
	set, ps := bundle.Load(f.Serve, bundle.Options{Env: f.Env})
	var data *bundle.Data
	if len(f.Data) > 0 {
		var dps *bundle.Problems
		data, dps = bundle.LoadData(f.Data)
		ps.Add(dps.List...)
	}
	if err := checkMockServers(f, set.Env); err != nil {
		return nil, err
	}
	network := r.Network
	if network == nil {
		network = http.DefaultTransport
	}
	mt := newMockTransport(f, serverIndex(addresses(set.Env)), network)
	opts := flow.Options{Org: f.Org, Env: f.Env, Transport: mt, Variables: map[string]any{}, Data: data}
	for _, v := range f.Variables {
		opts.Variables[v.Name] = v.Value
	}
	eng, bps := flow.Build(set, opts)
	ps.Add(bps.List...)
	ps.Sort()
	if ps.HasErrors() || eng == nil {
		if eng != nil {
			eng.Close()
		}
		return nil, bundleError(f.Path, ps)
	}
	fx := &fixture{file: f, eng: eng, mocks: mt}
	for _, p := range ps.List {
		fx.warnings = append(fx.warnings, p.String())
	}
	if r.Coverage != nil {
		r.Coverage.AddElements(eng.Elements())
	}
	return fx, nil
}

func bundleError(path string, ps *bundle.Problems) *FileError {
	fe := &FileError{Path: path}
	for _, p := range ps.List {
		if p.Severity == bundle.Error {
			fe.add(Problem{File: firstNonEmpty(p.Pos.File, path), Line: p.Pos.Line, Col: p.Pos.Col, Msg: p.Msg})
		}
	}
	return fe
}

// checkMockServers makes sure every target_server a mock names exists.
func checkMockServers(f *File, env *bundle.Environment) *FileError {
	fe := &FileError{Path: f.Path}
	for _, m := range f.Mocks {
		if m.TargetServer == "" || env.TargetServers[m.TargetServer] != nil {
			continue
		}
		known := make([]string, 0, len(env.TargetServers))
		for n := range env.TargetServers {
			known = append(known, n)
		}
		sort.Strings(known)
		fe.add(Problem{Line: m.Line, Msg: fmt.Sprintf("mock %q: no target server %q in the environment (have %v)", m.Name, m.TargetServer, known)})
	}
	if len(fe.Problems) == 0 {
		return nil
	}
	return fe
}

func addresses(env *bundle.Environment) map[string]serverAddr {
	out := map[string]serverAddr{}
	for name, ts := range env.TargetServers {
		out[name] = serverAddr{host: ts.Host, port: ts.Port}
	}
	return out
}
