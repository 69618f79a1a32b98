package policy

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/beevik/etree"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
)

func init() { Register("XMLThreatProtection", "xmlattack", buildXMLThreatProtection) }

// XMLThreatProtection is a built <XMLThreatProtection> policy. It reads an
// XML body token by token (encoding/xml, no tree, no entity expansion)
// and fails at the first limit exceeded. Bodies whose Content-Type is not
// XML pass.
type XMLThreatProtection struct {
	Name string
	// Source is the message to check. Default "message".
	Source string
	Limits XMLLimits
}

// XMLLimits are the policy's limits; 0 or less means no limit. Lengths
// count characters (UTF-16 code units, as Java does).
type XMLLimits struct {
	// NameLimits
	Element, Attribute, NamespacePrefix, ProcessingInstructionTarget int
	// StructureLimits
	NodeDepth, AttributeCountPerElement, NamespaceCountPerElement, ChildCount int
	// ChildCount's include* attributes (each default true). Whitespace-only
	// text between elements is never counted [?].
	CountElements, CountText, CountComments, CountPIs bool
	// ValueLimits
	Text, AttributeValue, NamespaceURI, Comment, ProcessingInstructionData int
}

func buildXMLThreatProtection(bc *BuildContext, p *bundle.Policy) Policy {
	before := countErrors(bc.Problems)
	xp := &XMLThreatProtection{Name: p.Name, Source: "message"}
	l := &xp.Limits
	l.CountElements, l.CountText, l.CountComments, l.CountPIs = true, true, true, true
	groups := map[string]map[string]*int{
		"NameLimits": {"Element": &l.Element, "Attribute": &l.Attribute, "NamespacePrefix": &l.NamespacePrefix,
			"ProcessingInstructionTarget": &l.ProcessingInstructionTarget},
		"StructureLimits": {"NodeDepth": &l.NodeDepth, "AttributeCountPerElement": &l.AttributeCountPerElement,
			"NamespaceCountPerElement": &l.NamespaceCountPerElement, "ChildCount": &l.ChildCount},
		"ValueLimits": {"Text": &l.Text, "Attribute": &l.AttributeValue, "NamespaceURI": &l.NamespaceURI,
			"Comment": &l.Comment, "ProcessingInstructionData": &l.ProcessingInstructionData},
	}
	for _, el := range p.Element.ChildElements() {
		switch el.Tag {
		case "Source":
			if s := strings.TrimSpace(el.Text()); s != "" {
				xp.Source = s
			}
		case "NameLimits", "StructureLimits", "ValueLimits":
			xmlLimitGroup(bc, p, el, groups[el.Tag], l)
		case "DisplayName", "Description", "Properties", "FaultRules":
		default:
			bc.Problems.Warnf(p.Doc.Pos(el), "unknown element <%s> in <XMLThreatProtection>, ignored", el.Tag)
		}
	}
	if countErrors(bc.Problems) > before {
		return nil
	}
	return xp
}

func xmlLimitGroup(bc *BuildContext, p *bundle.Policy, group *etree.Element, dst map[string]*int, l *XMLLimits) {
	for _, el := range group.ChildElements() {
		d, ok := dst[el.Tag]
		if !ok {
			bc.Problems.Warnf(p.Doc.Pos(el), "unknown element <%s> in <%s>, ignored", el.Tag, group.Tag)
			continue
		}
		*d = limitText(bc, p, el)
		if el.Tag != "ChildCount" {
			continue
		}
		for attr, flag := range map[string]*bool{"includeElement": &l.CountElements, "includeText": &l.CountText,
			"includeComment": &l.CountComments, "includeProcessingInstruction": &l.CountPIs} {
			if a := el.SelectAttr(attr); a != nil {
				*flag = parseBoolAttr(bc, p, el, a)
			}
		}
	}
}

