package flow

import (
	"encoding/json"
	"net/http"

	"github.com/apigo/apigo/policy"
	"github.com/apigo/apigo/policy/exchange"
)

// faultBody is Apigee's default error body.
type faultBody struct {
	Fault struct {
		FaultString string `json:"faultstring"`
		Detail      struct {
			ErrorCode string `json:"errorcode"`
			Reason    string `json:"reason,omitempty"`
		} `json:"detail"`
	} `json:"fault"`
}

// faultResponse renders the default JSON fault response of f.
func faultResponse(f *policy.Fault) *exchange.Message {
	var b faultBody
	b.Fault.FaultString = f.FaultString
	b.Fault.Detail.ErrorCode = f.Code
	b.Fault.Detail.Reason = f.Reason
	body, _ := json.Marshal(b)
	m := exchange.NewResponse()
	m.Status = f.HTTPStatus()
	m.Reason = http.StatusText(m.Status)
	m.Header.Set("Content-Type", "application/json")
	m.Body = body
	return m
}

// errorResponse is the response a fault starts from: the policy's own
// (RaiseFault, a target's error response) or the default JSON body.
func errorResponse(f *policy.Fault) *exchange.Message {
	if f.Response != nil {
		if f.Response.Status == 0 {
			f.Response.Status = f.HTTPStatus()
		}
		return f.Response
	}
	return faultResponse(f)
}

// setFault enters the error state: fault and error variables, and the
// error response that FaultRules then edit.
func (ex *execution) setFault(f *policy.Fault) {
	x := ex.x
	if ex.tr != nil {
		ex.tr.fault(f)
	}
	m := errorResponse(f)
	x.SetResponse(m)
	x.SetMessage("error", m)
	x.SetCurrent("error")
	x.SetSystem("is.error", true)
	x.SetSystem("fault.name", f.Name)
	x.SetSystem("error.message", f.FaultString)
	x.SetSystem("error.state", 1)
	category := "Step"
	if f.Source == "target" {
		category = "Transport"
	}
	x.SetSystem("fault.category", category)
	if f.Reason != "" {
		x.SetSystem("fault.reason", f.Reason)
	}
}

// handleFault runs Apigee's error handling for a fault raised on one side.
// A target-side fault runs the TargetEndpoint's FaultRules and
// DefaultFaultRule, then the ProxyEndpoint's DefaultFaultRule but not its
// FaultRules (reference 6.6).
func (ex *execution) handleFault(f *policy.Fault, where side) {
	ex.setFault(f)
	if where == targetSide && ex.target != nil {
		ran, stop := ex.faultRules(ex.target.faultRules, false)
		if stop {
			return
		}
		if ex.defaultFaultRule(ex.target.defaultRule, ran) {
			return
		}
		always := ex.e.opts.ProxyDefaultFaultRuleAfterTargetFault == nil || *ex.e.opts.ProxyDefaultFaultRuleAfterTargetFault
		ex.defaultFaultRule(ex.pe.defaultRule, ran && !always)
		return
	}
	if where == targetSide {
		// A URL route has no TargetEndpoint: only the proxy's DefaultFaultRule.
		ex.defaultFaultRule(ex.pe.defaultRule, false)
		return
	}
	ran, stop := ex.faultRules(ex.pe.faultRules, true)
	if stop {
		return
	}
	ex.defaultFaultRule(ex.pe.defaultRule, ran)
}

// faultRules runs the one FaultRule that matches: ProxyEndpoint rules are
// searched bottom to top, TargetEndpoint rules top to bottom. stop reports
// that error handling must end (a RaiseFault or another fault inside it).
func (ex *execution) faultRules(rules []*faultRule, bottomUp bool) (ran, stop bool) {
	for i := range rules {
		r := rules[i]
		if bottomUp {
			r = rules[len(rules)-1-i]
		}
		if r.cond != nil {
			ok := r.cond.Eval(ex.x)
			if ex.tr != nil {
				ex.tr.cond(r.id, r.cond.String(), ok)
			}
			if !ok {
				continue
			}
		}
		if ex.tr != nil {
			ex.tr.add(Event{Kind: "faultrule", Element: r.id, Name: r.name})
		}
		return true, ex.faultSteps(r.steps)
	}
	return false, false
}

// defaultFaultRule runs rule when no FaultRule ran, or always with
// AlwaysEnforce. It reports whether error handling must end.
func (ex *execution) defaultFaultRule(rule *faultRule, faultRuleRan bool) bool {
	if rule == nil || (faultRuleRan && !rule.alwaysEnforce) {
		return false
	}
	if rule.cond != nil {
		ok := rule.cond.Eval(ex.x)
		if ex.tr != nil {
			ex.tr.cond(rule.id, rule.cond.String(), ok)
		}
		if !ok {
			return false
		}
	}
	if ex.tr != nil {
		ex.tr.add(Event{Kind: "faultrule", Element: rule.id, Name: rule.name, Value: "DefaultFaultRule"})
	}
	return ex.faultSteps(rule.steps)
}

// faultSteps runs a fault rule's steps. A RaiseFault replaces the error
// response and the remaining steps still run, but no DefaultFaultRule runs
// after it; any other failing policy ends the rule and error handling, and
// its own fault becomes the response.
func (ex *execution) faultSteps(steps []*step) (stop bool) {
	ex.x.SetSystem("current.flow.name", "FaultRule")
	for _, s := range steps {
		f := ex.step(s)
		if f == nil || f == responseReady {
			continue
		}
		ex.setFault(f)
		if f.Name == "RaiseFault" {
			stop = true
			continue
		}
		return true
	}
	return stop
}
