package policy

import (
	"fmt"
	"strings"

	"github.com/beevik/etree"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
	"github.com/apigo/apigo/policy/template"
)

// This file holds the message operations AssignMessage, RaiseFault's
// FaultResponse and ServiceCallout's <Request> share: Copy, Remove, Add, Set
// and AssignVariable. They are compiled once into MessageOps and applied, in
// document order, to one target message per execution.

// MessageOps is a compiled, immutable list of message operations.
type MessageOps struct {
	ops []msgOp
}

// Len is the number of compiled operations.
func (m *MessageOps) Len() int {
	if m == nil {
		return 0
	}
	return len(m.ops)
}

// OpsContext is what applying operations needs for one execution.
type OpsContext struct {
	X *exchange.Exchange
	// Policy is the policy's name; Kind its type ("AssignMessage") and
	// Prefix its fault prefix ("assignmessage"), used in fault codes and
	// faultstrings.
	Policy, Kind, Prefix string
	// IgnoreUnresolved is the policy's IgnoreUnresolvedVariables.
	IgnoreUnresolved bool
	// StrictTemplates makes an unresolved template reference a fault when
	// IgnoreUnresolved is false.
	StrictTemplates bool
}

// Apply runs the operations in order against msg. It stops at the first
// failure and returns it as a *Fault.
func (m *MessageOps) Apply(oc *OpsContext, msg *exchange.Message) error {
	if m == nil {
		return nil
	}
	for _, op := range m.ops {
		if err := op.apply(oc, msg); err != nil {
			return err
		}
	}
	return nil
}

// msgOp is one compiled operation. msg may be nil only for operations that
// do not need a message (AssignVariable).
type msgOp interface {
	apply(oc *OpsContext, msg *exchange.Message) error
}

// IsMessageOp reports whether tag names an element CompileMessageOps
// handles.
func IsMessageOp(tag string) bool {
	switch tag {
	case "Copy", "Remove", "Add", "Set", "AssignVariable":
		return true
	}
	return false
}

// CompileMessageOps compiles the Copy, Remove, Add, Set and AssignVariable
// children of parent, in document order. Other children are left to the
// caller. Problems are reported with positions through bc.
func CompileMessageOps(bc *BuildContext, p *bundle.Policy, parent *etree.Element) *MessageOps {
	c := &opCompiler{bc: bc, doc: p.Doc}
	m := &MessageOps{}
	for _, el := range parent.ChildElements() {
		switch el.Tag {
		case "Copy":
			m.ops = append(m.ops, c.copyOp(el))
		case "Remove":
			m.ops = append(m.ops, c.removeOp(el))
		case "Add":
			m.ops = append(m.ops, c.addOps(el)...)
		case "Set":
			m.ops = append(m.ops, c.setOps(el)...)
		case "AssignVariable":
			if op := c.assignVariable(el); op != nil {
				m.ops = append(m.ops, op)
			}
		}
	}
	return m
}

// opCompiler carries what compiling one policy's operations needs.
type opCompiler struct {
	bc  *BuildContext
	doc *bundle.Doc
}

func (c *opCompiler) pos(el *etree.Element) bundle.Pos { return c.doc.Pos(el) }

func (c *opCompiler) errorf(el *etree.Element, format string, args ...any) {
	c.bc.Problems.Errorf(c.pos(el), format, args...)
}

func (c *opCompiler) warnf(el *etree.Element, format string, args ...any) {
	c.bc.Problems.Warnf(c.pos(el), format, args...)
}

func (c *opCompiler) unknownChild(parent, el *etree.Element) {
	c.warnf(el, "unknown element <%s> in <%s>, ignored", el.Tag, parent.Tag)
}

// template compiles text found in el. A syntax error is reported at el and
// gives nil.
func (c *opCompiler) template(el *etree.Element, text string, opts ...template.Option) *template.Template {
	t, err := template.Parse(text, opts...)
	if err != nil {
		c.errorf(el, "<%s>: invalid message template: %v", el.Tag, err)
		return nil
	}
	return t
}

func (c *opCompiler) boolText(el *etree.Element) bool { return boolText(c.bc, c.doc, el) }

// nameSel selects headers or parameters: All (an empty container), or the
// named ones.
type nameSel struct {
	All   bool
	Names []string
}

