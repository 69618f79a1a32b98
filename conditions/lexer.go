package conditions

import (
	"strconv"
	"strings"
)

// tokKind is the kind of a lexical token.
type tokKind uint8

const (
	tEOF tokKind = iota
	tLParen
	tRParen
	tAnd
	tOr
	tNot
	tOp     // comparison operator; token.op says which
	tIdent  // variable name (bare or single-quoted)
	tString // double-quoted string literal
	tNumber // numeric literal; token.val holds the typed value
	tTrue
	tFalse
	tNull
)

// token is one lexical token. pos and end are byte offsets into the source.
type token struct {
	kind tokKind
	op   op
	word bool   // the operator or connective was spelled as a word
	text string // identifier name or decoded string contents
	val  any    // typed literal value for tNumber
	offs []int  // for tString: source offset of each byte of text
	pos  int
	end  int
}

// symbols lists symbolic tokens, longest first so that "!~~" wins over "!~".
// XML entities are accepted too, because some exports double-escape. "/~"
// is accepted as MatchesPath because a Google sample bundle uses it.
var symbols = []struct {
	text string
	kind tokKind
	op   op
}{
	{"&amp;&amp;", tAnd, 0}, {"&lt;=", tOp, opLe}, {"&gt;=", tOp, opGe},
	{"&lt;", tOp, opLt}, {"&gt;", tOp, opGt},
	{"!~~", tOp, opNotRegex}, {"!~/", tOp, opNotPath}, {"!=|", tOp, opNotStarts},
	{"!~", tOp, opNotMatches}, {"!=", tOp, opNe}, {"==", tOp, opEq},
	{"=|", tOp, opStarts}, {":=", tOp, opEqCI}, {">=", tOp, opGe}, {"<=", tOp, opLe},
	{"~~", tOp, opRegex}, {"~/", tOp, opPath}, {"/~", tOp, opPath}, {"&&", tAnd, 0}, {"||", tOr, 0},
	{"=", tOp, opEq}, {">", tOp, opGt}, {"<", tOp, opLt}, {"~", tOp, opMatches},
	{"!", tNot, 0}, {"(", tLParen, 0}, {")", tRParen, 0},
}

// words maps lower-cased keywords to tokens. Keywords are case-insensitive.
var words = map[string]token{
	"and": {kind: tAnd}, "or": {kind: tOr}, "not": {kind: tNot},
	"true": {kind: tTrue}, "false": {kind: tFalse}, "null": {kind: tNull},
	"equals": {kind: tOp, op: opEq}, "is": {kind: tOp, op: opEq},
	"notequals": {kind: tOp, op: opNe}, "isnot": {kind: tOp, op: opNe},
	"equalscaseinsensitive": {kind: tOp, op: opEqCI},
	"greaterthan":           {kind: tOp, op: opGt}, "greaterthanorequals": {kind: tOp, op: opGe},
	"lesserthan": {kind: tOp, op: opLt}, "lesserthanorequals": {kind: tOp, op: opLe},
	"matches": {kind: tOp, op: opMatches}, "like": {kind: tOp, op: opMatches},
	"javaregex":   {kind: tOp, op: opRegex},
	"matchespath": {kind: tOp, op: opPath}, "likepath": {kind: tOp, op: opPath},
	"startswith": {kind: tOp, op: opStarts},
}

