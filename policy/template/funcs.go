package template

import (
	"crypto/rand"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"strconv"
	"strings"
	"unicode/utf8"
)

// evaluator computes a function call; ok=false means the result is null (renders "").
type evaluator func(e *env) (string, bool)

// funcDef describes one template function: its arity and how to compile a call.
type funcDef struct {
	min, max int
	compile  func(args []arg) (evaluator, error)
}

// argError is a compile error about one argument; the parser turns it into a
// *SyntaxError at that argument's offset.
type argError struct {
	i   int
	msg string
}

func (e *argError) Error() string { return e.msg }

var funcTable map[string]funcDef

func init() {
	funcTable = map[string]funcDef{
		"firstnonnull":    {1, 1000, compileFirstNonNull},
		"escapeJSON":      unary(escapeJSON),
		"escapeXML":       unary(escapeXML),
		"escapeXML11":     unary(escapeXML11),
		"encodeHTML":      unary(encodeHTML),
		"toUpperCase":     unary(strings.ToUpper),
		"toLowerCase":     unary(strings.ToLower),
		"substring":       {2, 3, compileSubstring},
		"replaceAll":      {3, 3, compileReplace(true)},
		"replaceFirst":    {3, 3, compileReplace(false)},
		"jsonPath":        {2, 3, compileJSONPathCall},
		"xpath":           {2, 12, compileXPathCall},
		"xPath":           {2, 12, compileXPathCall},
		"encodeBase64":    unary(encodeBase64),
		"decodeBase64":    {1, 1, compileDecodeBase64},
		"timeFormat":      {2, 2, compileTimeFormat(1000)},
		"timeFormatMs":    {2, 2, compileTimeFormat(1)},
		"timeFormatUTC":   {2, 2, compileTimeFormat(1000)},
		"timeFormatUTCMs": {2, 2, compileTimeFormat(1)},
		"randomLong":      {0, 2, compileRandomLong},
		"xeger":           {1, 1, compileXeger},
		"createUuid":      {0, 0, compileCreateUUID},
	}
	for name, d := range digestFuncs() {
		funcTable[name] = d
	}
	for name, d := range hmacFuncs() {
		funcTable[name] = d
	}
}

func lookupFunc(name string) (funcDef, bool) {
	d, ok := funcTable[name]
	return d, ok
}

// arg is one function argument: a literal ('quoted', or a bare token that does not
// start with a letter or '_') or a variable name with an optional default.
type arg struct {
	lit    bool
	text   string
	def    string
	hasDef bool
	off    int
}

// eval returns the argument's value; an unresolved variable without default is
// reported to e and yields ok=false.
func (a *arg) eval(e *env) (string, bool) {
	s, ok := a.peek(e)
	if !ok {
		e.miss(a.text)
	}
	return s, ok
}

// peek is eval without reporting unresolved variables.
func (a *arg) peek(e *env) (string, bool) {
	if a.lit {
		return a.text, true
	}
	if x, ok := e.vars.Lookup(a.text); ok && x != nil {
		return Format(x), true
	}
	if a.hasDef {
		return a.def, true
	}
	return "", false
}

// unary is a one-argument string function; a null argument gives a null result.
func unary(f func(string) string) funcDef {
	return funcDef{1, 1, func(args []arg) (evaluator, error) {
		a := args[0]
		return func(e *env) (string, bool) {
			s, ok := a.eval(e)
			if !ok {
				return "", false
			}
			return f(s), true
		}, nil
	}}
}

// compileFirstNonNull: the left-most argument that is set ("" counts as set).
func compileFirstNonNull(args []arg) (evaluator, error) {
	return func(e *env) (string, bool) {
		for i := range args {
			if s, ok := args[i].peek(e); ok {
				return s, true
			}
		}
		for i := range args {
			if !args[i].lit {
				e.miss(args[i].text)
			}
		}
		return "", false
	}, nil
}

// compileSubstring: substring(s, start[, end]) on characters, end exclusive; negative
// indices count from the end; indices are clamped to the string.
func compileSubstring(args []arg) (evaluator, error) {
	for i := 1; i < len(args); i++ {
		if args[i].lit {
			if _, ok := parseInt(args[i].text); !ok {
				return nil, &argError{i, fmt.Sprintf("index %q is not an integer", args[i].text)}
			}
		}
	}
	return func(e *env) (string, bool) {
		s, ok := args[0].eval(e)
		if !ok {
			return "", false
		}
		n := int64(utf8.RuneCountInString(s))
		start, ok := intArg(e, &args[1])
		if !ok {
			return "", false
		}
		end := n
		if len(args) == 3 {
			if end, ok = intArg(e, &args[2]); !ok {
				return "", false
			}
		}
		start, end = clampIndex(start, n), clampIndex(end, n)
		if start >= end {
			return "", true
		}
		if int64(len(s)) == n {
			return s[start:end], true
		}
		r := []rune(s)
		return string(r[start:end]), true
	}, nil
}

func clampIndex(i, n int64) int64 {
	if i < 0 {
		i += n
	}
	return max(0, min(i, n))
}

func intArg(e *env, a *arg) (int64, bool) {
	s, ok := a.eval(e)
	if !ok {
		return 0, false
	}
	return parseInt(s)
}

// parseInt reads an integer argument, accepting a whole float such as "10.0".
func parseInt(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > math.MaxInt64 {
		return 0, false
	}
	return int64(f), true
}

// compileRandomLong: randomLong() any long; randomLong(min) in [min, MaxInt64);
// randomLong(min, max) in [min, max) (min when equal; null when max < min).
func compileRandomLong(args []arg) (evaluator, error) {
	for i := range args {
		if args[i].lit {
			if _, ok := parseInt(args[i].text); !ok {
				return nil, &argError{i, fmt.Sprintf("bound %q is not an integer", args[i].text)}
			}
		}
	}
	return func(e *env) (string, bool) {
		if len(args) == 0 {
			return strconv.FormatInt(int64(mrand.Uint64()), 10), true
		}
		lo, ok := intArg(e, &args[0])
		if !ok {
			return "", false
		}
		hi := int64(math.MaxInt64)
		if len(args) == 2 {
			if hi, ok = intArg(e, &args[1]); !ok {
				return "", false
			}
		}
		n, ok := randomBetween(lo, hi)
		if !ok {
			return "", false
		}
		return strconv.FormatInt(n, 10), true
	}, nil
}

func randomBetween(lo, hi int64) (int64, bool) {
	switch {
	case hi < lo:
		return 0, false
	case hi == lo:
		return lo, true
	}
	span := uint64(hi) - uint64(lo)
	return int64(uint64(lo) + mrand.Uint64N(span)), true
}

func compileCreateUUID([]arg) (evaluator, error) {
	return func(*env) (string, bool) { return newUUID(), true }, nil
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hexd = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hexd[c>>4], hexd[c&0xf])
	}
	return string(out)
}
