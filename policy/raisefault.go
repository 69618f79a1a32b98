package policy

import (
	"context"
	"net/http"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
)

func init() { Register("RaiseFault", "raisefault", buildRaiseFault) }

// RaiseFault is a built <RaiseFault> policy: it always fails with
// steps.raisefault.RaiseFault, carrying the error response its
// FaultResponse builds (nil without one: the engine then renders the
// default JSON fault body).
type RaiseFault struct {
	Name             string
	IgnoreUnresolved bool // IgnoreUnresolvedVariables, default false
	// ShortFaultReason is read and kept; it changes nothing locally.
	ShortFaultReason bool
	// FaultResponse is nil when the policy has no <FaultResponse>.
	FaultResponse *MessageOps
	strict        bool
}

var raiseFaultChildren = map[string]bool{
	"DisplayName": true, "Description": true, "Properties": true, "FaultRules": true,
}

func buildRaiseFault(bc *BuildContext, p *bundle.Policy) Policy {
	before := countErrors(bc.Problems)
	rf := &RaiseFault{Name: p.Name, strict: bc.Options != nil && bc.Options.StrictTemplates}
	for _, el := range p.Element.ChildElements() {
		switch {
		case el.Tag == "FaultResponse":
			for _, ch := range el.ChildElements() {
				if !IsMessageOp(ch.Tag) {
					bc.Problems.Warnf(p.Doc.Pos(ch), "unknown element <%s> in <FaultResponse>, ignored", ch.Tag)
				}
			}
			rf.FaultResponse = CompileMessageOps(bc, p, el)
		case el.Tag == "IgnoreUnresolvedVariables":
			rf.IgnoreUnresolved = boolText(bc, p.Doc, el)
		case el.Tag == "ShortFaultReason":
			rf.ShortFaultReason = boolText(bc, p.Doc, el)
		case raiseFaultChildren[el.Tag]:
		default:
			bc.Problems.Warnf(p.Doc.Pos(el), "unknown element <%s> in <RaiseFault>, ignored", el.Tag)
		}
	}
	if countErrors(bc.Problems) > before {
		return nil
	}
	return rf
}

// Execute builds the error response and returns the RaiseFault fault. A
// FaultResponse operation that fails (an unresolved Copy source, a
// read-only AssignVariable) does not change the fault: it becomes the
// fault's Cause, and the remaining operations still run.
func (rf *RaiseFault) Execute(_ context.Context, x *exchange.Exchange) error {
	f := &Fault{
		Name:        "RaiseFault",
		Code:        "steps.raisefault.RaiseFault",
		FaultString: "Raising fault. Fault name : " + rf.Name,
		Status:      http.StatusInternalServerError,
		Source:      "policy",
		Policy:      rf.Name,
	}
	if rf.FaultResponse == nil {
		return f
	}
	resp := exchange.NewResponse()
	resp.Status = http.StatusInternalServerError
	resp.Reason = http.StatusText(http.StatusInternalServerError)
	oc := &OpsContext{
		X: x, Policy: rf.Name, Kind: "RaiseFault", Prefix: "raisefault",
		IgnoreUnresolved: rf.IgnoreUnresolved, StrictTemplates: rf.strict,
	}
	for _, op := range rf.FaultResponse.ops {
		if err := op.apply(oc, resp); err != nil && f.Cause == nil {
			f.Cause = err
		}
	}
	f.Status = resp.Status
	f.Response = resp
	return f
}
