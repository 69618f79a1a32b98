package template

import (
	"fmt"
	"strings"
)

// Vars reads flow variables. Values are typed Go values: string, bool, int/int32
// (Integer), int64 (Long), float32, float64, nil, []string (a collection) or any other
// object, printed with Format. Message variables ("request.content", ...) are resolved by
// the implementation. ok=false (or a nil value) means unresolved.
type Vars interface {
	Lookup(name string) (any, bool)
}

// MapVars is a Vars backed by a map, handy for tests and simple callers.
type MapVars map[string]any

// Lookup implements Vars.
func (m MapVars) Lookup(name string) (any, bool) {
	v, ok := m[name]
	return v, ok
}

// SyntaxError is a template parse error. Offset is the 0-based byte offset of the
// offending character in the template text.
type SyntaxError struct {
	Offset int
	Msg    string
}

// Error implements error.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("template: offset %d: %s", e.Offset, e.Msg)
}

// Snippet returns the line of text holding the error and a caret line under the
// offending byte, for error reports.
func (e *SyntaxError) Snippet(text string) string {
	off := max(0, min(e.Offset, len(text)))
	start := strings.LastIndexByte(text[:off], '\n') + 1
	end := strings.IndexByte(text[off:], '\n')
	if end < 0 {
		end = len(text)
	} else {
		end += off
	}
	var caret strings.Builder
	for _, c := range text[start:off] {
		if c == '\t' {
			caret.WriteByte('\t')
		} else {
			caret.WriteByte(' ')
		}
	}
	return text[start:end] + "\n" + caret.String() + "^"
}

// Position converts the error offset to a 1-based line and column (in bytes) within
// text, to add to the position of the XML element the template came from.
func (e *SyntaxError) Position(text string) (line, col int) {
	off := max(0, min(e.Offset, len(text)))
	line = 1 + strings.Count(text[:off], "\n")
	return line, off - strings.LastIndexByte(text[:off], '\n')
}

type config struct {
	open, close  string
	custom       bool // Delimiters was given
	alsoBraces   bool
	lenient      bool
	strictSpaces bool
	rawBackslash bool
}

// Option configures Parse.
type Option func(*config)

// Delimiters sets the reference delimiters, as the AssignMessage Payload attributes
// variablePrefix and variableSuffix do (default "{" and "}"). With custom delimiters,
// braces are literal text unless AlsoBraces is given too. Empty values keep the default.
func Delimiters(prefix, suffix string) Option {
	return func(c *config) {
		if prefix == "" || suffix == "" || (prefix == "{" && suffix == "}") {
			return
		}
		c.open, c.close, c.custom = prefix, suffix, true
	}
}

// AlsoBraces makes {ref} a reference even when Delimiters set other delimiters.
// Default off: the corpus's HTML payloads with variablePrefix="^" embed CSS and
// JavaScript braces that must stay literal. [?]
func AlsoBraces() Option { return func(c *config) { c.alsoBraces = true } }

// Lenient makes a malformed reference (unknown function, space or stray character
// inside a reference, unterminated '{') literal text instead of a *SyntaxError, so
// payloads that embed JavaScript or CSS braces load. Default off. [?]
func Lenient() Option { return func(c *config) { c.lenient = true } }

// StrictSpaces rejects whitespace after a comma between function arguments. By default
// it is skipped, because a real bundle writes {replaceFirst(uri,regex, 'x')} and
// apigeelint disabled its own check for it; whitespace anywhere else inside a reference
// is always a syntax error. [?]
func StrictSpaces() Option { return func(c *config) { c.strictSpaces = true } }

// RawBackslash keeps "\{" verbatim instead of treating it as an escaped literal '{'.
// [?]
func RawBackslash() Option { return func(c *config) { c.rawBackslash = true } }

// Template is a parsed message template. It is immutable and safe for concurrent use.
type Template struct {
	text    string
	parts   []part
	literal string // rendered text when the template has no references
	refs    []string
	nrefs   int
}

