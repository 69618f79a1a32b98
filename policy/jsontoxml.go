package policy

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/beevik/etree"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/convert"
	"github.com/apigo/apigo/policy/exchange"
)

func init() { Register("JSONToXML", "jsontoxml", buildJSONToXML) }

// JSONToXML is a built <JSONToXML> policy: it converts a JSON message (or
// string variable) to XML with package convert.
type JSONToXML struct {
	Conversion
	Options convert.ToXMLOptions
}

// Conversion is what JSONToXML and XMLToJSON share: where the document
// comes from, where the result goes, and how faults are named.
type Conversion struct {
	Name string
	// Source is a message or string variable. Default "message".
	Source string
	// OutputVariable receives the result: a message (its body and
	// Content-Type change) or a string variable. Default "": the Source
	// message itself.
	OutputVariable string

	kind     string // "JSONToXML"
	code     string // fault code segment, "json2xml"
	outType  string // Content-Type set on an output message
	accepts  func(mediaType string) bool
	convertF func([]byte) (string, error)
}

func buildJSONToXML(bc *BuildContext, p *bundle.Policy) Policy {
	before := countErrors(bc.Problems)
	j := &JSONToXML{Options: convert.DefaultToXML()}
	j.Conversion = newConversion(p, "JSONToXML", "json2xml", "application/xml", isJSONType)
	for _, el := range p.Element.ChildElements() {
		switch el.Tag {
		case "Source", "OutputVariable", "DisplayName", "Description", "Properties", "FaultRules":
		case "Options":
			compileToXMLOptions(bc, p, el, &j.Options)
		default:
			bc.Problems.Warnf(p.Doc.Pos(el), "unknown element <%s> in <JSONToXML>, ignored", el.Tag)
		}
	}
	if countErrors(bc.Problems) > before {
		return nil
	}
	j.convertF = convert.NewToXML(j.Options).Convert
	return j
}

func newConversion(p *bundle.Policy, kind, code, outType string, accepts func(string) bool) Conversion {
	c := Conversion{Name: p.Name, kind: kind, code: code, outType: outType, accepts: accepts}
	if el := p.Element.SelectElement("Source"); el != nil {
		c.Source = strings.TrimSpace(el.Text())
	}
	if el := p.Element.SelectElement("OutputVariable"); el != nil {
		c.OutputVariable = strings.TrimSpace(el.Text())
	}
	return c
}

func compileToXMLOptions(bc *BuildContext, p *bundle.Policy, opts *etree.Element, o *convert.ToXMLOptions) {
	strs := map[string]*string{
		"ObjectRootElementName": &o.ObjectRootElementName, "ArrayRootElementName": &o.ArrayRootElementName,
		"ArrayItemElementName": &o.ArrayItemElementName, "AttributePrefix": &o.AttributePrefix,
		"AttributeBlockName": &o.AttributeBlockName, "TextNodeName": &o.TextNodeName,
		"NamespaceBlockName": &o.NamespaceBlockName, "DefaultNamespaceNodeName": &o.DefaultNamespaceNodeName,
		"NamespaceSeparator": &o.NamespaceSeparator, "NullValue": &o.NullValue,
		"InvalidCharsReplacement": &o.InvalidCharsReplacement,
	}
	bools := map[string]*bool{"OmitXmlDeclaration": &o.OmitXMLDeclaration, "Indent": &o.Indent}
	for _, el := range opts.ChildElements() {
		if s, ok := strs[el.Tag]; ok {
			*s = el.Text() // not trimmed: separators and prefixes may be spaces
			continue
		}
		if b, ok := bools[el.Tag]; ok {
			*b = boolText(bc, p.Doc, el)
			continue
		}
		bc.Problems.Warnf(p.Doc.Pos(el), "unknown option <%s> in <JSONToXML>, ignored", el.Tag)
	}
}

// intText reads a non-negative integer element; other text is an error.
func intText(bc *BuildContext, doc *bundle.Doc, el *etree.Element) int {
	s := strings.TrimSpace(el.Text())
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		bc.Problems.Errorf(doc.TextPos(el), "<%s>: %q is not a non-negative integer", el.Tag, s)
		return 0
	}
	return n
}

func isJSONType(mt string) bool {
	return mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json")
}

// Execute converts the source and writes the output.
func (c *Conversion) Execute(_ context.Context, x *exchange.Exchange) error {
	src := c.Source
	if src == "" {
		src = "message"
	}
	in, srcMsg, err := c.input(x, src)
	if err != nil || in == nil {
		return err
	}
	outName := c.OutputVariable
	if outName == "" && srcMsg == nil {
		return c.fault("OutputVariableIsNotAvailable", "Output variable is not available.", nil)
	}
	out, err := c.convertF(in)
	if err != nil {
		return c.fault("ExecutionFailed", "Execution failed. reason: "+err.Error(), err)
	}
	return c.output(x, outName, srcMsg, out)
}

// input reads the document. A nil document with no error means the policy
// is skipped (a message of another Content-Type).
func (c *Conversion) input(x *exchange.Exchange, src string) ([]byte, *exchange.Message, error) {
	var v any
	if m := x.Message(src); m != nil {
		v = m
	} else if lv, ok := x.Lookup(src); ok {
		v = lv
	}
	if v == nil {
		return nil, nil, c.fault("SourceUnavailable", fmt.Sprintf("Source %s is not available", src), nil)
	}
	switch t := v.(type) {
	case *exchange.Message:
		if !c.accepts(t.ContentType()) {
			return nil, nil, nil
		}
		if err := t.Materialize(); err != nil {
			return nil, nil, c.fault("ExecutionFailed", "Execution failed. reason: "+err.Error(), err)
		}
		if t.Body == nil {
			return []byte{}, t, nil
		}
		return t.Body, t, nil
	case string:
		return []byte(t), nil, nil
	case []byte:
		return t, nil, nil
	}
	return nil, nil, c.fault("InvalidSourceType",
		fmt.Sprintf("Invalid source type %T. Valid source types are [message, string].", v), nil)
}

// output stores the result in a message (body and Content-Type) or a
// string variable.
func (c *Conversion) output(x *exchange.Exchange, name string, srcMsg *exchange.Message, out string) error {
	m := srcMsg
	if name != "" {
		m = x.Message(name)
		if m == nil && (name == "response" || name == "request") {
			m = newMessage(name, x)
			x.SetMessage(name, m)
		}
		if m == nil {
			if v, ok := x.Lookup(name); ok {
				m, _ = v.(*exchange.Message)
			}
		}
	}
	if m == nil {
		if err := x.Set(name, out); err != nil {
			return c.fault("ExecutionFailed", "Execution failed. reason: "+err.Error(), err)
		}
		return nil
	}
	if srcMsg == nil {
		return c.fault("InCompatibleTypes", "String can not be assigned to message type.", nil)
	}
	dropStream(m)
	m.Body = []byte(out)
	m.Header.Set("Content-Type", c.outType)
	return nil
}

func (c *Conversion) fault(name, text string, cause error) *Fault {
	return &Fault{
		Name:        name,
		Code:        "steps." + c.code + "." + name,
		FaultString: c.kind + "[" + c.Name + "]: " + text,
		Status:      500,
		Source:      "policy",
		Policy:      c.Name,
		Cause:       cause,
	}
}
