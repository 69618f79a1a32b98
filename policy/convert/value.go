// Package convert turns JSON into XML and XML into JSON the way Apigee's
// JSONToXML and XMLToJSON policies do, with their options. It keeps the
// order of object members and elements (no Go maps in between) and is
// independent of flow variables: the policies in package policy wrap it.
//
// Both directions go through value, a small ordered JSON tree. A converter
// is immutable once its options are fixed and safe for concurrent use.
package convert

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// kind is the JSON type of a value.
type kind uint8

const (
	kNull kind = iota
	kBool
	kNumber
	kString
	kObject
	kArray
)

// value is one JSON value. text holds a string's content, a number's
// literal, or "true"/"false"; members and items keep document order.
type value struct {
	kind    kind
	text    string
	members []member
	items   []*value
}

type member struct {
	key string
	val *value
}

func (v *value) get(key string) *value {
	for _, m := range v.members {
		if m.key == key {
			return m.val
		}
	}
	return nil
}

// SyntaxError is a malformed JSON or XML input, positioned like Apigee's
// messages: line (1-based) and char (0-based offset in that line).
type SyntaxError struct {
	Msg  string
	Line int
	Char int
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s at line %d(possibly  around char %d)", e.Msg, e.Line, e.Char)
}

// jsonParser is a recursive-descent JSON parser that keeps member order.
type jsonParser struct {
	s     string
	i     int
	depth int
}

const maxDepth = 1000

func parseJSON(s string) (*value, error) {
	p := &jsonParser{s: s}
	p.space()
	if p.i == len(p.s) {
		return nil, p.errorf("Premature end of document while parsing")
	}
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, p.errorf("Unexpected character (%q) after the document", p.s[p.i])
	}
	return v, nil
}

func (p *jsonParser) errorf(format string, args ...any) *SyntaxError {
	line, start := 1, 0
	for j := 0; j < p.i && j < len(p.s); j++ {
		if p.s[j] == '\n' {
			line, start = line+1, j+1
		}
	}
	return &SyntaxError{Msg: fmt.Sprintf(format, args...), Line: line, Char: p.i - start}
}

func (p *jsonParser) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) value() (*value, error) {
	if p.i >= len(p.s) {
		return nil, p.errorf("Premature end of document while parsing")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		s, err := p.str()
		return &value{kind: kString, text: s}, err
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	for _, lit := range [...]struct {
		word string
		k    kind
	}{{"true", kBool}, {"false", kBool}, {"null", kNull}} {
		if strings.HasPrefix(p.s[p.i:], lit.word) {
			p.i += len(lit.word)
			return &value{kind: lit.k, text: lit.word}, nil
		}
	}
	return nil, p.errorf("Unexpected character (%q)", p.s[p.i])
}

func (p *jsonParser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.errorf("Nesting deeper than %d levels", maxDepth)
	}
	return nil
}

func (p *jsonParser) object() (*value, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	v := &value{kind: kObject}
	p.i++
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return v, nil
	}
	for {
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return nil, p.expect("a quoted member name")
		}
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, p.expect("':'")
		}
		p.i++
		p.space()
		val, err := p.value()
		if err != nil {
			return nil, err
		}
		v.members = append(v.members, member{key, val})
		if done, err := p.next('}'); done || err != nil {
			return v, err
		}
	}
}

func (p *jsonParser) array() (*value, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	v := &value{kind: kArray}
	p.i++
	p.space()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		return v, nil
	}
	for {
		p.space()
		item, err := p.value()
		if err != nil {
			return nil, err
		}
		v.items = append(v.items, item)
		if done, err := p.next(']'); done || err != nil {
			return v, err
		}
	}
}

// next consumes ',' (more to come) or the closing byte (done).
func (p *jsonParser) next(closing byte) (done bool, err error) {
	p.space()
	if p.i >= len(p.s) {
		return false, p.errorf("Premature end of document while parsing")
	}
	switch p.s[p.i] {
	case ',':
		p.i++
		return false, nil
	case closing:
		p.i++
		return true, nil
	}
	return false, p.expect(fmt.Sprintf("',' or '%c'", closing))
}

