package flow

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/apigo/apigo/policy"
	"github.com/apigo/apigo/policy/exchange"
)

// side tells where a fault happened: it decides which FaultRules run.
type side int

const (
	proxySide side = iota
	targetSide
)

// execution is the state of one request through the engine.
type execution struct {
	e   *Engine
	pe  *proxyEndpoint
	x   *exchange.Exchange
	ctx context.Context
	w   http.ResponseWriter

	proxyFlow  *segment // conditional Flow chosen on the request
	target     *targetEndpoint
	targetFlow *segment
	tr         *tracer // nil unless traced
	sfDepth    int     // shared flows running inside one another
}

// trace turns tracing on for this execution.
func (ex *execution) trace(r *http.Request) {
	ex.tr = newTracer(ex.pe, r)
	ex.tr.ep = "ProxyEndpoint " + ex.pe.name
	ex.x.Recorder = ex.tr
}

// run executes the whole exchange and writes the response. It returns the
// status written.
func (ex *execution) run() int {
	fault, where := ex.requestAndResponse()
	if fault != nil {
		ex.handleFault(fault, where)
	}
	policy.Finalize(ex.x, ex.x.Response())
	status := writeMessage(ex.w, ex.x.Response())
	ex.x.SetSystem("client.sent.end.timestamp", time.Now().UnixMilli())
	if ex.pe.postClient != nil {
		ex.x.SetCurrent("response")
		if ex.tr != nil {
			ex.tr.ep = "ProxyEndpoint " + ex.pe.name
		}
		// Faults in PostClientFlow cannot change the response already sent.
		_ = ex.steps(ex.pe.postClient, "PostClientFlow", ex.pe.postClient.response)
	}
	return status
}

// requestAndResponse runs every normal flow. It returns the first fault and
// the side it happened on.
func (ex *execution) requestAndResponse() (*policy.Fault, side) {
	if f, where := ex.requestPath(); f != nil && f != responseReady {
		return f, where
	}
	if f := ex.proxyResponse(); f != nil && f != responseReady {
		return f, proxySide
	}
	return nil, proxySide
}

// responseReady stops the request path when a policy has completed the
// response (policy.ErrResponseReady: a ResponseCache hit, a CORS preflight).
var responseReady = &policy.Fault{Name: "ResponseReady"}

// requestPath runs the ProxyEndpoint request flows, the route, and the
// target (its flows and call) or URL route.
func (ex *execution) requestPath() (*policy.Fault, side) {
	pe, x := ex.pe, ex.x
	x.SetCurrent("request")
	if f := ex.hook("PreProxyFlowHook"); f != nil {
		return f, proxySide
	}
	if f := ex.steps(pe.preFlow, "PreFlow", pe.preFlow.request); f != nil {
		return f, proxySide
	}
	ex.proxyFlow = ex.firstFlow(pe.flows)
	if ex.proxyFlow != nil {
		if f := ex.steps(ex.proxyFlow, ex.proxyFlow.name, ex.proxyFlow.request); f != nil {
			return f, proxySide
		}
	}
	if f := ex.steps(pe.postFlow, "PostFlow", pe.postFlow.request); f != nil {
		return f, proxySide
	}
	route := ex.route()
	if route == nil {
		return &policy.Fault{Name: "RouteFailed", Code: "messaging.runtime.RouteFailed", Status: 500,
			FaultString: "Unable to route the message to a Target Endpoint"}, proxySide
	}
	x.SetSystem("route.name", route.name)
	switch {
	case route.target != nil:
		x.SetSystem("route.target", route.target.name)
		if f := ex.targetFlows(route.target); f != nil {
			return f, targetSide
		}
	case route.url != nil:
		x.SetSystem("route.target", "")
		if f := ex.send(route.conn, ex.outgoingURL(route.url.Render(x)), false); f != nil {
			return f, targetSide
		}
	}
	return nil, proxySide
}

