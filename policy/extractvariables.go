package policy

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/beevik/etree"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
	"github.com/apigo/apigo/policy/template"
)

func init() { Register("ExtractVariables", "extractvariables", buildExtractVariables) }

// ExtractVariables is a built <ExtractVariables> policy. Its extractors run
// in document order, so a later one overwrites a variable an earlier one
// set, as in Apigee.
type ExtractVariables struct {
	Name string
	// Source is the message to read. Default "message".
	Source string
	// ClearPayload empties the source body afterwards (clearPayload).
	ClearPayload bool
	// Prefix is VariablePrefix: names become Prefix + "." + name.
	Prefix string
	// IgnoreUnresolved is IgnoreUnresolvedVariables (default false): a
	// missing source message is skipped instead of faulting.
	IgnoreUnresolved bool

	extractors []extractor
}

// extractor is one URIPath, QueryParam, Header, FormParam, Variable,
// JSONPayload or XMLPayload element.
type extractor interface {
	extract(ec *evContext) error
}

// evContext is one execution of the policy.
type evContext struct {
	ev  *ExtractVariables
	x   *exchange.Exchange
	src string // the source's variable name
	msg *exchange.Message
}

func buildExtractVariables(bc *BuildContext, p *bundle.Policy) Policy {
	before := countErrors(bc.Problems)
	ev := &ExtractVariables{Name: p.Name, Source: "message"}
	c := &evCompiler{bc: bc, p: p}
	for _, el := range p.Element.ChildElements() {
		if x := c.child(ev, el); x != nil {
			ev.extractors = append(ev.extractors, x)
		}
	}
	if len(ev.extractors) == 0 && countErrors(bc.Problems) == before && !hasExtractElement(p.Element) {
		bc.Problems.Errorf(p.Doc.Pos(p.Element), "NothingToExtract: <ExtractVariables> %q has no URIPath, QueryParam, Header, FormParam, Variable, JSONPayload or XMLPayload", p.Name)
	}
	if countErrors(bc.Problems) > before {
		return nil
	}
	return ev
}

// hasExtractElement reports whether el has any extraction element, even
// an empty one.
func hasExtractElement(el *etree.Element) bool {
	for _, ch := range el.ChildElements() {
		switch ch.Tag {
		case "URIPath", "QueryParam", "Header", "FormParam", "Variable", "JSONPayload", "XMLPayload":
			return true
		}
	}
	return false
}

type evCompiler struct {
	bc       *BuildContext
	p        *bundle.Policy
	payloads int
}

func (c *evCompiler) errorf(el *etree.Element, format string, args ...any) {
	c.bc.Problems.Errorf(c.p.Doc.Pos(el), format, args...)
}

// child compiles one child element; settings return nil.
func (c *evCompiler) child(ev *ExtractVariables, el *etree.Element) extractor {
	switch el.Tag {
	case "Source":
		ev.Source = strings.TrimSpace(el.Text())
		if ev.Source == "" {
			ev.Source = "message"
		}
		if a := el.SelectAttr("clearPayload"); a != nil {
			ev.ClearPayload = parseBoolAttr(c.bc, c.p, el, a)
		}
	case "VariablePrefix":
		ev.Prefix = strings.TrimSpace(el.Text())
	case "IgnoreUnresolvedVariables":
		ev.IgnoreUnresolved = boolText(c.bc, c.p.Doc, el)
	case "URIPath":
		return c.uriPath(el)
	case "QueryParam", "Header", "FormParam", "Variable":
		return c.named(el)
	case "JSONPayload", "XMLPayload":
		if c.payloads++; c.payloads > 1 {
			c.bc.Problems.Warnf(c.p.Doc.Pos(el), "<ExtractVariables> should hold at most one JSONPayload or XMLPayload")
		}
		if el.Tag == "JSONPayload" {
			return c.jsonPayload(el)
		}
		return c.xmlPayload(el)
	case "DisplayName", "Description", "Properties", "FaultRules":
	default:
		c.bc.Problems.Warnf(c.p.Doc.Pos(el), "unknown element <%s> in <ExtractVariables>, ignored", el.Tag)
	}
	return nil
}

