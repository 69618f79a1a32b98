package policy

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/beevik/etree"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
)

func init() { Register("JSONThreatProtection", "jsonattack", buildJSONThreatProtection) }

// ThreatStatus is the HTTP status of JSONThreatProtection's and
// XMLThreatProtection's ExecutionFailed faults. Apigee Edge documents 500;
// Apigee X's error reference lists 400 [?]: apigo follows X.
const ThreatStatus = http.StatusBadRequest

// JSONThreatProtection is a built <JSONThreatProtection> policy. It scans
// a JSON body with a streaming tokenizer (no document is built) and fails
// at the first limit exceeded. Bodies whose Content-Type is not JSON pass.
type JSONThreatProtection struct {
	Name string
	// Source is the message to check. Default "message".
	Source string
	Limits JSONLimits
}

// JSONLimits are the policy's limits; 0 or less means no limit (Apigee
// writes -1 or omits the element).
type JSONLimits struct {
	ArrayElementCount     int // elements of one array
	ContainerDepth        int // nesting of objects and arrays
	ObjectEntryCount      int // entries of one object
	ObjectEntryNameLength int // characters of an entry name
	StringValueLength     int // characters of a string value
}

func buildJSONThreatProtection(bc *BuildContext, p *bundle.Policy) Policy {
	before := countErrors(bc.Problems)
	jp := &JSONThreatProtection{Name: p.Name, Source: "message"}
	limits := map[string]*int{
		"ArrayElementCount": &jp.Limits.ArrayElementCount, "ContainerDepth": &jp.Limits.ContainerDepth,
		"ObjectEntryCount": &jp.Limits.ObjectEntryCount, "ObjectEntryNameLength": &jp.Limits.ObjectEntryNameLength,
		"StringValueLength": &jp.Limits.StringValueLength,
	}
	for _, el := range p.Element.ChildElements() {
		switch el.Tag {
		case "Source":
			if s := strings.TrimSpace(el.Text()); s != "" {
				jp.Source = s
			}
		case "DisplayName", "Description", "Properties", "FaultRules":
		default:
			if dst, ok := limits[el.Tag]; ok {
				*dst = limitText(bc, p, el)
				continue
			}
			bc.Problems.Warnf(p.Doc.Pos(el), "unknown element <%s> in <JSONThreatProtection>, ignored", el.Tag)
		}
	}
	if countErrors(bc.Problems) > before {
		return nil
	}
	return jp
}

// limitText reads an integer limit; empty or negative means none.
func limitText(bc *BuildContext, p *bundle.Policy, el *etree.Element) int {
	s := strings.TrimSpace(el.Text())
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		bc.Problems.Errorf(p.Doc.TextPos(el), "<%s>: %q is not an integer", el.Tag, s)
		return 0
	}
	if n < 0 {
		return 0
	}
	return n
}

// Execute scans the source message's body when it is JSON.
func (jp *JSONThreatProtection) Execute(_ context.Context, x *exchange.Exchange) error {
	msg, f := threatSource(x, jp.Source, "jsonthreatprotection", jp.Name, "JSONThreatProtection["+jp.Name+"]: ")
	if f != nil {
		return f
	}
	if msg.ContentType() != "application/json" {
		return nil
	}
	if err := msg.Materialize(); err != nil {
		return jp.failed(err.Error(), 1)
	}
	if err := ScanJSON(msg.Body, jp.Limits); err != nil {
		return jp.failed(err.Reason, err.Line)
	}
	return nil
}

func (jp *JSONThreatProtection) failed(reason string, line int) *Fault {
	tag := "JSONThreatProtection[" + jp.Name + "]: "
	return &Fault{
		Name: "ExecutionFailed", Code: "steps.jsonthreatprotection.ExecutionFailed",
		FaultString: fmt.Sprintf("%sExecution failed. reason: %s%s at line %d", tag, tag, reason, line),
		Status:      ThreatStatus, Source: "policy", Policy: jp.Name,
	}
}