func (p *jsonParser) expect(what string) error {
	if p.i >= len(p.s) {
		return p.errorf("Premature end of document while parsing")
	}
	return p.errorf("Expecting %s, found %q", what, p.s[p.i])
}

func (p *jsonParser) number() (*value, error) {
	start := p.i
	if p.s[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		n := 0
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	lead := p.i
	if digits() == 0 || p.s[lead] == '0' && p.i-lead > 1 {
		return nil, p.errorf("Invalid number")
	}
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return nil, p.errorf("Invalid number")
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return nil, p.errorf("Invalid number")
		}
	}
	return &value{kind: kNumber, text: p.s[start:p.i]}, nil
}

// str parses a quoted string; the common case without escapes is a
// substring of the input.
func (p *jsonParser) str() (string, error) {
	p.i++
	start := p.i
	for p.i < len(p.s) {
		switch c := p.s[p.i]; {
		case c == '"':
			p.i++
			return p.s[start : p.i-1], nil
		case c == '\\':
			return p.escaped(start)
		case c < 0x20:
			return "", p.errorf("Illegal unquoted character (%q) in a string", c)
		}
		p.i++
	}
	return "", p.errorf("Premature end of document while parsing a string")
}

func (p *jsonParser) escaped(start int) (string, error) {
	var b strings.Builder
	b.WriteString(p.s[start:p.i])
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return b.String(), nil
		case c < 0x20:
			return "", p.errorf("Illegal unquoted character (%q) in a string", c)
		case c != '\\':
			b.WriteByte(c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.s) {
			break
		}
		e := p.s[p.i+1]
		p.i += 2
		switch e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, err := p.unicode()
			if err != nil {
				return "", err
			}
			b.WriteRune(r)
		default:
			p.i--
			return "", p.errorf("Unrecognized character escape %q", e)
		}
	}
	return "", p.errorf("Premature end of document while parsing a string")
}

// unicode reads the 4 hex digits after \u, joining surrogate pairs.
func (p *jsonParser) unicode() (rune, error) {
	hex4 := func() (rune, bool) {
		if p.i+4 > len(p.s) {
			return 0, false
		}
		n, err := strconv.ParseUint(p.s[p.i:p.i+4], 16, 32)
		if err != nil {
			return 0, false
		}
		p.i += 4
		return rune(n), true
	}
	r, ok := hex4()
	if !ok {
		return 0, p.errorf("Invalid \\u escape")
	}
	if r >= 0xD800 && r < 0xDC00 && strings.HasPrefix(p.s[p.i:], `\u`) {
		save := p.i
		p.i += 2
		if lo, ok := hex4(); ok && lo >= 0xDC00 && lo < 0xE000 {
			return (r-0xD800)<<10 + (lo - 0xDC00) + 0x10000, nil
		}
		p.i = save
	}
	if r >= 0xD800 && r < 0xE000 {
		return utf8.RuneError, nil
	}
	return r, nil
}

// writeJSON appends v as compact JSON.
func writeJSON(b *strings.Builder, v *value) {
	switch v.kind {
	case kNull:
		b.WriteString("null")
	case kBool, kNumber:
		b.WriteString(v.text)
	case kString:
		writeJSONString(b, v.text)
	case kArray:
		b.WriteByte('[')
		for i, it := range v.items {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, it)
		}
		b.WriteByte(']')
	case kObject:
		b.WriteByte('{')
		for i, m := range v.members {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, m.key)
			b.WriteByte(':')
			writeJSON(b, m.val)
		}
		b.WriteByte('}')
	}
}

const hexDigits = "0123456789abcdef"

func writeJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b.WriteString(s[start:i])
		switch c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteString(`\u00`)
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&0xF])
		}
		start = i + 1
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}