// patterns compiles the <Pattern> children of el.
func (c *evCompiler) patterns(el *etree.Element, path bool) []*Pattern {
	var out []*Pattern
	for _, ch := range el.ChildElements() {
		if ch.Tag != "Pattern" {
			c.bc.Problems.Warnf(c.p.Doc.Pos(ch), "unknown element <%s> in <%s>, ignored", ch.Tag, el.Tag)
			continue
		}
		ignoreCase := false
		if a := ch.SelectAttr("ignoreCase"); a != nil {
			ignoreCase = parseBoolAttr(c.bc, c.p, ch, a)
		}
		pat, err := CompilePattern(ch.Text(), ignoreCase, path)
		if err != nil {
			c.bc.Problems.Errorf(c.p.Doc.TextPos(ch), "%v", err)
			continue
		}
		out = append(out, pat)
	}
	if len(out) == 0 && len(el.ChildElements()) == 0 {
		// Apigee deploys UI-generated placeholders such as <Header name="name"/>.
		c.bc.Problems.Warnf(c.p.Doc.Pos(el), "<%s> has no <Pattern>; it extracts nothing", el.Tag)
	}
	return out
}

func (c *evCompiler) uriPath(el *etree.Element) extractor {
	if ps := c.patterns(el, true); len(ps) > 0 {
		return uriPathExtractor{patterns: ps}
	}
	return nil
}

func (c *evCompiler) named(el *etree.Element) extractor {
	name := strings.TrimSpace(el.SelectAttrValue("name", ""))
	ps := c.patterns(el, false)
	if len(ps) == 0 {
		return nil
	}
	if name == "" {
		c.errorf(el, "MissingName: <%s> needs a name attribute", el.Tag)
		return nil
	}
	return namedExtractor{kind: el.Tag, name: name, patterns: ps}
}

// Execute extracts every configured value into flow variables.
func (ev *ExtractVariables) Execute(_ context.Context, x *exchange.Exchange) error {
	ec := &evContext{ev: ev, x: x, src: ev.Source, msg: x.Message(ev.Source)}
	if ec.msg == nil {
		if v, ok := x.Lookup(ev.Source); ok {
			ec.msg, _ = v.(*exchange.Message)
		}
	}
	if ec.msg == nil {
		if ev.IgnoreUnresolved {
			return nil
		}
		return ev.fault("SourceMessageNotAvailable",
			fmt.Sprintf("%s message is not available for ExtractVariable: %s", ev.Source, ev.Name), nil)
	}
	for _, e := range ev.extractors {
		if err := e.extract(ec); err != nil {
			return err
		}
	}
	if ev.ClearPayload {
		dropStream(ec.msg)
		ec.msg.Body = nil
	}
	return nil
}

func (ev *ExtractVariables) fault(name, text string, cause error) *Fault {
	return &Fault{
		Name: name, Code: "steps.extractvariables." + name, FaultString: text,
		Status: 500, Source: "policy", Policy: ev.Name, Cause: cause,
	}
}

// set stores one extracted value under the prefix.
func (ec *evContext) set(name string, v any) error {
	if ec.ev.Prefix != "" {
		name = ec.ev.Prefix + "." + name
	}
	err := ec.x.Set(name, v)
	if err == nil {
		return nil
	}
	if _, ro := err.(*exchange.ReadOnlyError); ro {
		return ec.ev.fault("ImmutableVariable",
			fmt.Sprintf("Variable %s value is not modifiable in ExtractVariables: %s", name, ec.ev.Name), err)
	}
	return ec.ev.fault("SetVariableFailed",
		fmt.Sprintf("Failed to set variable %s in ExtractVariables: %s", name, ec.ev.Name), err)
}

// ---- URIPath, QueryParam, Header, FormParam, Variable ----

type uriPathExtractor struct{ patterns []*Pattern }