// Execute scans the source message's body when it is XML.
func (xp *XMLThreatProtection) Execute(_ context.Context, x *exchange.Exchange) error {
	tag := "XMLThreatProtection stepDefinition " + xp.Name
	msg, f := threatSource(x, xp.Source, "xmlthreatprotection", xp.Name, tag)
	if f != nil {
		return f
	}
	if !isXMLType(msg.ContentType()) {
		return nil
	}
	if err := msg.Materialize(); err != nil {
		return xp.failed(&XMLError{Reason: err.Error(), Line: 1})
	}
	if err := ScanXML(bytes.NewReader(msg.Body), xp.Limits); err != nil {
		return xp.failed(err)
	}
	return nil
}

func (xp *XMLThreatProtection) failed(e *XMLError) *Fault {
	tag := "XMLThreatProtection stepDefinition " + xp.Name + ": "
	reason := e.Reason
	if e.Limit {
		reason = tag + reason
	}
	return &Fault{
		Name: "ExecutionFailed", Code: "steps.xmlthreatprotection.ExecutionFailed",
		FaultString: fmt.Sprintf("%sExecution failed. reason: %s at line %d(possibly around char %d)", tag, reason, e.Line, e.Char),
		Status:      ThreatStatus, Source: "policy", Policy: xp.Name,
	}
}

// XMLError is a limit exceeded (Limit true) or a malformed document.
type XMLError struct {
	Reason     string // "Element name length exceeded (5)", "Premature end of document while parsing" ...
	Line, Char int    // 1-based line, column within it
	Limit      bool
}

func (e *XMLError) Error() string {
	return fmt.Sprintf("%s at line %d(possibly around char %d)", e.Reason, e.Line, e.Char)
}

type xmlFrame struct {
	name     xml.Name
	children int
}

type xmlScanner struct {
	d     *xml.Decoder
	lim   XMLLimits
	stack []xmlFrame
	roots int
}

// ScanXML checks that r holds one well-formed XML document within limits.
// It keeps only the open elements' names; DTDs are skipped, never
// expanded.
func ScanXML(r io.Reader, lim XMLLimits) *XMLError {
	s := &xmlScanner{d: xml.NewDecoder(r), lim: lim}
	s.d.Strict = true
	for {
		tok, err := s.d.RawToken()
		if err == io.EOF {
			return s.end()
		}
		if err != nil {
			return s.syntax(err)
		}
		if e := s.token(tok); e != nil {
			return e
		}
	}
}

func (s *xmlScanner) end() *XMLError {
	if len(s.stack) > 0 || s.roots == 0 {
		return s.fail(false, "Premature end of document while parsing")
	}
	return nil
}

func (s *xmlScanner) syntax(err error) *XMLError {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		e := s.fail(false, se.Msg)
		e.Line = se.Line
		return e
	}
	return s.fail(false, err.Error())
}

func (s *xmlScanner) fail(limit bool, reason string) *XMLError {
	line, col := s.d.InputPos()
	return &XMLError{Reason: reason, Line: line, Char: col, Limit: limit}
}

func (s *xmlScanner) exceeded(what string, limit int) *XMLError {
	return s.fail(true, fmt.Sprintf("%s exceeded (%d)", what, limit))
}

func overLimit(limit, n int) bool { return limit > 0 && n > limit }

func (s *xmlScanner) token(tok xml.Token) *XMLError {
	switch t := tok.(type) {
	case xml.StartElement:
		return s.start(t)
	case xml.EndElement:
		return s.endElement(t)
	case xml.CharData:
		return s.text(t)
	case xml.Comment:
		if overLimit(s.lim.Comment, charLen(t)) {
			return s.exceeded("Comment length", s.lim.Comment)
		}
		return s.child(s.lim.CountComments)
	case xml.ProcInst:
		if strings.EqualFold(t.Target, "xml") {
			return nil // the XML declaration is not a processing instruction
		}
		if overLimit(s.lim.ProcessingInstructionTarget, charLen([]byte(t.Target))) {
			return s.exceeded("Processing Instruction target length", s.lim.ProcessingInstructionTarget)
		}
		if overLimit(s.lim.ProcessingInstructionData, charLen(t.Inst)) {
			return s.exceeded("Processing Instruction data length", s.lim.ProcessingInstructionData)
		}
		return s.child(s.lim.CountPIs)
	}
	return nil // directives (DOCTYPE) are read, not interpreted
}

