package policy

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/beevik/etree"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
	"github.com/apigo/apigo/policy/template"
)

func init() {
	Register("RegularExpressionProtection", "regularexpressionprotection", buildRegularExpressionProtection)
}

// RegularExpressionProtection is a built <RegularExpressionProtection>
// policy. Every <Pattern> is compiled once with RE2 at build (Java-only
// constructs such as lookaround, backreferences and possessive quantifiers
// are build errors); at run time a pattern found anywhere in a checked
// value fails the request with 400 ThreatDetected.
type RegularExpressionProtection struct {
	Name string
	// Source is the message whose path, parameters, headers and payload are
	// checked. Default "message".
	Source string
	// IgnoreUnresolved is IgnoreUnresolvedVariables (default false): an
	// unresolved <Variable> is skipped instead of failing with
	// VariableResolutionFailed [?].
	IgnoreUnresolved bool
	checks           []regexCheck
}

// regexCheck is one URIPath, QueryParam, Header, FormParam, Variable,
// XPath or JSONPath element with its patterns.
type regexCheck struct {
	kind     string
	name     string // parameter, header or variable name
	patterns []*regexp.Regexp
	xpath    *template.XPath
	xtype    string
	jsonPath *template.JSONPath
}

type regexCompiler struct {
	bc *BuildContext
	p  *bundle.Policy
}

func buildRegularExpressionProtection(bc *BuildContext, p *bundle.Policy) Policy {
	before := countErrors(bc.Problems)
	rp := &RegularExpressionProtection{Name: p.Name, Source: "message"}
	c := &regexCompiler{bc: bc, p: p}
	for _, el := range p.Element.ChildElements() {
		switch el.Tag {
		case "Source":
			if s := strings.TrimSpace(el.Text()); s != "" {
				rp.Source = s
			}
		case "IgnoreUnresolvedVariables":
			rp.IgnoreUnresolved = boolText(bc, p.Doc, el)
		case "URIPath", "QueryParam", "Header", "FormParam", "Variable":
			rp.checks = append(rp.checks, c.named(el)...)
		case "XMLPayload":
			rp.checks = append(rp.checks, c.xmlPayload(el)...)
		case "JSONPayload":
			rp.checks = append(rp.checks, c.jsonPayload(el)...)
		case "DisplayName", "Description", "Properties", "FaultRules":
		default:
			bc.Problems.Warnf(p.Doc.Pos(el), "unknown element <%s> in <RegularExpressionProtection>, ignored", el.Tag)
		}
	}
	if len(rp.checks) == 0 && countErrors(bc.Problems) == before {
		bc.Problems.Errorf(p.Doc.Pos(p.Element), "NothingToEnforce: <RegularExpressionProtection> %q has no URIPath, QueryParam, Header, FormParam, Variable, XMLPayload or JSONPayload pattern", p.Name)
	}
	if countErrors(bc.Problems) > before {
		return nil
	}
	return rp
}

func (c *regexCompiler) errorf(el *etree.Element, format string, args ...any) {
	c.bc.Problems.Errorf(c.p.Doc.Pos(el), format, args...)
}

// patterns compiles the <Pattern> children of el.
func (c *regexCompiler) patterns(el *etree.Element) []*regexp.Regexp {
	var out []*regexp.Regexp
	for _, ch := range el.SelectElements("Pattern") {
		src := strings.TrimSpace(ch.Text())
		if src == "" {
			c.errorf(ch, "EmptyPattern: <Pattern> in <%s> is empty", el.Tag)
			continue
		}
		re, err := CompileJavaRegex(src)
		if err != nil {
			c.bc.Problems.Errorf(c.p.Doc.TextPos(ch), "%v", err)
			continue
		}
		out = append(out, re)
	}
	if len(out) == 0 && len(el.SelectElements("Pattern")) == 0 {
		c.errorf(el, "<%s> has no <Pattern>", el.Tag)
	}
	return out
}