// extract matches proxy.pathsuffix (the path of a request other than the
// proxy request) against every pattern; the matching pattern with the most
// path segments wins, the first on a tie. Response sources do nothing.
func (u uriPathExtractor) extract(ec *evContext) error {
	if !ec.msg.IsRequest {
		return nil
	}
	path := ec.msg.Path
	if ec.msg == ec.x.Request() {
		if s, ok := ec.x.GetString("proxy.pathsuffix"); ok {
			path = s
		}
	}
	var best *Pattern
	var vals []string
	for _, p := range u.patterns {
		if v, ok := p.Match(path); ok && (best == nil || p.segments > best.segments) {
			best, vals = p, v
		}
	}
	if best == nil {
		return nil
	}
	return best.assign(ec, vals)
}

type namedExtractor struct {
	kind, name string // kind: QueryParam, Header, FormParam, Variable
	patterns   []*Pattern
}

// extract reads the named item (indexed names such as "w.2" or
// "h.values" go through the exchange's variable syntax) and assigns the
// captures of the first pattern that matches.
func (n namedExtractor) extract(ec *evContext) error {
	var varName string
	switch n.kind {
	case "QueryParam":
		if !ec.msg.IsRequest {
			return nil
		}
		varName = ec.src + ".queryparam." + n.name
	case "Header":
		varName = ec.src + ".header." + n.name
	case "FormParam":
		varName = ec.src + ".formparam." + n.name
	default:
		varName = n.name
	}
	s, ok := ec.x.GetString(varName)
	if !ok {
		return nil
	}
	for _, p := range n.patterns {
		if vals, ok := p.Match(s); ok {
			return p.assign(ec, vals)
		}
	}
	return nil
}

// ---- Pattern ----

// Pattern is a compiled ExtractVariables <Pattern>: literal text with
// {name} captures, * (and ** in URI paths) wildcards and % escapes. It is
// immutable and safe for concurrent use.
type Pattern struct {
	src      string
	re       *regexp.Regexp
	names    []string
	segments int // '/'-separated segments, for URIPath precedence
}

// CompilePattern compiles a pattern. In a URI path pattern (path true) a
// capture and * stay within one segment and ** spans segments; elsewhere
// a capture or * matches any text. The whole value must match.
func CompilePattern(src string, ignoreCase, path bool) (*Pattern, error) {
	src = strings.TrimSpace(src)
	p := &Pattern{src: src, segments: strings.Count(src, "/")}
	var re strings.Builder
	re.WriteString("^")
	if ignoreCase {
		re.WriteString("(?i)")
	}
	capture, star, any := "(.*?)", ".*?", ".*?"
	if path {
		capture, star, any = "([^/]*)", "[^/]*", ".*"
	}
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '%':
			if i+1 < len(src) {
				i++
			}
			re.WriteString(regexp.QuoteMeta(src[i : i+1]))
		case '{':
			end := strings.IndexByte(src[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("InvalidPattern: unclosed '{' in pattern %q", src)
			}
			name := strings.TrimSpace(src[i+1 : i+end])
			if name == "" || strings.ContainsAny(name, "{%") {
				return nil, fmt.Errorf("InvalidPattern: bad variable name in pattern %q", src)
			}
			p.names = append(p.names, name)
			re.WriteString(capture)
			i += end
		case '*':
			if i+1 < len(src) && src[i+1] == '*' {
				re.WriteString(any)
				i++
			} else {
				re.WriteString(star)
			}
		default:
			re.WriteString(regexp.QuoteMeta(src[i : i+1]))
		}
	}
	re.WriteString("$")
	if len(p.names) == 0 {
		return nil, fmt.Errorf("PatternWithoutVariable: pattern %q has no {variable}", src)
	}
	p.re = regexp.MustCompile(re.String()) // built from quoted pieces: always valid
	return p, nil
}

// String returns the source pattern.
func (p *Pattern) String() string { return p.src }