// child counts a node of the innermost element.
func (s *xmlScanner) child(counted bool) *XMLError {
	if len(s.stack) == 0 || !counted {
		return nil
	}
	top := &s.stack[len(s.stack)-1]
	top.children++
	if overLimit(s.lim.ChildCount, top.children) {
		return s.exceeded("Children count", s.lim.ChildCount)
	}
	return nil
}

func (s *xmlScanner) text(t xml.CharData) *XMLError {
	if len(bytes.TrimSpace(t)) == 0 {
		return nil
	}
	if len(s.stack) == 0 {
		return s.fail(false, "Content is not allowed outside the root element")
	}
	if overLimit(s.lim.Text, charLen(t)) {
		return s.exceeded("Text length", s.lim.Text)
	}
	return s.child(s.lim.CountText)
}

func (s *xmlScanner) start(t xml.StartElement) *XMLError {
	if len(s.stack) == 0 {
		if s.roots++; s.roots > 1 {
			return s.fail(false, "The markup in the document following the root element must be well-formed")
		}
	}
	if e := s.child(s.lim.CountElements); e != nil {
		return e
	}
	s.stack = append(s.stack, xmlFrame{name: t.Name})
	if overLimit(s.lim.NodeDepth, len(s.stack)) {
		return s.exceeded("Node depth", s.lim.NodeDepth)
	}
	if overLimit(s.lim.Element, charLen([]byte(t.Name.Local))) {
		return s.exceeded("Element name length", s.lim.Element)
	}
	if e := s.prefix(t.Name.Space); e != nil {
		return e
	}
	return s.attributes(t.Attr)
}

func (s *xmlScanner) prefix(p string) *XMLError {
	if overLimit(s.lim.NamespacePrefix, charLen([]byte(p))) {
		return s.exceeded("Namespace prefix length", s.lim.NamespacePrefix)
	}
	return nil
}

// attributes checks an element's attributes and namespace declarations
// (xmlns and xmlns:p are declarations, not attributes).
func (s *xmlScanner) attributes(attrs []xml.Attr) *XMLError {
	nattr, nns := 0, 0
	for _, a := range attrs {
		if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
			nns++
			if overLimit(s.lim.NamespaceCountPerElement, nns) {
				return s.exceeded("Namespace count", s.lim.NamespaceCountPerElement)
			}
			if a.Name.Space == "xmlns" {
				if e := s.prefix(a.Name.Local); e != nil {
					return e
				}
			}
			if overLimit(s.lim.NamespaceURI, charLen([]byte(a.Value))) {
				return s.exceeded("Namespace uri length", s.lim.NamespaceURI)
			}
			continue
		}
		nattr++
		if overLimit(s.lim.AttributeCountPerElement, nattr) {
			return s.exceeded("Attribute count", s.lim.AttributeCountPerElement)
		}
		if overLimit(s.lim.Attribute, charLen([]byte(a.Name.Local))) {
			return s.exceeded("Attribute name length", s.lim.Attribute)
		}
		if e := s.prefix(a.Name.Space); e != nil {
			return e
		}
		if overLimit(s.lim.AttributeValue, charLen([]byte(a.Value))) {
			return s.exceeded("Attribute value length", s.lim.AttributeValue)
		}
	}
	return nil
}

// endElement pops the innermost element; RawToken does not check that
// the names match, so this does.
func (s *xmlScanner) endElement(t xml.EndElement) *XMLError {
	if len(s.stack) == 0 {
		return s.fail(false, "unexpected end element </"+qname(t.Name)+">")
	}
	top := s.stack[len(s.stack)-1]
	if top.name != t.Name {
		return s.fail(false, "The element type \""+qname(top.name)+"\" must be terminated by the matching end-tag \"</"+qname(top.name)+">\"")
	}
	s.stack = s.stack[:len(s.stack)-1]
	return nil
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// charLen counts UTF-16 code units, as Java's String.length does.
func charLen(b []byte) int {
	n := 0
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		n++
		if r > 0xFFFF {
			n++
		}
	}
	return n
}
