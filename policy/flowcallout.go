package policy

import (
	"context"
	"strings"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
	"github.com/apigo/apigo/policy/template"
)

func init() { Register("FlowCallout", "flowcallout", buildFlowCallout) }

// FlowCallout runs a deployed shared flow inline, in the same message
// context: its Parameters are set as flow variables first, variables and
// messages are shared both ways, and a fault inside reaches the caller's
// fault handling unchanged.
type FlowCallout struct {
	Name       string
	SharedFlow string
	Params     []FlowCalloutParam
}

// FlowCalloutParam is one <Parameter name="n" ref="v">literal</Parameter>.
type FlowCalloutParam struct {
	Name  string
	Ref   string             // variable to copy, "" for a literal
	Value *template.Template // literal text (a message template)
}

func buildFlowCallout(bc *BuildContext, p *bundle.Policy) Policy {
	before := countErrors(bc.Problems)
	fc := &FlowCallout{Name: p.Name}
	for _, el := range p.Element.ChildElements() {
		switch el.Tag {
		case "SharedFlowBundle":
			fc.SharedFlow = strings.TrimSpace(el.Text())
			if fc.SharedFlow != "" && bc.SharedFlows != nil && !bc.SharedFlows[fc.SharedFlow] {
				// A warning, so one proxy of a workspace validates on its own;
				// running the step then faults with SharedFlowNotFound.
				bc.Problems.Warnf(p.Doc.Pos(el), "FlowCallout %q: shared flow %q is not deployed (SharedFlowDoesNotExist); the step faults when it runs", p.Name, fc.SharedFlow)
			}
		case "Parameters":
			for _, pe := range el.SelectElements("Parameter") {
				fp := FlowCalloutParam{Name: pe.SelectAttrValue("name", ""), Ref: pe.SelectAttrValue("ref", "")}
				if fp.Name == "" {
					bc.Problems.Errorf(p.Doc.Pos(pe), "FlowCallout %q: <Parameter> without a name", p.Name)
					continue
				}
				if fp.Ref == "" {
					t, err := template.Parse(strings.TrimSpace(pe.Text()))
					if err != nil {
						bc.Problems.Errorf(p.Doc.Pos(pe), "FlowCallout %q: parameter %s: %v", p.Name, fp.Name, err)
						continue
					}
					fp.Value = t
				}
				fc.Params = append(fc.Params, fp)
			}
		case "DisplayName", "Description", "Properties", "FaultRules":
		default:
			bc.Problems.Warnf(p.Doc.Pos(el), "unknown element <%s> in <FlowCallout>, ignored", el.Tag)
		}
	}
	if fc.SharedFlow == "" {
		bc.Problems.Errorf(p.Pos, "FlowCallout %q has no <SharedFlowBundle>", p.Name)
	}
	if countErrors(bc.Problems) > before {
		return nil
	}
	return fc
}

// Execute sets the parameters and runs the shared flow.
func (fc *FlowCallout) Execute(ctx context.Context, x *exchange.Exchange) error {
	for _, p := range fc.Params {
		var v any
		if p.Ref != "" {
			v = x.Get(p.Ref)
		} else {
			v = p.Value.Render(x)
		}
		if err := x.Set(p.Name, v); err != nil {
			return &Fault{Name: "ExecutionFailed", Code: "steps.flowcallout.ExecutionFailed", Status: 500,
				FaultString: "FlowCallout[" + fc.Name + "]: " + err.Error(), Source: "policy", Policy: fc.Name, Cause: err}
		}
	}
	r := SharedFlowRunnerFrom(ctx)
	if r == nil {
		return &Fault{Name: "ExecutionFailed", Code: "steps.flowcallout.ExecutionFailed", Status: 500,
			FaultString: "FlowCallout[" + fc.Name + "]: no engine to run shared flow " + fc.SharedFlow, Source: "policy", Policy: fc.Name}
	}
	return r.RunSharedFlow(ctx, x, fc.SharedFlow)
}
