package template

import (
	"fmt"
	"strings"
)

// parser turns template text into parts. It runs once per template, at build time.
type parser struct {
	text  string
	cfg   *config
	parts []part
	lit   strings.Builder
	refs  []string
}

func (p *parser) parse() error {
	text, c := p.text, p.cfg
	braces := !c.custom || c.alsoBraces
	for i := 0; i < len(text); {
		switch {
		case braces && !c.rawBackslash && strings.HasPrefix(text[i:], `\{`):
			p.lit.WriteByte('{')
			i += 2
		case c.custom && p.startsRef(i, c.open):
			n, err := p.reference(i, c.open, c.close)
			if err != nil {
				return err
			}
			i = n
		case braces && p.startsRef(i, "{"):
			n, err := p.reference(i, "{", "}")
			if err != nil {
				return err
			}
			i = n
		default:
			p.lit.WriteByte(text[i])
			i++
		}
	}
	p.flush()
	return nil
}

// startsRef reports whether open occurs at i and is followed by a letter or '_'.
func (p *parser) startsRef(i int, open string) bool {
	j := i + len(open)
	return strings.HasPrefix(p.text[i:], open) && j < len(p.text) && isNameStart(p.text[j])
}

func isNameStart(b byte) bool {
	return b == '_' || ('a' <= b && b <= 'z') || ('A' <= b && b <= 'Z')
}

func (p *parser) flush() {
	if p.lit.Len() > 0 {
		p.parts = append(p.parts, part{lit: p.lit.String()})
		p.lit.Reset()
	}
}

// reference parses the reference opening at i and returns the offset after it. In
// lenient mode a malformed reference becomes literal text.
func (p *parser) reference(i int, open, close string) (int, error) {
	start := i + len(open)
	end := findClose(p.text, start, close)
	if end < 0 {
		if p.cfg.lenient {
			p.lit.WriteString(open)
			return start, nil
		}
		return 0, &SyntaxError{Offset: i, Msg: fmt.Sprintf("unterminated reference: no closing %q", close)}
	}
	r, err := p.parseRef(p.text[start:end], start)
	if err != nil {
		if p.cfg.lenient {
			p.lit.WriteString(p.text[i : end+len(close)])
			return end + len(close), nil
		}
		return 0, err
	}
	p.flush()
	p.parts = append(p.parts, part{ref: r})
	return end + len(close), nil
}

// findClose returns the offset of close at or after start, or -1. Inside a function's
// argument list, single-quoted literals are skipped (so xeger('[0-9]{3}') works); in a
// name or a :default, quotes are ordinary characters ({greeting:It's me}).
func findClose(text string, start int, close string) int {
	inCall, inDefault, quoted := false, false, false
	for j := start; j < len(text); j++ {
		switch c := text[j]; {
		case quoted:
			quoted = c != '\''
		case strings.HasPrefix(text[j:], close):
			return j
		case c == '\'' && inCall:
			quoted = true
		case c == '(' && !inDefault:
			inCall = true
		case c == ':' && !inCall:
			inDefault = true
		}
	}
	return -1
}

// nameEnd returns the end of a bare token (variable name or unquoted literal) at s[i:].
func nameEnd(s string, i int) int {
	for ; i < len(s); i++ {
		switch s[i] {
		case ':', '(', ')', '{', '}', ',', '\'', '"', ' ', '\t', '\n', '\r':
			return i
		}
	}
	return i
}

// parseRef parses the inside of a reference; off is its offset in the template.
func (p *parser) parseRef(s string, off int) (*ref, error) {
	j := nameEnd(s, 0)
	name := s[:j]
	if j == len(s) {
		p.addRef(name)
		return &ref{name: name, off: off}, nil
	}
	switch c := s[j]; c {
	case ':':
		p.addRef(name)
		return &ref{name: name, def: s[j+1:], hasDef: true, off: off}, nil
	case '(':
		return p.parseCall(name, s, j, off)
	case ' ', '\t', '\n', '\r':
		return nil, &SyntaxError{Offset: off + j, Msg: "whitespace inside a reference"}
	default:
		return nil, &SyntaxError{Offset: off + j, Msg: fmt.Sprintf("unexpected %q in reference %q", c, name)}
	}
}

func (p *parser) addRef(name string) {
	for _, n := range p.refs {
		if n == name {
			return
		}
	}
	p.refs = append(p.refs, name)
}

// parseCall parses fn(args...) where s[j] is '('.
func (p *parser) parseCall(fn, s string, j, off int) (*ref, error) {
	def, ok := lookupFunc(fn)
	if !ok {
		return nil, &SyntaxError{Offset: off, Msg: fmt.Sprintf("unknown function %q", fn)}
	}
	args, k, err := p.parseArgs(s, j+1, off)
	if err != nil {
		return nil, err
	}
	if k != len(s) {
		return nil, &SyntaxError{Offset: off + k, Msg: fmt.Sprintf("unexpected %q after %s(...)", s[k:], fn)}
	}
	if len(args) < def.min || len(args) > def.max {
		return nil, &SyntaxError{Offset: off, Msg: fmt.Sprintf("%s takes %s, got %d", fn, arity(def), len(args))}
	}
	for _, a := range args {
		if !a.lit {
			p.addRef(a.text)
		}
	}
	call, err := def.compile(args)
	if err != nil {
		if ae, ok := err.(*argError); ok {
			return nil, &SyntaxError{Offset: args[ae.i].off, Msg: fmt.Sprintf("%s: %s", fn, ae.msg)}
		}
		return nil, &SyntaxError{Offset: off, Msg: fmt.Sprintf("%s: %v", fn, err)}
	}
	return &ref{name: fn, call: call, off: off}, nil
}

