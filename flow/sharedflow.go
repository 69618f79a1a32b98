package flow

import (
	"context"
	"fmt"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy"
	"github.com/apigo/apigo/policy/exchange"
)

// maxSharedFlowDepth bounds FlowCallouts calling shared flows that call
// shared flows, so a cycle faults instead of recursing forever.
const maxSharedFlowDepth = 16

// sharedFlow is a compiled shared flow bundle: the steps of its "default"
// SharedFlow (the one FlowCallout and flow hooks run).
type sharedFlow struct {
	name     string
	steps    []*step
	policies []policy.Policy
}

// buildSharedFlows compiles every deployed shared flow bundle.
func (e *Engine) buildSharedFlows(set *bundle.Set, ps *bundle.Problems, newBuilder func(*bundle.Bundle) *builder) {
	e.sharedFlows = map[string]*sharedFlow{}
	for _, b := range set.SharedFlows {
		bd := newBuilder(b)
		bd.endpoint = "SharedFlow " + b.Name
		sf := &sharedFlow{name: b.Name}
		var def *bundle.SharedFlow
		for _, f := range b.SharedFlows {
			if f.Name == "default" || def == nil {
				def = f
			}
		}
		if def != nil {
			sf.steps = bd.steps(def.Steps)
		}
		for _, n := range sortedKeys(b.Policies) {
			if st := bd.policy(n); st != nil {
				sf.policies = append(sf.policies, st.pol)
			}
		}
		e.sharedFlows[b.Name] = sf
	}
	if set.Env == nil {
		return
	}
	e.hooks = map[string]*flowHook{}
	for point, h := range set.Env.FlowHooks {
		sf := e.sharedFlows[h.SharedFlow]
		if sf == nil {
			ps.Errorf(h.Pos, "flow hook %s: shared flow %q is not deployed", point, h.SharedFlow)
			continue
		}
		e.hooks[point] = &flowHook{point: point, flow: sf, continueOnError: h.ContinueOnError}
	}
}

// flowHook is a shared flow attached to an environment hook point.
type flowHook struct {
	point           string
	flow            *sharedFlow
	continueOnError bool
}

// RunSharedFlow runs a deployed shared flow's steps inline on x
// (policy.SharedFlowRunner, for FlowCallout). A fault inside is returned as
// is, so it reaches the caller's fault handling.
func (ex *execution) RunSharedFlow(_ context.Context, x *exchange.Exchange, name string) error {
	sf := ex.e.sharedFlows[name]
	if sf == nil {
		return &policy.Fault{Name: "SharedFlowNotFound", Code: "steps.flowcallout.SharedFlowNotFound", Status: 500,
			FaultString: fmt.Sprintf("shared flow %s is not deployed", name)}
	}
	if f := ex.runSharedFlow(sf, "SharedFlow "+name); f != nil {
		return f
	}
	return nil
}

// DispatchLocal serves ServiceCallout's LocalTargetConnection
// (policy.LocalDispatcher) through the engine.
func (ex *execution) DispatchLocal(ctx context.Context, apiProxy, endpoint, path string, req *exchange.Message) (*exchange.Message, error) {
	return ex.e.DispatchLocal(ctx, apiProxy, endpoint, path, req)
}

// runSharedFlow runs sf's steps, with the caller's flow name restored after.
func (ex *execution) runSharedFlow(sf *sharedFlow, label string) *policy.Fault {
	if ex.sfDepth >= maxSharedFlowDepth {
		return &policy.Fault{Name: "SharedFlowLoop", Code: "steps.flowcallout.SharedFlowLoop", Status: 500,
			FaultString: fmt.Sprintf("shared flows nested deeper than %d levels", maxSharedFlowDepth)}
	}
	ex.sfDepth++
	defer func() { ex.sfDepth-- }()
	prevFlow, _ := ex.x.GetString("current.flow.name")
	var prevEp string
	if ex.tr != nil {
		prevEp = ex.tr.ep
		ex.tr.ep = label
	}
	f := ex.steps(&segment{name: sf.name}, sf.name, sf.steps)
	ex.x.SetSystem("current.flow.name", prevFlow)
	if ex.tr != nil {
		ex.tr.ep = prevEp
		ex.tr.flow = prevFlow
	}
	return f
}

// hook runs the shared flow attached to a hook point, if any. A fault
// stops the request unless the hook's continueOnError is true.
func (ex *execution) hook(point string) *policy.Fault {
	h := ex.e.hooks[point]
	if h == nil {
		return nil
	}
	f := ex.runSharedFlow(h.flow, point)
	if f == nil || f == responseReady {
		return f
	}
	if h.continueOnError {
		if ex.tr != nil {
			ex.tr.add(Event{Kind: "hook", Name: point, Error: "continued after fault " + f.Name})
		}
		return nil
	}
	return f
}