// CompileJavaRegex compiles a Java regular expression with RE2. Constructs
// RE2 lacks (lookaround, backreferences, possessive quantifiers, atomic
// groups) are errors naming the construct, never silently changed.
func CompileJavaRegex(src string) (*regexp.Regexp, error) {
	for _, j := range javaOnly {
		if j.re.MatchString(src) {
			return nil, fmt.Errorf("InvalidRegularExpression: %q uses %s, a Java regex construct RE2 does not support", src, j.what)
		}
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, fmt.Errorf("InvalidRegularExpression: %q: %v", src, err)
	}
	return re, nil
}

var javaOnly = []struct {
	re   *regexp.Regexp
	what string
}{
	{regexp.MustCompile(`(^|[^\\])(\\\\)*\(\?<?[=!]`), "lookaround"},
	{regexp.MustCompile(`(^|[^\\])(\\\\)*\(\?>`), "an atomic group"},
	{regexp.MustCompile(`(^|[^\\])(\\\\)*\\[1-9]`), "a backreference"},
	{regexp.MustCompile(`(^|[^\\])(\\\\)*\\k<`), "a named backreference"},
	{regexp.MustCompile(`[^\\][*+?}]\+`), "a possessive quantifier"},
}

func (c *regexCompiler) named(el *etree.Element) []regexCheck {
	name := strings.TrimSpace(el.SelectAttrValue("name", ""))
	if el.Tag != "URIPath" && name == "" {
		c.errorf(el, "<%s> needs a name attribute", el.Tag)
		return nil
	}
	ps := c.patterns(el)
	if len(ps) == 0 {
		return nil
	}
	return []regexCheck{{kind: el.Tag, name: name, patterns: ps}}
}

func (c *regexCompiler) xmlPayload(el *etree.Element) []regexCheck {
	ns := (&evCompiler{bc: c.bc, p: c.p}).namespaces(el)
	var out []regexCheck
	for _, xe := range el.SelectElements("XPath") {
		exprEl := xe.SelectElement("Expression")
		if exprEl == nil || strings.TrimSpace(exprEl.Text()) == "" {
			c.errorf(xe, "<XPath> needs an <Expression>")
			continue
		}
		xp, err := template.CompileXPath(strings.TrimSpace(exprEl.Text()), ns)
		if err != nil {
			c.bc.Problems.Errorf(c.p.Doc.TextPos(exprEl), "XPathCompilationFailed: %v", err)
			continue
		}
		typ := template.XPathNodeset
		if t := xe.SelectElement("Type"); t != nil && strings.TrimSpace(t.Text()) != "" {
			typ = strings.ToLower(strings.TrimSpace(t.Text()))
		}
		switch typ {
		case template.XPathNodeset, template.XPathString, template.XPathNumber, template.XPathBoolean:
		default:
			c.errorf(xe, "<Type> %q is not nodeset, string, number or boolean", typ)
			continue
		}
		if ps := c.patterns(xe); len(ps) > 0 {
			out = append(out, regexCheck{kind: "XPath", name: xp.String(), patterns: ps, xpath: xp, xtype: typ})
		}
	}
	return out
}

func (c *regexCompiler) jsonPayload(el *etree.Element) []regexCheck {
	var out []regexCheck
	for _, je := range el.SelectElements("JSONPath") {
		exprEl := je.SelectElement("Expression")
		if exprEl == nil || strings.TrimSpace(exprEl.Text()) == "" {
			c.errorf(je, "<JSONPath> needs an <Expression>")
			continue
		}
		jp, err := template.CompileJSONPath(strings.TrimSpace(exprEl.Text()))
		if err != nil {
			c.bc.Problems.Errorf(c.p.Doc.TextPos(exprEl), "InvalidJSONPath: %v", err)
			continue
		}
		if ps := c.patterns(je); len(ps) > 0 {
			out = append(out, regexCheck{kind: "JSONPath", name: jp.String(), patterns: ps, jsonPath: jp})
		}
	}
	return out
}