func arity(d funcDef) string {
	switch {
	case d.min == d.max:
		return fmt.Sprintf("%d argument(s)", d.min)
	case d.max > 99:
		return fmt.Sprintf("at least %d arguments", d.min)
	}
	return fmt.Sprintf("%d to %d arguments", d.min, d.max)
}

// parseArgs parses a comma-separated argument list starting at s[i] (just after '(')
// and returns the args and the offset just after ')'.
func (p *parser) parseArgs(s string, i, off int) ([]arg, int, error) {
	if i < len(s) && s[i] == ')' {
		return nil, i + 1, nil
	}
	var args []arg
	for {
		a, k, err := p.parseArg(s, i, off)
		if err != nil {
			return nil, 0, err
		}
		args = append(args, a)
		if k >= len(s) {
			return nil, 0, &SyntaxError{Offset: off + k, Msg: "missing ')' in function call"}
		}
		switch s[k] {
		case ')':
			return args, k + 1, nil
		case ',':
			i = k + 1
			for !p.cfg.strictSpaces && i < len(s) && s[i] == ' ' {
				i++
			}
		case ' ', '\t', '\n', '\r':
			return nil, 0, &SyntaxError{Offset: off + k, Msg: "whitespace inside a function call"}
		case '(':
			return nil, 0, &SyntaxError{Offset: off + k, Msg: "nested function calls are not allowed"}
		default:
			return nil, 0, &SyntaxError{Offset: off + k, Msg: fmt.Sprintf("unexpected %q in function call", s[k])}
		}
	}
}

// parseArg parses one argument at s[i]: a 'quoted literal'; a bare token starting with
// a letter or '_', which is a variable name with an optional :default; or another bare
// token, which is a literal (numbers, $.json.paths, /xpaths; it may hold balanced
// (...) and [...] groups, quotes inside them, and colons).
func (p *parser) parseArg(s string, i, off int) (arg, int, error) {
	if i < len(s) && s[i] == '\'' {
		k := strings.IndexByte(s[i+1:], '\'')
		if k < 0 {
			return arg{}, 0, &SyntaxError{Offset: off + i, Msg: "unterminated string literal"}
		}
		return arg{lit: true, text: s[i+1 : i+1+k], off: off + i}, i + k + 2, nil
	}
	if i < len(s) && !isNameStart(s[i]) && !isArgStop(s[i]) {
		k, err := literalEnd(s, i, off)
		if err != nil {
			return arg{}, 0, err
		}
		return arg{lit: true, text: s[i:k], off: off + i}, k, nil
	}
	k := nameEnd(s, i)
	if k == i {
		if k < len(s) && (s[k] == ' ' || s[k] == '\t' || s[k] == '\n' || s[k] == '\r') {
			return arg{}, 0, &SyntaxError{Offset: off + k, Msg: "whitespace inside a function call"}
		}
		return arg{}, 0, &SyntaxError{Offset: off + k, Msg: "empty function argument"}
	}
	a := arg{text: s[i:k], off: off + i}
	if k < len(s) && s[k] == ':' {
		d := k + 1
		k = defaultEnd(s, d)
		a.def, a.hasDef = s[d:k], true
	}
	if k < len(s) && s[k] == '(' {
		return arg{}, 0, &SyntaxError{Offset: off + i, Msg: "nested function calls are not allowed"}
	}
	return a, k, nil
}

func isArgStop(c byte) bool {
	switch c {
	case ',', ')', '(', '{', '}', '\'', '"', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// literalEnd returns the end of a bare literal argument at s[i]: it stops at ',' or
// ')' outside brackets and at whitespace; quotes are only allowed inside brackets.
func literalEnd(s string, i, off int) (int, error) {
	var stack []byte
	for k := i; k < len(s); k++ {
		switch c := s[k]; c {
		case '(', '[':
			stack = append(stack, c)
		case ')', ']':
			if len(stack) == 0 {
				if c == ')' {
					return k, nil
				}
				return 0, &SyntaxError{Offset: off + k, Msg: "unbalanced ']' in argument"}
			}
			if open := stack[len(stack)-1]; (open == '(') != (c == ')') {
				return 0, &SyntaxError{Offset: off + k, Msg: fmt.Sprintf("mismatched %q in argument", c)}
			}
			stack = stack[:len(stack)-1]
		case ',':
			if len(stack) == 0 {
				return k, nil
			}
		case '\'', '"':
			if len(stack) == 0 {
				return k, nil
			}
			q := strings.IndexByte(s[k+1:], c)
			if q < 0 {
				return 0, &SyntaxError{Offset: off + k, Msg: "unterminated string literal"}
			}
			k += q + 1
		case ' ', '\t', '\n', '\r', '{', '}':
			return k, nil
		}
	}
	if len(stack) > 0 {
		return 0, &SyntaxError{Offset: off + i, Msg: "unbalanced brackets in argument"}
	}
	return len(s), nil
}

// defaultEnd returns the end of an argument default value starting at s[i].
func defaultEnd(s string, i int) int {
	for ; i < len(s); i++ {
		if s[i] == ',' || s[i] == ')' {
			return i
		}
	}
	return i
}