// Names lists the capture names in order.
func (p *Pattern) Names() []string { return append([]string(nil), p.names...) }

// Match reports whether s matches the whole pattern and returns the
// captured values in Names order.
func (p *Pattern) Match(s string) ([]string, bool) {
	m := p.re.FindStringSubmatch(s)
	if m == nil {
		return nil, false
	}
	return m[1:], true
}

func (p *Pattern) assign(ec *evContext, vals []string) error {
	for i, name := range p.names {
		if err := ec.set(name, vals[i]); err != nil {
			return err
		}
	}
	return nil
}

// ---- JSONPayload and XMLPayload ----

// payloadVar is one <Variable> of a payload: its name, type and compiled
// JSONPath or XPath.
type payloadVar struct {
	name, typ string
	json      *template.JSONPath
	jsonTmpl  *template.Template // a JSONPath with {refs}, compiled per value
	xpath     *template.XPath
}

// payloadExtractor is a JSONPayload (isJSON) or XMLPayload.
type payloadExtractor struct {
	isJSON bool
	vars   []payloadVar
	stop   bool // stopPayloadProcessing
	cache  *jsonPathCache
}

var payloadTypes = map[string]bool{
	"": true, "string": true, "boolean": true, "integer": true, "long": true,
	"float": true, "double": true, "nodeset": true,
}

// payloadVars compiles the <Variable> children of a payload element with
// compile turning the path element's text into the variable's expression.
func (c *evCompiler) payloadVars(el *etree.Element, pathTag string, compile func(*payloadVar, *etree.Element, string) bool) []payloadVar {
	var out []payloadVar
	for _, ch := range el.ChildElements() {
		if ch.Tag != "Variable" {
			if ch.Tag != "Namespaces" {
				c.bc.Problems.Warnf(c.p.Doc.Pos(ch), "unknown element <%s> in <%s>, ignored", ch.Tag, el.Tag)
			}
			continue
		}
		v := payloadVar{name: strings.TrimSpace(ch.SelectAttrValue("name", "")),
			typ: strings.ToLower(strings.TrimSpace(ch.SelectAttrValue("type", "")))}
		if v.name == "" {
			c.errorf(ch, "MissingName: <Variable> in <%s> needs a name attribute", el.Tag)
			continue
		}
		if !payloadTypes[v.typ] {
			c.errorf(ch, "<Variable> type %q is not one of boolean, double, float, integer, long, nodeset, string", v.typ)
			continue
		}
		pe := ch.SelectElement(pathTag)
		if pe == nil {
			c.errorf(ch, "No%ssToEvaluate: <Variable name=%q> has no <%s>", strings.ToUpper(pathTag[:1])+pathTag[1:], v.name, pathTag)
			continue
		}
		text := strings.TrimSpace(pe.Text())
		if text == "" {
			c.errorf(pe, "Empty%sExpression: <%s> is empty", pathTag, pathTag)
			continue
		}
		if compile(&v, pe, text) {
			out = append(out, v)
		}
	}
	return out
}

func (c *evCompiler) jsonPayload(el *etree.Element) extractor {
	pe := &payloadExtractor{isJSON: true, cache: &jsonPathCache{}}
	pe.vars = c.payloadVars(el, "JSONPath", func(v *payloadVar, pathEl *etree.Element, text string) bool {
		if strings.Contains(text, "{") {
			if t, err := template.Parse(text); err == nil && !t.IsLiteral() {
				v.jsonTmpl = t // message template: compiled once per distinct rendering
				return true
			}
		}
		jp, err := template.CompileJSONPath(text)
		if err != nil {
			c.bc.Problems.Errorf(c.p.Doc.TextPos(pathEl), "InvalidJSONPath: %v", err)
			return false
		}
		v.json = jp
		return true
	})
	if a := el.SelectAttr("stopPayloadProcessing"); a != nil {
		pe.stop = parseBoolAttr(c.bc, c.p, el, a)
	}
	if len(pe.vars) == 0 {
		return nil
	}
	return pe
}