// threatSource resolves a threat policy's <Source>: a missing variable is
// SourceUnavailable, one that is not a message NonMessageVariable (500).
func threatSource(x *exchange.Exchange, source, kind, policy, tag string) (*exchange.Message, *Fault) {
	if m := x.Message(source); m != nil {
		return m, nil
	}
	v, ok := x.Lookup(source)
	if !ok || v == nil {
		return nil, &Fault{Name: "SourceUnavailable", Code: "steps." + kind + ".SourceUnavailable",
			FaultString: tag + ": Source " + source + " is not available",
			Status:      http.StatusInternalServerError, Source: "policy", Policy: policy}
	}
	if m, ok := v.(*exchange.Message); ok {
		return m, nil
	}
	return nil, &Fault{Name: "NonMessageVariable", Code: "steps." + kind + ".NonMessageVariable",
		FaultString: "Variable " + source + " does not resolve to a Message",
		Status:      http.StatusInternalServerError, Source: "policy", Policy: policy}
}

// JSONError is a limit exceeded or a syntax error found by ScanJSON.
type JSONError struct {
	Reason string // "Exceeded container depth", "Expecting a value" ...
	Line   int    // 1-based
}

func (e *JSONError) Error() string { return fmt.Sprintf("%s at line %d", e.Reason, e.Line) }

// ScanJSON checks that b is one well-formed JSON value within limits. It
// runs in one pass with an explicit stack, so hostile nesting cannot grow
// the goroutine stack, and builds nothing.
func ScanJSON(b []byte, lim JSONLimits) *JSONError {
	s := jsonScanner{b: b, line: 1, lim: lim}
	return s.run()
}

type jsonFrame struct {
	object bool
	count  int
}

type jsonScanner struct {
	b     []byte
	i     int
	line  int
	lim   JSONLimits
	stack []jsonFrame
}

func (s *jsonScanner) fail(reason string) *JSONError { return &JSONError{Reason: reason, Line: s.line} }

func (s *jsonScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '\n':
			s.line++
		case ' ', '\t', '\r':
		default:
			return
		}
		s.i++
	}
}

// run is a state machine over value, member and what follows a value; an
// explicit stack instead of recursion keeps hostile nesting cheap.
func (s *jsonScanner) run() *JSONError {
	const (
		wantValue = iota
		wantMember
		wantAfter
	)
	state := wantValue
	for {
		var err *JSONError
		switch state {
		case wantValue:
			var opened bool
			opened, err = s.value()
			state = wantAfter
			if opened {
				state = wantMember
			}
		case wantMember:
			err = s.member()
			state = wantValue
		default:
			var done bool
			done, err = s.afterValue()
			if done {
				return err
			}
			state = wantMember
		}
		if err != nil {
			return err
		}
	}
}

// value reads one value. opened reports a container left open at its
// first member (an empty one is read whole).
func (s *jsonScanner) value() (opened bool, err *JSONError) {
	s.ws()
	if s.i >= len(s.b) {
		return false, s.fail("Unexpected end of input, expecting a value")
	}
	switch c := s.b[s.i]; {
	case c == '{' || c == '[':
		return s.open(c == '{')
	case c == '"':
		n, err := s.str()
		if err != nil {
			return false, err
		}
		if s.lim.StringValueLength > 0 && n > s.lim.StringValueLength {
			return false, s.fail("Exceeded string value length")
		}
		return false, nil
	case c == '-' || c >= '0' && c <= '9':
		return false, s.number()
	case c == 't':
		return false, s.literal("true")
	case c == 'f':
		return false, s.literal("false")
	case c == 'n':
		return false, s.literal("null")
	}
	return false, s.fail(fmt.Sprintf("Unexpected character (%s), expecting a value", quoteByte(s.b[s.i])))
}

// open pushes a container; an empty one is popped at once.
func (s *jsonScanner) open(object bool) (opened bool, err *JSONError) {
	s.i++
	s.stack = append(s.stack, jsonFrame{object: object})
	if s.lim.ContainerDepth > 0 && len(s.stack) > s.lim.ContainerDepth {
		return false, s.fail("Exceeded container depth")
	}
	s.ws()
	closer := byte(']')
	if object {
		closer = '}'
	}
	if s.i < len(s.b) && s.b[s.i] == closer {
		s.i++
		s.stack = s.stack[:len(s.stack)-1]
		return false, nil
	}
	return true, nil
}