// selection reads <Headers/> (all) or <Headers><Header name="a"/>...
func (c *opCompiler) selection(el *etree.Element, itemTag string) *nameSel {
	s := &nameSel{}
	items := el.ChildElements()
	if len(items) == 0 {
		s.All = true
		return s
	}
	for _, it := range items {
		if it.Tag != itemTag {
			c.unknownChild(el, it)
			continue
		}
		name := strings.TrimSpace(it.SelectAttrValue("name", ""))
		if name == "" {
			c.errorf(it, "<%s> without a name attribute", it.Tag)
			continue
		}
		s.Names = append(s.Names, name)
	}
	return s
}

// namedTemplate is <Header name="n">template</Header> and the like.
type namedTemplate struct {
	name  string
	value *template.Template
}

func (c *opCompiler) namedTemplates(el *etree.Element, itemTag string) []namedTemplate {
	var out []namedTemplate
	for _, it := range el.ChildElements() {
		if it.Tag != itemTag {
			c.unknownChild(el, it)
			continue
		}
		name := strings.TrimSpace(it.SelectAttrValue("name", ""))
		if name == "" {
			c.errorf(it, "<%s> without a name attribute", it.Tag)
			continue
		}
		if t := c.template(it, it.Text()); t != nil {
			out = append(out, namedTemplate{name: name, value: t})
		}
	}
	return out
}

// render renders t, failing on unresolved references in strict mode.
func (oc *OpsContext) render(t *template.Template) (string, error) {
	if !oc.StrictTemplates || oc.IgnoreUnresolved {
		return t.Render(oc.X), nil
	}
	s, unresolved := t.Execute(oc.X)
	if len(unresolved) > 0 {
		return "", oc.unresolved(unresolved[0])
	}
	return s, nil
}

// fault builds a 500 policy fault steps.<prefix>.<name>.
func (oc *OpsContext) fault(name, faultString string) *Fault {
	return &Fault{
		Name:        name,
		Code:        "steps." + oc.Prefix + "." + name,
		FaultString: faultString,
		Status:      500,
		Source:      "policy",
		Policy:      oc.Policy,
	}
}

func (oc *OpsContext) unresolved(variable string) *Fault {
	return oc.fault("UnresolvedVariable", fmt.Sprintf("%s[%s]: unable to resolve variable %s", oc.Kind, oc.Policy, variable))
}

func (oc *OpsContext) setFailed(variable string, cause error) *Fault {
	f := oc.fault("SetVariableFailed", fmt.Sprintf("%s[%s]: unable to set variable %s", oc.Kind, oc.Policy, variable))
	f.Cause = cause
	return f
}

func (oc *OpsContext) nonMessage(variable string) *Fault {
	return oc.fault("VariableOfNonMsgType", fmt.Sprintf("%s[%s]: variable %s is not of type message", oc.Kind, oc.Policy, variable))
}

// ResolveMessage finds the message variable name. A missing variable is
// (nil, nil) when IgnoreUnresolved is set, else an UnresolvedVariable fault;
// a variable holding something else is a VariableOfNonMsgType fault.
func (oc *OpsContext) ResolveMessage(name string) (*exchange.Message, error) {
	if m := oc.X.Message(name); m != nil {
		return m, nil
	}
	if v, ok := oc.X.Lookup(name); ok && v != nil {
		if m, isMsg := v.(*exchange.Message); isMsg && m != nil {
			return m, nil
		}
		return nil, oc.nonMessage(name)
	}
	if oc.IgnoreUnresolved {
		return nil, nil
	}
	return nil, oc.unresolved(name)
}

// ---- Copy ----

// copyOp copies parts of a source message into the target.
type copyOp struct {
	source                                       string
	headers, query, form                         *nameSel
	payload, verb, path, version, status, reason bool
}

func (c *opCompiler) copyOp(el *etree.Element) msgOp {
	op := &copyOp{source: strings.TrimSpace(el.SelectAttrValue("source", ""))}
	if op.source == "" {
		op.source = "request"
	}
	for _, ch := range el.ChildElements() {
		switch ch.Tag {
		case "Headers":
			op.headers = c.selection(ch, "Header")
		case "QueryParams":
			op.query = c.selection(ch, "QueryParam")
		case "FormParams":
			op.form = c.selection(ch, "FormParam")
		case "Payload":
			op.payload = c.boolText(ch)
		case "Verb":
			op.verb = c.boolText(ch)
		case "Path":
			op.path = c.boolText(ch)
		case "Version":
			op.version = c.boolText(ch)
		case "StatusCode":
			op.status = c.boolText(ch)
		case "ReasonPhrase":
			op.reason = c.boolText(ch)
		default:
			c.unknownChild(el, ch)
		}
	}
	return op
}