// Execute checks every configured value against its patterns.
func (rp *RegularExpressionProtection) Execute(_ context.Context, x *exchange.Exchange) error {
	var msg *exchange.Message
	for i := range rp.checks {
		ck := &rp.checks[i]
		if ck.kind != "Variable" && msg == nil {
			m, f := rp.source(x)
			if f != nil {
				return f
			}
			msg = m
		}
		values, f := rp.values(x, msg, ck)
		if f != nil {
			return f
		}
		for _, v := range values {
			for _, re := range ck.patterns {
				if re.MatchString(v) {
					return rp.fault(http.StatusBadRequest, "ThreatDetected",
						"Regular Expression Threat Detected in "+rp.Name+": regex: "+re.String()+" input: "+v)
				}
			}
		}
	}
	return nil
}

func (rp *RegularExpressionProtection) source(x *exchange.Exchange) (*exchange.Message, *Fault) {
	if m := x.Message(rp.Source); m != nil {
		return m, nil
	}
	v, ok := x.Lookup(rp.Source)
	if m, isMsg := v.(*exchange.Message); ok && isMsg {
		return m, nil
	}
	if !ok || v == nil {
		return nil, rp.fault(http.StatusInternalServerError, "SourceMessageNotAvailable",
			rp.Source+" message is not available for RegularExpressionProtection StepDefinition "+rp.Name)
	}
	return nil, rp.fault(http.StatusInternalServerError, "NonMessageVariable",
		"Variable "+rp.Source+" does not resolve to a Message")
}

// values returns what one check looks at.
func (rp *RegularExpressionProtection) values(x *exchange.Exchange, msg *exchange.Message, ck *regexCheck) ([]string, *Fault) {
	switch ck.kind {
	case "URIPath":
		if !msg.IsRequest {
			return nil, nil
		}
		return []string{msg.Path}, nil
	case "QueryParam":
		return msg.Query.Values(ck.name), nil
	case "Header":
		return msg.Header.Values(ck.name), nil
	case "FormParam":
		if err := msg.Materialize(); err != nil {
			return nil, rp.fault(http.StatusInternalServerError, "ExecutionFailed", "Failed to read the "+rp.Source+" body: "+err.Error())
		}
		return readForm(msg).Values(ck.name), nil
	case "Variable":
		v, ok := x.Lookup(ck.name)
		if !ok || v == nil {
			if rp.IgnoreUnresolved {
				return nil, nil
			}
			return nil, rp.fault(http.StatusInternalServerError, "VariableResolutionFailed", "Unresolved variable : "+ck.name)
		}
		return []string{template.Format(v)}, nil
	}
	return rp.payloadValues(msg, ck)
}

// payloadValues evaluates an XPath on an XML body or a JSONPath on a JSON
// body; other content types are not checked.
func (rp *RegularExpressionProtection) payloadValues(msg *exchange.Message, ck *regexCheck) ([]string, *Fault) {
	mt := msg.ContentType()
	if ck.xpath != nil && !isXMLType(mt) || ck.jsonPath != nil && mt != "application/json" {
		return nil, nil
	}
	if err := msg.Materialize(); err != nil {
		return nil, rp.fault(http.StatusInternalServerError, "ExecutionFailed", "Failed to read the "+rp.Source+" body: "+err.Error())
	}
	if ck.xpath != nil {
		res, err := ck.xpath.Eval(string(msg.Body), ck.xtype)
		if err != nil {
			return nil, rp.fault(http.StatusInternalServerError, "XPathEvaluationFailed",
				"Failed to evaluate the XPath "+ck.name+" in "+rp.Name+": "+err.Error())
		}
		if ss, ok := res.([]string); ok {
			return ss, nil
		}
		return []string{template.Format(res)}, nil
	}
	res, err := ck.jsonPath.Eval(string(msg.Body))
	if err != nil {
		return nil, rp.fault(http.StatusInternalServerError, "JSONPathEvaluationFailed",
			"Failed to evaluate the JSONPath "+ck.name+" in "+rp.Name+": "+err.Error())
	}
	out := make([]string, 0, len(res))
	for _, v := range res {
		if s, ok := v.(string); ok {
			out = append(out, s)
		} else {
			out = append(out, template.JSONText(v))
		}
	}
	return out, nil
}

func (rp *RegularExpressionProtection) fault(status int, name, text string) *Fault {
	return &Fault{
		Name: name, Code: "steps.regularexpressionprotection." + name, FaultString: text,
		Status: status, Source: "policy", Policy: rp.Name,
	}
}
