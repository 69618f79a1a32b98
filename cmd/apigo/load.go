package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/flow"
	"github.com/apigo/apigo/policy/httptarget"
	"github.com/apigo/apigo/store"
)

// loadFlags are the flags serve and validate share.
type loadFlags struct {
	env    string
	org    string
	data   multiFlag
	mapURL multiFlag

	// Switches for behaviours Apigee leaves uncertain (README, "Choices").
	readmitAfter          time.Duration
	takeOutOnFirstFailure bool
	strictTLS             bool
	keystores             string
	strictTemplates       bool
	proxyDFRAfterTarget   bool

	storeSpec string
	lastData  *bundle.Data // test data of the last load, for printing credentials
}

func (lf *loadFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&lf.env, "env", "", "environment `NAME` of a workspace (sets environment.name)")
	fs.StringVar(&lf.org, "org", "local", "organization.name")
	fs.Var(&lf.data, "data", "test data `DIR` (products, developers, developerapps, maps JSON); repeatable")
	fs.Var(&lf.mapURL, "map-url", "rewrite outgoing URLs starting with FROM to start with TO (`FROM=TO`); repeatable")
	fs.DurationVar(&lf.readmitAfter, "readmit-after", httptarget.DefaultReadmitAfter, "without a HealthMonitor, try a downed target server again after this long")
	fs.BoolVar(&lf.takeOutOnFirstFailure, "take-out-on-first-failure", false, "take a target server out at its first failure when MaxFailures > 0 (default: count to MaxFailures)")
	fs.BoolVar(&lf.strictTLS, "strict-tls", false, "verify every https target against the system roots (default: only with Enforce or a TrustStore, as Apigee)")
	fs.StringVar(&lf.keystores, "keystores", "", "folder of trust stores and key stores as PEM files (default: the environment's keystores/)")
	fs.BoolVar(&lf.strictTemplates, "strict-templates", false, "an unresolved {ref} in a template faults when IgnoreUnresolvedVariables is false (default: renders empty)")
	fs.StringVar(&lf.storeSpec, "store", "memory", "where quotas, caches, KVMs and tokens live: `memory` or redis://HOST:PORT/DB (shared by several apigo instances)")
	fs.BoolVar(&lf.proxyDFRAfterTarget, "proxy-default-fault-rule-after-target-fault", true, "after a target-side fault handled by a TargetEndpoint FaultRule, still run the ProxyEndpoint DefaultFaultRule without AlwaysEnforce")
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
	opts.Target.ReadmitAfter = lf.readmitAfter
	opts.Target.TakeOutOnFirstFailure = lf.takeOutOnFirstFailure
	opts.Target.StrictTLS = lf.strictTLS
	opts.Target.KeystoreDir = lf.keystores
	opts.Policy.StrictTemplates = lf.strictTemplates
	dfr := lf.proxyDFRAfterTarget
	opts.ProxyDefaultFaultRuleAfterTargetFault = &dfr
	for _, m := range lf.mapURL {
		um, err := flow.ParseURLMap(m)
		if err != nil {
			return nil, nil, err
		}
		opts.MapURL = append(opts.MapURL, um)
	}
	set, ps := bundle.Load(paths, bundle.Options{Env: lf.env})
	if len(lf.data) > 0 {
		data, dps := bundle.LoadData(lf.data)
		ps.Add(dps.List...)
		opts.Data = data
		lf.lastData = data
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

// openStore opens the --store; serve keeps one store across --watch
// rebuilds so that quotas, caches and tokens survive an edit.
func (lf *loadFlags) openStore() (store.Store, error) {
	st, err := store.Open(lf.storeSpec, nil)
	if err != nil {
		return nil, fmt.Errorf("--store: %w", err)
	}
	return st, nil
}
