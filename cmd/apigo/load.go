package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/flow"
)

// loadFlags are the flags serve and validate share.
type loadFlags struct {
	env    string
	org    string
	data   multiFlag
	mapURL multiFlag
}

func (lf *loadFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&lf.env, "env", "", "environment `NAME` of a workspace (sets environment.name)")
	fs.StringVar(&lf.org, "org", "local", "organization.name")
	fs.Var(&lf.data, "data", "test data `DIR` (products, developers, developerapps, maps JSON); repeatable")
	fs.Var(&lf.mapURL, "map-url", "rewrite outgoing URLs starting with FROM to start with TO (`FROM=TO`); repeatable")
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// load loads and builds paths. It prints problems to w and returns a nil
// engine when errors stop serving.
func (lf *loadFlags) load(paths []string, w io.Writer, base flow.Options) (*flow.Engine, *bundle.Problems, error) {
	if len(paths) == 0 {
		paths = []string{"."}
	}
	opts := base
	opts.Org = lf.org
	opts.Env = lf.env
	for _, m := range lf.mapURL {
		um, err := flow.ParseURLMap(m)
		if err != nil {
			return nil, nil, err
		}
		opts.MapURL = append(opts.MapURL, um)
	}
	set, ps := bundle.Load(paths, bundle.Options{Env: lf.env})
	if len(lf.data) > 0 {
		_, dps := bundle.LoadData(lf.data)
		ps.Add(dps.List...)
	}
	// Build even when loading found errors, so that one run reports every
	// problem (conditions, policy types) at once.
	eng, bps := flow.Build(set, opts)
	ps.Add(bps.List...)
	ps.Sort()
	if ps.HasErrors() {
		if eng != nil {
			eng.Close()
		}
		return nil, ps, nil
	}
	if eng == nil {
		return nil, ps, fmt.Errorf("build failed")
	}
	return eng, ps, nil
}