func (c *evCompiler) xmlPayload(el *etree.Element) extractor {
	ns := c.namespaces(el)
	pe := &payloadExtractor{}
	pe.vars = c.payloadVars(el, "XPath", func(v *payloadVar, pathEl *etree.Element, text string) bool {
		xp, err := template.CompileXPath(text, ns)
		if err != nil {
			c.bc.Problems.Errorf(c.p.Doc.TextPos(pathEl), "XPathCompilationFailed: %v", err)
			return false
		}
		v.xpath = xp
		return true
	})
	if a := el.SelectAttr("stopPayloadProcessing"); a != nil {
		pe.stop = parseBoolAttr(c.bc, c.p, el, a)
	}
	if len(pe.vars) == 0 {
		return nil
	}
	return pe
}

// namespaces reads <Namespaces><Namespace prefix="p">uri</Namespace>.
func (c *evCompiler) namespaces(el *etree.Element) map[string]string {
	ns := map[string]string{}
	nsEl := el.SelectElement("Namespaces")
	if nsEl == nil {
		return ns
	}
	for _, n := range nsEl.SelectElements("Namespace") {
		prefix, uri := strings.TrimSpace(n.SelectAttrValue("prefix", "")), strings.TrimSpace(n.Text())
		switch _, dup := ns[prefix]; {
		case prefix == "":
			c.errorf(n, "<Namespace> needs a prefix attribute")
		case uri == "":
			c.errorf(n, "NONEmptyPrefixMappedToEmptyURI: prefix %q has no namespace URI", prefix)
		case dup:
			c.errorf(n, "DuplicatePrefix: namespace prefix %q is declared twice", prefix)
		default:
			ns[prefix] = uri
		}
	}
	return ns
}

// extract evaluates every variable against the body. A body of another
// Content-Type is skipped, as Apigee does; an empty or malformed one is
// ExecutionFailed.
func (pe *payloadExtractor) extract(ec *evContext) error {
	mt := ec.msg.ContentType()
	if pe.isJSON && mt != "application/json" || !pe.isJSON && !isXMLType(mt) {
		return nil
	}
	if err := ec.msg.Materialize(); err != nil {
		return ec.executionFailed(err)
	}
	body := string(ec.msg.Body)
	if strings.TrimSpace(body) == "" {
		return ec.executionFailed(fmt.Errorf("the %s payload is empty", map[bool]string{true: "JSON", false: "XML"}[pe.isJSON]))
	}
	for _, v := range pe.vars {
		val, found, err := pe.eval(ec, v, body)
		if err != nil {
			return err
		}
		if !found {
			continue
		}
		if err := ec.set(v.name, val); err != nil {
			return err
		}
		if pe.stop {
			return nil
		}
	}
	return nil
}

func (ec *evContext) executionFailed(cause error) *Fault {
	return ec.ev.fault("ExecutionFailed", "Failed to execute the ExtractVariables: "+ec.ev.Name, cause)
}

func (pe *payloadExtractor) eval(ec *evContext, v payloadVar, body string) (any, bool, error) {
	if pe.isJSON {
		return pe.evalJSON(ec, v, body)
	}
	return evalXML(ec, v, body)
}

func (pe *payloadExtractor) evalJSON(ec *evContext, v payloadVar, body string) (any, bool, error) {
	jp := v.json
	if jp == nil {
		path := v.jsonTmpl.Render(ec.x)
		var err error
		if jp, err = pe.cache.jsonPath(path); err != nil {
			return nil, false, ec.ev.fault("InvalidJSONPath", fmt.Sprintf("Invalid JSON path %s in policy %s.", path, ec.ev.Name), err)
		}
	}
	res, err := jp.Eval(body)
	if err != nil {
		return nil, false, ec.executionFailed(err)
	}
	if len(res) == 0 {
		return nil, false, nil
	}
	var r any = res[0]
	if len(res) > 1 {
		r = res
	}
	out, err := castJSON(r, v.typ)
	if err != nil {
		return nil, false, ec.ev.fault("UnableToCast", err.Error(), nil)
	}
	return out, true, nil
}