// proxyResponse runs the ProxyEndpoint response flows.
func (ex *execution) proxyResponse() *policy.Fault {
	pe, x := ex.pe, ex.x
	x.SetCurrent("response")
	if ex.tr != nil {
		ex.tr.ep = "ProxyEndpoint " + pe.name
	}
	if f := ex.steps(pe.preFlow, "PreFlow", pe.preFlow.response); f != nil {
		return f
	}
	if ex.proxyFlow != nil {
		if f := ex.steps(ex.proxyFlow, ex.proxyFlow.name, ex.proxyFlow.response); f != nil {
			return f
		}
	}
	if f := ex.steps(pe.postFlow, "PostFlow", pe.postFlow.response); f != nil {
		return f
	}
	return ex.hook("PostProxyFlowHook")
}

// targetFlows runs the TargetEndpoint request flows, the call and its
// response flows.
func (ex *execution) targetFlows(t *targetEndpoint) *policy.Fault {
	x := ex.x
	ex.target = t
	x.SetSystem("target.name", t.name)
	if ex.tr != nil {
		ex.tr.ep = "TargetEndpoint " + t.name
	}
	if t.url != nil {
		u := t.url.Render(x)
		x.SetSystem("target.url", u)
		bp := t.basePath
		if !t.url.IsLiteral() {
			bp = urlPath(u)
		}
		x.SetSystem("target.basepath", bp)
	}
	x.SetSystem("target.copy.pathsuffix", true)
	x.SetSystem("target.copy.queryparams", true)
	x.SetCurrent("request")
	if f := ex.hook("PreTargetFlowHook"); f != nil {
		return f
	}
	if f := ex.steps(t.preFlow, "PreFlow", t.preFlow.request); f != nil {
		return f
	}
	ex.targetFlow = ex.firstFlow(t.flows)
	if ex.targetFlow != nil {
		if f := ex.steps(ex.targetFlow, ex.targetFlow.name, ex.targetFlow.request); f != nil {
			return f
		}
	}
	if f := ex.steps(t.postFlow, "PostFlow", t.postFlow.request); f != nil {
		return f
	}
	if t.local != nil {
		if f := ex.callLocal(t); f != nil {
			return f
		}
		return ex.targetResponseFlows(t)
	}
	if t.conn == nil {
		return &policy.Fault{Name: "NoActiveTargets", Code: "messaging.adaptors.http.flow.NoActiveTargets", Status: 503,
			FaultString: "The Service is temporarily unavailable", Source: "target"}
	}
	conn, u := ex.targetCall(t)
	if f := ex.send(conn, u, t.streamRsp); f != nil {
		return f
	}
	return ex.targetResponseFlows(t)
}

// targetResponseFlows runs the TargetEndpoint response flows.
func (ex *execution) targetResponseFlows(t *targetEndpoint) *policy.Fault {
	x := ex.x
	x.SetCurrent("response")
	if f := ex.steps(t.preFlow, "PreFlow", t.preFlow.response); f != nil {
		return f
	}
	if ex.targetFlow != nil {
		if f := ex.steps(ex.targetFlow, ex.targetFlow.name, ex.targetFlow.response); f != nil {
			return f
		}
	}
	if f := ex.steps(t.postFlow, "PostFlow", t.postFlow.response); f != nil {
		return f
	}
	return ex.hook("PostTargetFlowHook")
}

// route picks the first RouteRule whose condition holds.
func (ex *execution) route() *routeRule {
	for _, r := range ex.pe.routes {
		ok := r.cond == nil || r.cond.Eval(ex.x)
		if ex.tr != nil && r.cond != nil {
			ex.tr.cond(r.id, r.cond.String(), ok)
		}
		if ok {
			if ex.tr != nil {
				target := ""
				if r.target != nil {
					target = r.target.name
				}
				ex.tr.add(Event{Kind: "route", Element: r.id, Name: r.name, Value: target})
			}
			return r
		}
	}
	return nil
}