// part is either literal text (ref == nil) or a reference.
type part struct {
	lit string
	ref *ref
}

// ref is one {…} placeholder: a variable (name, optional default) or a function call.
type ref struct {
	name   string
	def    string
	hasDef bool
	call   evaluator
	off    int
}

// Parse parses a message template. The error, if any, is a *SyntaxError.
func Parse(text string, opts ...Option) (*Template, error) {
	c := config{open: "{", close: "}"}
	for _, o := range opts {
		o(&c)
	}
	p := parser{text: text, cfg: &c}
	if err := p.parse(); err != nil {
		return nil, err
	}
	t := &Template{text: text, parts: p.parts, refs: p.refs}
	for _, pt := range t.parts {
		if pt.ref != nil {
			t.nrefs++
		}
	}
	if t.nrefs == 0 {
		var b strings.Builder
		for _, pt := range t.parts {
			b.WriteString(pt.lit)
		}
		t.literal = b.String()
	}
	return t, nil
}

// MustParse is Parse that panics on error, for templates fixed in code.
func MustParse(text string, opts ...Option) *Template {
	t, err := Parse(text, opts...)
	if err != nil {
		panic(err)
	}
	return t
}

// String returns the source text.
func (t *Template) String() string { return t.text }

// IsLiteral reports whether the template has no references at all.
func (t *Template) IsLiteral() bool { return t.nrefs == 0 }

// Refs returns the variable names the template reads, including function arguments,
// in order of first appearance.
func (t *Template) Refs() []string { return append([]string(nil), t.refs...) }

// Render evaluates the template. Unresolved references render as their default, or "".
func (t *Template) Render(v Vars) string {
	s, _ := t.exec(v, false)
	return s
}

// Execute is Render that also returns the names of unresolved variables that had no
// default, for callers that fault on them (IgnoreUnresolvedVariables=false).
func (t *Template) Execute(v Vars) (string, []string) {
	return t.exec(v, true)
}

func (t *Template) exec(v Vars, track bool) (string, []string) {
	if t.nrefs == 0 {
		return t.literal, nil
	}
	if v == nil {
		v = MapVars(nil)
	}
	var stack [8]string
	vals := stack[:0]
	if t.nrefs > len(stack) {
		vals = make([]string, 0, t.nrefs)
	}
	var e *env
	n := 0
	for i := range t.parts {
		r := t.parts[i].ref
		if r == nil {
			n += len(t.parts[i].lit)
			continue
		}
		var s string
		if r.call != nil {
			if e == nil {
				e = &env{vars: v, track: track}
			}
			s, _ = r.call(e)
		} else {
			s = t.lookup(v, r, &e, track)
		}
		vals = append(vals, s)
		n += len(s)
	}
	var b strings.Builder
	b.Grow(n)
	k := 0
	for i := range t.parts {
		if t.parts[i].ref == nil {
			b.WriteString(t.parts[i].lit)
			continue
		}
		b.WriteString(vals[k])
		k++
	}
	if e == nil {
		return b.String(), nil
	}
	return b.String(), e.unresolved
}

// lookup resolves a plain variable reference.
func (t *Template) lookup(v Vars, r *ref, e **env, track bool) string {
	x, ok := v.Lookup(r.name)
	if ok && x != nil {
		return Format(x)
	}
	if r.hasDef {
		return r.def
	}
	if track {
		if *e == nil {
			*e = &env{vars: v, track: track}
		}
		(*e).miss(r.name)
	}
	return ""
}

// env is the per-render state that function calls see.
type env struct {
	vars       Vars
	track      bool
	unresolved []string
}

func (e *env) miss(name string) {
	if !e.track {
		return
	}
	for _, n := range e.unresolved {
		if n == name {
			return
		}
	}
	e.unresolved = append(e.unresolved, name)
}