func (op *copyOp) apply(oc *OpsContext, msg *exchange.Message) error {
	src, err := oc.ResolveMessage(op.source)
	if err != nil || src == nil || src == msg {
		return err
	}
	if op.headers != nil {
		copyHeaders(src, msg, op.headers)
	}
	if op.query != nil {
		copyParams(src.Query, &msg.Query, op.query)
	}
	if op.form != nil || op.payload {
		if err := src.Materialize(); err != nil {
			return oc.setFailed(op.source+".content", err)
		}
	}
	if op.form != nil {
		dst, err := formParams(oc, msg)
		if err != nil {
			return err
		}
		copyParams(readForm(src), &dst, op.form)
		writeForm(msg, dst)
	}
	if op.payload {
		dropStream(msg)
		msg.Body = append([]byte(nil), src.Body...)
	}
	op.copyScalars(src, msg)
	return nil
}

func (op *copyOp) copyScalars(src, msg *exchange.Message) {
	if op.verb {
		msg.Verb = src.Verb
	}
	if op.path {
		msg.Path = src.Path
	}
	if op.version {
		msg.Version = src.Version
	}
	if op.status {
		msg.Status = src.Status
	}
	if op.reason {
		msg.Reason = src.Reason
	}
}

func copyHeaders(src, dst *exchange.Message, sel *nameSel) {
	if sel.All {
		for k, vs := range src.Header {
			dst.Header[k] = append([]string(nil), vs...)
		}
		return
	}
	for _, n := range sel.Names {
		k := exchange.CanonicalHeader(n)
		if vs, ok := src.Header[k]; ok {
			dst.Header[k] = append([]string(nil), vs...)
		}
	}
}

func copyParams(src exchange.Params, dst *exchange.Params, sel *nameSel) {
	names := sel.Names
	if sel.All {
		names = src.Names()
	}
	for _, n := range names {
		vs := src.Values(n)
		if vs == nil {
			continue
		}
		dst.Del(n)
		for _, v := range vs {
			dst.Add(n, v)
		}
	}
}

// ---- Remove ----

// removeOp removes headers, parameters or the payload.
type removeOp struct {
	headers, query, form *nameSel
	payload              bool
}

func (c *opCompiler) removeOp(el *etree.Element) msgOp {
	op := &removeOp{}
	for _, ch := range el.ChildElements() {
		switch ch.Tag {
		case "Headers":
			op.headers = c.selection(ch, "Header")
		case "QueryParams":
			op.query = c.selection(ch, "QueryParam")
		case "FormParams":
			op.form = c.selection(ch, "FormParam")
		case "Payload":
			op.payload = c.boolText(ch)
		default:
			c.unknownChild(el, ch)
		}
	}
	return op
}

func (op *removeOp) apply(oc *OpsContext, msg *exchange.Message) error {
	if op.headers != nil {
		if op.headers.All {
			msg.Header = make(map[string][]string)
		}
		for _, n := range op.headers.Names {
			msg.Header.Del(n)
		}
	}
	if op.query != nil {
		if op.query.All {
			msg.Query = nil
		}
		for _, n := range op.query.Names {
			msg.Query.Del(n)
		}
	}
	if op.form != nil {
		if err := removeForm(oc, msg, op.form); err != nil {
			return err
		}
	}
	if op.payload {
		dropStream(msg)
		msg.Body = nil
	}
	return nil
}

func removeForm(oc *OpsContext, msg *exchange.Message, sel *nameSel) error {
	if !isForm(msg) {
		return nil
	}
	ps, err := formParams(oc, msg)
	if err != nil {
		return err
	}
	if sel.All {
		ps = nil
	}
	for _, n := range sel.Names {
		ps.Del(n)
	}
	msg.Body = []byte(ps.Encode())
	return nil
}

// ---- Add and Set of headers and parameters ----

// paramsOp adds or sets headers, query or form parameters.
type paramsOp struct {
	kind  paramKind
	set   bool // Set replaces, Add appends
	items []namedTemplate
}

type paramKind int