// member counts a new member of the innermost container and, in an
// object, reads its name and colon; the value is read next.
func (s *jsonScanner) member() *JSONError {
	top := &s.stack[len(s.stack)-1]
	top.count++
	if !top.object {
		if s.lim.ArrayElementCount > 0 && top.count > s.lim.ArrayElementCount {
			return s.fail("Exceeded array element count")
		}
		return nil
	}
	if s.lim.ObjectEntryCount > 0 && top.count > s.lim.ObjectEntryCount {
		return s.fail("Exceeded object entry count")
	}
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return s.fail("Expecting a double-quoted object entry name")
	}
	n, err := s.str()
	if err != nil {
		return err
	}
	if s.lim.ObjectEntryNameLength > 0 && n > s.lim.ObjectEntryNameLength {
		return s.fail("Exceeded object entry name length")
	}
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != ':' {
		return s.fail("Expecting a colon to separate object entry name and value")
	}
	s.i++
	return nil
}

// afterValue reads closers after a value up to a comma (done false: a
// member is due) or the end of the document (done true).
func (s *jsonScanner) afterValue() (done bool, err *JSONError) {
	for {
		s.ws()
		if len(s.stack) == 0 {
			if s.i < len(s.b) {
				return true, s.fail(fmt.Sprintf("Unexpected character (%s) after the JSON value", quoteByte(s.b[s.i])))
			}
			return true, nil
		}
		if s.i >= len(s.b) {
			return true, s.fail("Unexpected end of input in a container")
		}
		top := s.stack[len(s.stack)-1]
		c := s.b[s.i]
		switch {
		case c == ',':
			s.i++
			return false, nil
		case c == '}' && top.object, c == ']' && !top.object:
			s.i++
			s.stack = s.stack[:len(s.stack)-1]
		case top.object:
			return true, s.fail(fmt.Sprintf("Unexpected character (%s), expecting comma or '}'", quoteByte(c)))
		default:
			return true, s.fail(fmt.Sprintf("Unexpected character (%s), expecting comma or ']'", quoteByte(c)))
		}
	}
}

// str reads a string at s.i and returns its length in UTF-16 code units,
// as Java counts characters.
func (s *jsonScanner) str() (int, *JSONError) {
	s.i++ // opening quote
	n := 0
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return n, nil
		case c == '\\':
			units, err := s.escape()
			if err != nil {
				return 0, err
			}
			n += units
		case c < 0x20:
			return 0, s.fail("Illegal unquoted control character in a string")
		case c < utf8.RuneSelf:
			s.i++
			n++
		default:
			r, size := utf8.DecodeRune(s.b[s.i:])
			s.i += size
			if r > 0xFFFF {
				n += 2
			} else {
				n++
			}
		}
	}
	return 0, s.fail("Unexpected end of input in a string")
}

// escape reads one backslash escape; \uXXXX counts one code unit (a
// surrogate pair is two escapes, two units).
func (s *jsonScanner) escape() (int, *JSONError) {
	if s.i+1 >= len(s.b) {
		return 0, s.fail("Unexpected end of input in a string")
	}
	switch s.b[s.i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.i += 2
		return 1, nil
	case 'u':
		if s.i+6 > len(s.b) {
			return 0, s.fail("Unexpected end of input in a \\u escape")
		}
		for _, h := range s.b[s.i+2 : s.i+6] {
			if !isHex(h) {
				return 0, s.fail("Illegal character in a \\u escape")
			}
		}
		s.i += 6
		return 1, nil
	}
	return 0, s.fail(fmt.Sprintf("Unrecognized character escape (%s)", quoteByte(s.b[s.i+1])))
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// number reads a JSON number (RFC 8259 grammar).
func (s *jsonScanner) number() *JSONError {
	if s.b[s.i] == '-' {
		s.i++
	}
	switch {
	case s.i < len(s.b) && s.b[s.i] == '0':
		s.i++
	case s.digits() == 0:
		return s.fail("Expecting a digit in a number")
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if s.digits() == 0 {
			return s.fail("Expecting a digit after the decimal point")
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if s.digits() == 0 {
			return s.fail("Expecting a digit in an exponent")
		}
	}
	return nil
}

func (s *jsonScanner) digits() int {
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i - start
}

func (s *jsonScanner) literal(word string) *JSONError {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return s.fail("Unrecognized token, expecting " + word)
	}
	s.i += len(word)
	return nil
}

func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return "'" + string(c) + "'"
	}
	return fmt.Sprintf("code %d", c)
}
