package policy

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/beevik/etree"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
	"github.com/apigo/apigo/policy/template"
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
	if at.Variable == "response" && x.Response() == nil {
		// Apigee's request segments have an empty response placeholder.
		r := exchange.NewResponse()
		x.SetResponse(r)
		return r, nil
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

// AssignVariable is compiled here with the other message operations
// (CompileMessageOps); it is AssignMessage's, shared with RaiseFault.

// assignVariableOp sets one flow variable. The value is the first source
// that yields one: Ref (when it resolves to non-null), PropertySetRef,
// ResourceURL, Template (inline or ref), Value.
type assignVariableOp struct {
	name     string
	ref      string
	propSet  *template.Template
	resource *string
	tmpl     *template.Template
	tmplRef  string
	tmplVars *templateCache
	value    *string
}

func (c *opCompiler) assignVariable(el *etree.Element) msgOp {
	op := &assignVariableOp{}
	for _, ch := range el.ChildElements() {
		c.assignVariableChild(op, ch)
	}
	if op.name == "" {
		c.errorf(el, "<AssignVariable> without a <Name>")
		return nil
	}
	return op
}

func (c *opCompiler) assignVariableChild(op *assignVariableOp, ch *etree.Element) {
	text := strings.TrimSpace(ch.Text())
	switch ch.Tag {
	case "Name":
		op.name = text
	case "Ref":
		if strings.ContainsAny(text, "{}") {
			c.errorf(ch, "<Ref> must be a variable name without braces, got %q", text)
			return
		}
		op.ref = text
	case "Value":
		v := ch.Text()
		op.value = &v
	case "Template":
		if r := strings.TrimSpace(ch.SelectAttrValue("ref", "")); r != "" {
			op.tmplRef, op.tmplVars = r, &templateCache{}
			return
		}
		op.tmpl = c.template(ch, ch.Text())
	case "PropertySetRef":
		op.propSet = c.template(ch, text)
	case "ResourceURL":
		op.resource = c.resource(ch, text)
	default:
		c.unknownChild(ch.Parent(), ch)
	}
}

// resource finds a bundle resource such as jsc://data.json.
func (c *opCompiler) resource(el *etree.Element, url string) *string {
	if c.bc.Bundle != nil {
		if b, ok := c.bc.Bundle.Resources[url]; ok {
			s := string(b)
			return &s
		}
	}
	c.errorf(el, "<ResourceURL>: resource %q not found in the bundle", url)
	return nil
}

func (op *assignVariableOp) apply(oc *OpsContext, _ *exchange.Message) error {
	v, found, err := op.resolve(oc)
	if err != nil {
		return err
	}
	if !found {
		if op.ref != "" && oc.StrictTemplates && !oc.IgnoreUnresolved {
			return oc.unresolved(op.ref)
		}
		return nil
	}
	if err := oc.X.Set(op.name, v); err != nil {
		return oc.setFailed(op.name, err)
	}
	return nil
}

func (op *assignVariableOp) resolve(oc *OpsContext) (any, bool, error) {
	if op.ref != "" {
		if v, ok := oc.X.Lookup(op.ref); ok && v != nil {
			return v, true, nil
		}
	}
	if op.propSet != nil {
		if v, ok, err := op.propertySet(oc); ok || err != nil {
			return v, ok, err
		}
	}
	if op.resource != nil {
		return *op.resource, true, nil
	}
	if op.tmpl != nil {
		s, err := oc.render(op.tmpl)
		return s, err == nil, err
	}
	if op.tmplRef != "" {
		if s, ok, err := op.renderRef(oc); ok || err != nil {
			return s, ok, err
		}
	}
	if op.value != nil {
		return *op.value, true, nil
	}
	return nil, false, nil
}

// propertySet renders PropertySetRef to "set.key" and reads
// propertyset.set.key.
func (op *assignVariableOp) propertySet(oc *OpsContext) (any, bool, error) {
	ref, err := oc.render(op.propSet)
	if err != nil {
		return nil, false, err
	}
	if strings.Count(ref, ".") != 1 {
		return nil, false, nil
	}
	v, ok := oc.X.Lookup("propertyset." + ref)
	return v, ok && v != nil, nil
}

// renderRef renders the template held by the variable tmplRef. Its text
// is only known per request; parsed templates are cached.
func (op *assignVariableOp) renderRef(oc *OpsContext) (string, bool, error) {
	text, ok := oc.X.GetString(op.tmplRef)
	if !ok {
		return "", false, nil
	}
	t, err := op.tmplVars.get(text)
	if err != nil {
		return "", false, oc.setFailed(op.name, fmt.Errorf("template in %s: %w", op.tmplRef, err))
	}
	s, err := oc.render(t)
	return s, err == nil, err
}

// templateCache holds templates parsed at run time, keyed by their text.
// It stops growing at templateCacheMax entries.
type templateCache struct {
	mu sync.RWMutex
	m  map[string]*template.Template
}

const templateCacheMax = 256

func (tc *templateCache) get(text string) (*template.Template, error) {
	tc.mu.RLock()
	t, ok := tc.m[text]
	tc.mu.RUnlock()
	if ok {
		return t, nil
	}
	t, err := template.Parse(text)
	if err != nil {
		return nil, err
	}
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.m == nil {
		tc.m = map[string]*template.Template{}
	}
	if len(tc.m) < templateCacheMax {
		tc.m[text] = t
	}
	return t, nil
}