const (
	kindHeaders paramKind = iota
	kindQuery
	kindForm
)

func (c *opCompiler) addOps(el *etree.Element) []msgOp {
	var ops []msgOp
	for _, ch := range el.ChildElements() {
		if op := c.paramsOp(ch, false); op != nil {
			ops = append(ops, op)
			continue
		}
		c.unknownChild(el, ch)
	}
	return ops
}

// paramsOp compiles Headers, QueryParams or FormParams; nil for any other
// element.
func (c *opCompiler) paramsOp(el *etree.Element, set bool) msgOp {
	var kind paramKind
	var item string
	switch el.Tag {
	case "Headers":
		kind, item = kindHeaders, "Header"
	case "QueryParams":
		kind, item = kindQuery, "QueryParam"
	case "FormParams":
		kind, item = kindForm, "FormParam"
	default:
		return nil
	}
	return &paramsOp{kind: kind, set: set, items: c.namedTemplates(el, item)}
}

func (op *paramsOp) apply(oc *OpsContext, msg *exchange.Message) error {
	values := make([]string, len(op.items))
	for i, it := range op.items {
		v, err := oc.render(it.value)
		if err != nil {
			return err
		}
		values[i] = v
	}
	switch op.kind {
	case kindHeaders:
		for i, it := range op.items {
			if op.set {
				msg.Header.Set(it.name, values[i])
			} else {
				msg.Header.Add(it.name, values[i])
			}
		}
	case kindQuery:
		applyParams(&msg.Query, op, values)
	case kindForm:
		ps, err := formParams(oc, msg)
		if err != nil {
			return err
		}
		applyParams(&ps, op, values)
		writeForm(msg, ps)
	}
	return nil
}

func applyParams(ps *exchange.Params, op *paramsOp, values []string) {
	for i, it := range op.items {
		if op.set {
			ps.Set(it.name, values[i])
		} else {
			ps.Add(it.name, values[i])
		}
	}
}

// ---- form bodies ----

const formType = "application/x-www-form-urlencoded"

// isForm reports whether msg's body is (or may become) a form: its
// Content-Type says so, or it has none.
func isForm(msg *exchange.Message) bool {
	ct := msg.ContentType()
	return ct == formType || ct == ""
}

// readForm parses msg's body as a form, nil when it is not one.
func readForm(msg *exchange.Message) exchange.Params {
	if !isForm(msg) {
		return nil
	}
	return exchange.ParseParams(string(msg.Body))
}

// formParams reads the current form parameters of msg (materializing the
// body first).
func formParams(oc *OpsContext, msg *exchange.Message) (exchange.Params, error) {
	if err := msg.Materialize(); err != nil {
		return nil, oc.setFailed("message.content", err)
	}
	return readForm(msg), nil
}

// writeForm makes msg's body the encoded form, and its Content-Type the
// form type when it has none.
func writeForm(msg *exchange.Message, ps exchange.Params) {
	dropStream(msg)
	msg.Body = []byte(ps.Encode())
	if msg.Header.Get("Content-Type") == "" {
		msg.Header.Set("Content-Type", formType)
	}
}

func dropStream(msg *exchange.Message) {
	if msg.Stream != nil {
		msg.Stream.Close()
		msg.Stream = nil
	}
}

// ---- Set ----

// scalarOp sets one of Verb, Path, Version, StatusCode, ReasonPhrase.
type scalarOp struct {
	field string
	value *template.Template
}

// payloadOp is Set/Payload.
type payloadOp struct {
	contentType *template.Template // nil when the attribute is absent
	body        *template.Template
}

func (c *opCompiler) setOps(el *etree.Element) []msgOp {
	var ops []msgOp
	for _, ch := range el.ChildElements() {
		if op := c.paramsOp(ch, true); op != nil {
			ops = append(ops, op)
			continue
		}
		switch ch.Tag {
		case "Verb", "Path", "Version", "StatusCode", "ReasonPhrase":
			if t := c.template(ch, strings.TrimSpace(ch.Text())); t != nil {
				ops = append(ops, &scalarOp{field: ch.Tag, value: t})
			}
		case "Payload":
			if op := c.payloadOp(ch); op != nil {
				ops = append(ops, op)
			}
		default:
			c.unknownChild(el, ch)
		}
	}
	return ops
}

