package policy

import (
	"context"
	"strings"

	"github.com/beevik/etree"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
)

func init() { Register("AssignMessage", "assignmessage", buildAssignMessage) }

// AssignMessage is a built <AssignMessage> policy: it picks a target
// message (AssignTo) and applies Copy, Remove, Add, Set and AssignVariable
// to it in document order.
type AssignMessage struct {
	Name             string
	AssignTo         AssignTo
	IgnoreUnresolved bool // IgnoreUnresolvedVariables, default false
	Ops              *MessageOps
	strict           bool
}

// AssignTo is the <AssignTo> element.
type AssignTo struct {
	// Variable is the message variable's name; "" means the flow's current
	// message.
	Variable string
	// CreateNew is the createNew attribute; CreateNewSet tells an explicit
	// createNew="false" from an absent attribute.
	CreateNew, CreateNewSet bool
	// Type is "request", "response" or "" (attribute absent).
	Type string
}

// assignMessageChildren are the non-operation children AssignMessage
// accepts.
var assignMessageChildren = map[string]bool{
	"AssignTo": true, "IgnoreUnresolvedVariables": true, "DisplayName": true,
	"Description": true, "Properties": true, "FaultRules": true,
}

func buildAssignMessage(bc *BuildContext, p *bundle.Policy) Policy {
	before := countErrors(bc.Problems)
	am := &AssignMessage{
		Name:   p.Name,
		Ops:    CompileMessageOps(bc, p, p.Element),
		strict: bc.Options != nil && bc.Options.StrictTemplates,
	}
	for _, el := range p.Element.ChildElements() {
		switch {
		case el.Tag == "AssignTo":
			am.AssignTo = compileAssignTo(bc, p, el)
		case el.Tag == "IgnoreUnresolvedVariables":
			am.IgnoreUnresolved = boolText(bc, p.Doc, el)
		case IsMessageOp(el.Tag), assignMessageChildren[el.Tag]:
		default:
			bc.Problems.Warnf(p.Doc.Pos(el), "unknown element <%s> in <AssignMessage>, ignored", el.Tag)
		}
	}
	if countErrors(bc.Problems) > before {
		return nil
	}
	return am
}

func compileAssignTo(bc *BuildContext, p *bundle.Policy, el *etree.Element) AssignTo {
	at := AssignTo{Variable: strings.TrimSpace(el.Text())}
	if a := el.SelectAttr("createNew"); a != nil {
		at.CreateNewSet = true
		at.CreateNew = parseBoolAttr(bc, p, el, a)
	}
	if a := el.SelectAttr("type"); a != nil {
		switch t := strings.ToLower(strings.TrimSpace(a.Value)); t {
		case "request", "response":
			at.Type = t
		default:
			bc.Problems.Warnf(p.Doc.Pos(el), "<AssignTo> type %q is not request or response; ignored", a.Value)
		}
	}
	if a := el.SelectAttr("transport"); a != nil && !strings.EqualFold(strings.TrimSpace(a.Value), "http") {
		bc.Problems.Warnf(p.Doc.Pos(el), "<AssignTo> transport %q is not http; ignored", a.Value)
	}
	return at
}

// Execute applies the operations to the target message.
func (am *AssignMessage) Execute(_ context.Context, x *exchange.Exchange) error {
	oc := &OpsContext{
		X: x, Policy: am.Name, Kind: "AssignMessage", Prefix: "assignmessage",
		IgnoreUnresolved: am.IgnoreUnresolved, StrictTemplates: am.strict,
	}
	msg, err := am.target(oc)
	if err != nil {
		return err
	}
	return am.Ops.Apply(oc, msg)
}

// target resolves AssignTo to the message to modify, creating it when
// AssignTo asks for a new one.
func (am *AssignMessage) target(oc *OpsContext) (*exchange.Message, error) {
	at, x := am.AssignTo, oc.X
	if at.CreateNew {
		m := newMessage(at.Type, x)
		name := at.Variable
		if name == "" {
			name = kindName(m)
		}
		x.SetMessage(name, m)
		return m, nil
	}
	if at.Variable == "" {
		return am.currentTarget(x), nil
	}
	m, err := oc.ResolveMessage(at.Variable)
	if m != nil || !isUnresolved(err) && err != nil {
		return m, err
	}
	// A missing variable: create it unless createNew="false" was explicit
	// and unresolved variables are not ignored.
	if at.CreateNewSet && err != nil {
		return nil, err
	}
	m = newMessage(at.Type, x)
	x.SetMessage(at.Variable, m)
	return m, nil
}

// currentTarget is the message an AssignTo without a variable name
// modifies: the current message, except that type="response" in a request
// segment selects the response (created empty when there is none yet).
func (am *AssignMessage) currentTarget(x *exchange.Exchange) *exchange.Message {
	cur := x.Current()
	if am.AssignTo.Type == "response" && (cur == nil || cur.IsRequest) {
		if r := x.Response(); r != nil {
			return r
		}
		r := exchange.NewResponse()
		x.SetResponse(r)
		return r
	}
	if cur == nil {
		return x.Request()
	}
	return cur
}

// newMessage makes an empty message of type typ; with no type, of the kind
// of the current message.
func newMessage(typ string, x *exchange.Exchange) *exchange.Message {
	if typ == "" {
		if cur := x.Current(); cur != nil && !cur.IsRequest {
			typ = "response"
		}
	}
	if typ == "response" {
		return exchange.NewResponse()
	}
	return exchange.NewRequest()
}

func kindName(m *exchange.Message) string {
	if m.IsRequest {
		return "request"
	}
	return "response"
}

func isUnresolved(err error) bool {
	f, ok := err.(*Fault)
	return ok && f.Name == "UnresolvedVariable"
}

// boolText reads <IgnoreUnresolvedVariables>true</...>-style flags; other
// text than true or false is a warning and reads false.
func boolText(bc *BuildContext, doc *bundle.Doc, el *etree.Element) bool {
	switch s := strings.ToLower(strings.TrimSpace(el.Text())); s {
	case "true":
		return true
	case "false", "":
		return false
	}
	bc.Problems.Warnf(doc.Pos(el), "<%s>: %q is not true or false; treated as false", el.Tag, strings.TrimSpace(el.Text()))
	return false
}

func parseBoolAttr(bc *BuildContext, p *bundle.Policy, el *etree.Element, a *etree.Attr) bool {
	switch strings.ToLower(strings.TrimSpace(a.Value)) {
	case "true":
		return true
	case "false":
		return false
	}
	bc.Problems.Warnf(p.Doc.Pos(el), "<%s> %s=%q is not true or false; treated as false", el.Tag, a.Key, a.Value)
	return false
}

func countErrors(ps *bundle.Problems) int {
	n := 0
	for _, p := range ps.List {
		if p.Severity == bundle.Error {
			n++
		}
	}
	return n
}