// firstFlow picks the first conditional Flow whose condition holds.
func (ex *execution) firstFlow(flows []*segment) *segment {
	for _, f := range flows {
		ok := f.cond == nil || f.cond.Eval(ex.x)
		if ex.tr != nil && f.cond != nil {
			ex.tr.cond(f.id, f.cond.String(), ok)
		}
		if ok {
			if ex.tr != nil {
				ex.tr.add(Event{Kind: "flow", Element: f.id, Flow: f.name, Name: "selected"})
			}
			return f
		}
	}
	return nil
}

// steps runs the steps of one flow segment. It returns the fault that
// stopped it, if any.
func (ex *execution) steps(seg *segment, name string, steps []*step) *policy.Fault {
	if len(steps) == 0 {
		return nil
	}
	ex.x.SetSystem("current.flow.name", name)
	ex.x.SetSystem("current.flow.description", seg.description)
	if ex.tr != nil {
		ex.tr.flow = name
		ex.tr.add(Event{Kind: "flow", Flow: name, Name: ex.x.CurrentName()})
	}
	for _, s := range steps {
		if f := ex.step(s); f != nil {
			return f
		}
	}
	return nil
}

// step runs one step: its condition is evaluated just before it runs.
func (ex *execution) step(s *step) *policy.Fault {
	if !s.enabled {
		if ex.tr != nil {
			ex.tr.add(Event{Kind: "skip", Element: s.id, Name: s.name, Policy: s.kind, Error: "policy is disabled"})
		}
		return nil
	}
	if s.cond != nil {
		ok := s.cond.Eval(ex.x)
		if ex.tr != nil {
			ex.tr.cond(s.id, s.cond.String(), ok)
		}
		if !ok {
			return nil
		}
	}
	var began time.Time
	evIdx := -1
	if ex.tr != nil {
		began = time.Now()
		evIdx = len(ex.tr.t.Events)
		ex.tr.add(Event{Kind: "step", Element: s.id, Name: s.name, Policy: s.kind})
	}
	err := ex.execute(s)
	if evIdx >= 0 {
		ev := &ex.tr.t.Events[evIdx]
		ev.DurationUS = time.Since(began).Microseconds()
		if err != nil {
			ev.Error = err.Error()
		}
	}
	if err == nil {
		return nil
	}
	if errors.Is(err, policy.ErrResponseReady) {
		if ex.tr != nil {
			ex.tr.add(Event{Kind: "response-ready", Element: s.id, Name: s.name})
		}
		return responseReady
	}
	f := asFault(err, s)
	if !f.NoFailureFlag {
		ex.x.SetSystem(s.prefix+"."+s.name+".failed", true)
	}
	if s.continueOnError {
		return nil
	}
	return f
}

// execute runs a policy, turning a panic into a fault: one broken request
// must never take the server down.
func (ex *execution) execute(s *step) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &policy.Fault{Name: "ExecutionFailed", Code: "steps." + s.prefix + ".ExecutionFailed", Status: 500,
				FaultString: "Execution of " + s.name + " failed", Source: "policy", Policy: s.name}
		}
	}()
	return s.pol.Execute(ex.ctx, ex.x)
}

func asFault(err error, s *step) *policy.Fault {
	var f *policy.Fault
	if errors.As(err, &f) {
		if f.Policy == "" && s != nil {
			f.Policy = s.name
		}
		if f.Source == "" {
			f.Source = "policy"
		}
		return f
	}
	name := ""
	prefix := "flow"
	if s != nil {
		name, prefix = s.name, s.prefix
	}
	return &policy.Fault{Name: "ExecutionFailed", Code: "steps." + prefix + ".ExecutionFailed", Status: 500,
		FaultString: "Execution of " + name + " failed: " + err.Error(), Source: "policy", Policy: name, Cause: err}
}