func (op *scalarOp) apply(oc *OpsContext, msg *exchange.Message) error {
	v, err := oc.render(op.value)
	if err != nil {
		return err
	}
	v = strings.TrimSpace(v)
	switch op.field {
	case "Verb":
		msg.Verb = strings.ToUpper(v)
	case "Path":
		setPath(msg, v)
	case "Version":
		msg.Version = strings.TrimPrefix(v, "HTTP/")
	case "ReasonPhrase":
		msg.Reason = v
	case "StatusCode":
		return setStatus(oc, msg, v)
	}
	return nil
}

// setPath sets the path; a query string in the value is added to the
// message's query parameters.
func setPath(msg *exchange.Message, v string) {
	p, q, hasQuery := strings.Cut(v, "?")
	msg.Path = p
	if hasQuery {
		for _, kv := range exchange.ParseParams(q) {
			msg.Query.Add(kv.Name, kv.Value)
		}
	}
}

// setStatus parses a rendered status code. An empty value (an unresolved
// template with IgnoreUnresolvedVariables) leaves the status unchanged.
func setStatus(oc *OpsContext, msg *exchange.Message, v string) error {
	if v == "" {
		return nil
	}
	code, ok := parseStatus(v)
	if !ok {
		return oc.fault("SetVariableFailed", fmt.Sprintf("%s[%s]: invalid status code %q", oc.Kind, oc.Policy, v))
	}
	msg.Status = code
	return nil
}

func parseStatus(v string) (int, bool) {
	if len(v) != 3 {
		return 0, false
	}
	n := 0
	for _, r := range v {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = n*10 + int(r-'0')
	}
	return n, n >= 100
}

func (c *opCompiler) payloadOp(el *etree.Element) msgOp {
	var opts []template.Option
	prefix, suffix := el.SelectAttrValue("variablePrefix", ""), el.SelectAttrValue("variableSuffix", "")
	if prefix != "" || suffix != "" {
		if prefix == "" || suffix == "" {
			c.errorf(el, "<Payload>: variablePrefix and variableSuffix must be set together")
			return nil
		}
		opts = append(opts, template.Delimiters(prefix, suffix))
	}
	op := &payloadOp{body: c.payloadTemplate(el, opts)}
	if op.body == nil {
		return nil
	}
	if ct := el.SelectAttr("contentType"); ct != nil {
		if op.contentType = c.template(el, strings.TrimSpace(ct.Value)); op.contentType == nil {
			return nil
		}
	}
	return op
}

func (op *payloadOp) apply(oc *OpsContext, msg *exchange.Message) error {
	body, err := oc.render(op.body)
	if err != nil {
		return err
	}
	if op.contentType != nil {
		ct, err := oc.render(op.contentType)
		if err != nil {
			return err
		}
		if ct != "" {
			msg.Header.Set("Content-Type", ct)
		}
	}
	dropStream(msg)
	msg.Body = []byte(body)
	return nil
}

// payloadTemplate compiles a Payload. Payloads often embed JavaScript or
// CSS braces ({search(this.value); ...}) that are not references: a syntax
// error is a warning and the malformed braces stay literal text.
func (c *opCompiler) payloadTemplate(el *etree.Element, opts []template.Option) *template.Template {
	text := PayloadText(el)
	t, err := template.Parse(text, opts...)
	if err == nil {
		return t
	}
	c.warnf(el, "<Payload>: %v; the malformed reference is kept as literal text", err)
	return c.template(el, text, append(opts, template.Lenient())...)
}

// PayloadText is the content of a <Payload> element as a template: its
// text and any child XML elements, serialized as written. Leading or
// trailing whitespace that contains a line break is the indentation of the
// policy file and is trimmed; other whitespace is kept.
func PayloadText(el *etree.Element) string {
	var b strings.Builder
	for _, tok := range el.Child {
		switch t := tok.(type) {
		case *etree.CharData:
			b.WriteString(t.Data)
		case *etree.Element:
			t.WriteTo(&b, &etree.WriteSettings{})
		}
	}
	return trimIndent(b.String())
}

func trimIndent(s string) string {
	trimmed := strings.TrimLeft(s, " \t\r\n")
	if strings.ContainsRune(s[:len(s)-len(trimmed)], '\n') {
		s = trimmed
	}
	trimmed = strings.TrimRight(s, " \t\r\n")
	if strings.ContainsRune(s[len(trimmed):], '\n') {
		s = trimmed
	}
	return s
}