func evalXML(ec *evContext, v payloadVar, body string) (any, bool, error) {
	if v.typ == "nodeset" {
		res, err := v.xpath.Eval(body, template.XPathNodeset)
		if err != nil {
			return nil, false, ec.executionFailed(err)
		}
		nodes := res.([]string)
		return strings.Join(nodes, ""), len(nodes) > 0, nil
	}
	res, err := v.xpath.Eval(body, template.XPathString)
	if err != nil {
		return nil, false, ec.executionFailed(err)
	}
	s := res.(string)
	if s == "" {
		// An empty string may be an empty match or no match at all.
		nodes, _ := v.xpath.Eval(body, template.XPathNodeset)
		if ns, _ := nodes.([]string); len(ns) == 0 {
			return nil, false, nil
		}
	}
	out, err := castText(s, v.typ)
	if err != nil {
		return nil, false, ec.ev.fault("UnableToCast", err.Error(), nil)
	}
	return out, true, nil
}

// jsonPathCache holds the JSONPaths rendered from templated <JSONPath>
// elements, so each distinct rendering is compiled once. It stops growing
// at maxCachedPaths; later renderings compile each time.
type jsonPathCache struct{ m sync.Map }

const maxCachedPaths = 256

func (c *jsonPathCache) jsonPath(path string) (*template.JSONPath, error) {
	if v, ok := c.m.Load(path); ok {
		return v.(*template.JSONPath), nil
	}
	jp, err := template.CompileJSONPath(path)
	if err != nil {
		return nil, err
	}
	n := 0
	c.m.Range(func(any, any) bool { n++; return n < maxCachedPaths })
	if n < maxCachedPaths {
		c.m.Store(path, jp)
	}
	return jp, nil
}

// castJSON converts a JSONPath result to the <Variable> type. Objects and
// arrays (and several matches) are JSON text for string and nodeset.
func castJSON(v any, typ string) (any, error) {
	switch t := v.(type) {
	case map[string]any, []any:
		if typ == "" || typ == "string" || typ == "nodeset" {
			return template.JSONText(t), nil
		}
		return nil, unableToCast(template.JSONText(t), typ)
	case nil:
		if typ == "" || typ == "string" || typ == "nodeset" {
			return "", nil
		}
		return nil, unableToCast("null", typ)
	case string:
		return castText(t, typ)
	}
	switch typ {
	case "", "string", "nodeset":
		return template.JSONText(v), nil
	}
	return castText(template.JSONText(v), typ)
}

// castText converts extracted text to the <Variable> type.
func castText(s, typ string) (any, error) {
	t := strings.TrimSpace(s)
	switch typ {
	case "", "string", "nodeset":
		return s, nil
	case "boolean":
		if b, err := strconv.ParseBool(strings.ToLower(t)); err == nil && (len(t) > 1) {
			return b, nil
		}
	case "integer":
		if n, err := parseIntegral(t, 32); err == nil {
			return int(n), nil
		}
	case "long":
		if n, err := parseIntegral(t, 64); err == nil {
			return n, nil
		}
	case "double":
		if f, err := strconv.ParseFloat(t, 64); err == nil {
			return f, nil
		}
	case "float":
		if f, err := strconv.ParseFloat(t, 32); err == nil {
			return float32(f), nil
		}
	}
	return nil, unableToCast(s, typ)
}

// parseIntegral parses an integer, also accepting a float literal with no
// fractional part ("3.0", "1e3") as JSON numbers may be written.
func parseIntegral(s string, bits int) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, bits); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || f < -math.Pow(2, float64(bits-1)) || f >= math.Pow(2, float64(bits-1)) {
		return 0, fmt.Errorf("not an integer")
	}
	return int64(f), nil
}

func unableToCast(s, typ string) error {
	return fmt.Errorf("Unable to cast value %s as %s.", s, typ)
}