// lexer turns condition text into tokens on demand.
type lexer struct {
	src string
	pos int
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isIdentStart(c byte) bool { return isLetter(c) || c == '_' || c == '$' || c >= 0x80 }

// isIdentPart reports whether the byte at i continues a variable name.
// A ':' belongs to the name unless it starts the ":=" operator.
func isIdentPart(s string, i int) bool {
	c := s[i]
	if c == ':' {
		return i+1 < len(s) && s[i+1] != '='
	}
	return isIdentStart(c) || isDigit(c) || c == '-' || c == '.'
}

// next returns the next token or a syntax error.
func (l *lexer) next() (token, error) {
	for l.pos < len(l.src) && isSpace(l.src[l.pos]) {
		l.pos++
	}
	start := l.pos
	if start >= len(l.src) {
		return token{kind: tEOF, pos: start, end: start}, nil
	}
	rest := l.src[start:]
	c := rest[0]
	switch {
	case c == '"':
		return l.lexString(start, 1, "\"")
	case strings.HasPrefix(rest, "&quot;"):
		return l.lexString(start, len("&quot;"), "&quot;")
	case c == '\'':
		return l.lexQuotedName(start, 1, "'")
	case strings.HasPrefix(rest, "&apos;"):
		return l.lexQuotedName(start, len("&apos;"), "&apos;")
	case isDigit(c) || (c == '-' || c == '.') && len(rest) > 1 && (isDigit(rest[1]) || rest[1] == '.'):
		return l.lexNumber(start)
	case isIdentStart(c):
		return l.lexWord(start), nil
	}
	for _, s := range symbols {
		if strings.HasPrefix(rest, s.text) {
			l.pos += len(s.text)
			return token{kind: s.kind, op: s.op, pos: start, end: l.pos}, nil
		}
	}
	return token{}, newSyntaxError(l.src, start, "unexpected character %q", rune(c))
}

// lexWord reads a variable name or a keyword.
func (l *lexer) lexWord(start int) token {
	for l.pos < len(l.src) && isIdentPart(l.src, l.pos) {
		l.pos++
	}
	text := l.src[start:l.pos]
	if kw, ok := words[strings.ToLower(text)]; ok {
		kw.word, kw.pos, kw.end = true, start, l.pos
		return kw
	}
	return token{kind: tIdent, text: text, pos: start, end: l.pos}
}

// lexString reads a string literal opened by delim (at start, open bytes
// long). In a '"' string only \" is an escape; every other backslash stays
// as written so that regular expressions keep theirs. In a &quot; string
// the XML entities inside are decoded.
func (l *lexer) lexString(start, open int, delim string) (token, error) {
	var b strings.Builder
	var offs []int
	i := start + open
	for i < len(l.src) {
		rest := l.src[i:]
		switch {
		case strings.HasPrefix(rest, delim):
			l.pos = i + len(delim)
			return token{kind: tString, text: b.String(), offs: offs, pos: start, end: l.pos}, nil
		case delim == "\"" && strings.HasPrefix(rest, `\"`):
			b.WriteByte('"')
			offs = append(offs, i)
			i += 2
			continue
		case delim == "\"" && strings.HasPrefix(rest, `\\`):
			b.WriteString(`\\`)
			offs = append(offs, i, i+1)
			i += 2
			continue
		case delim != "\"" && rest[0] == '&':
			if ch, n := decodeEntity(rest); n > 0 {
				b.WriteByte(ch)
				offs = append(offs, i)
				i += n
				continue
			}
		}
		b.WriteByte(rest[0])
		offs = append(offs, i)
		i++
	}
	return token{}, newSyntaxError(l.src, start, "unterminated string")
}

// decodeEntity decodes one of the five predefined XML entities at the start
// of s, returning the character and the entity's length (0 if none).
func decodeEntity(s string) (byte, int) {
	for _, e := range [...]struct {
		text string
		ch   byte
	}{{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}} {
		if strings.HasPrefix(s, e.text) {
			return e.ch, len(e.text)
		}
	}
	return 0, 0
}

// lexQuotedName reads a single-quoted variable name such as
// 'request.header.help!me'.
func (l *lexer) lexQuotedName(start, open int, delim string) (token, error) {
	body := l.src[start+open:]
	n := strings.Index(body, delim)
	if n < 0 {
		return token{}, newSyntaxError(l.src, start, "unterminated quoted variable name")
	}
	if n == 0 {
		return token{}, newSyntaxError(l.src, start, "empty quoted variable name")
	}
	l.pos = start + open + n + len(delim)
	return token{kind: tIdent, text: body[:n], pos: start, end: l.pos}, nil
}

// lexNumber reads a numeric literal: -?digits(.digits)? with an optional
// Java suffix f/F (Float), d/D (Double) or l/L (Long). Plain integers are
// Integer (Long when they do not fit), plain decimals are Double.
func (l *lexer) lexNumber(start int) (token, error) {
	i := start
	if l.src[i] == '-' {
		i++
	}
	digits := i
	for i < len(l.src) && isDigit(l.src[i]) {
		i++
	}
	decimal := false
	if i < len(l.src) && l.src[i] == '.' {
		decimal = true
		i++
		frac := i
		for i < len(l.src) && isDigit(l.src[i]) {
			i++
		}
		if i == frac {
			return token{}, newSyntaxError(l.src, i, "expected digits after decimal point")
		}
	}
	if i == digits {
		return token{}, newSyntaxError(l.src, start, "malformed number")
	}
	text := l.src[start:i]
	var suffix byte
	if i < len(l.src) && strings.IndexByte("fFdDlL", l.src[i]) >= 0 {
		suffix = l.src[i] | 0x20
		i++
	}
	if i < len(l.src) && isIdentPart(l.src, i) {
		return token{}, newSyntaxError(l.src, i, "malformed number: unexpected %q", rune(l.src[i]))
	}
	val, err := numberValue(text, decimal, suffix)
	if err != nil {
		return token{}, newSyntaxError(l.src, start, "%s", err.Error())
	}
	l.pos = i
	return token{kind: tNumber, text: l.src[start:i], val: val, pos: start, end: i}, nil
}

// numberValue converts a literal to its Java-typed Go value.
func numberValue(text string, decimal bool, suffix byte) (any, error) {
	switch {
	case suffix == 'l' && decimal:
		return nil, errorf("number %s: a decimal cannot have the L (Long) suffix", text)
	case suffix == 'l':
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return nil, errorf("number %s is out of range for Long", text)
		}
		return n, nil
	case suffix == 'f':
		f, err := strconv.ParseFloat(text, 32)
		if err != nil {
			return nil, errorf("number %s is out of range for Float", text)
		}
		return float32(f), nil
	case suffix == 'd' || decimal:
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return nil, errorf("number %s is out of range for Double", text)
		}
		return f, nil
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return nil, errorf("number %s is out of range", text)
	}
	if n >= -1<<31 && n < 1<<31 {
		return int(n), nil
	}
	return n, nil
}
