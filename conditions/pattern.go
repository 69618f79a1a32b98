package conditions

import (
	"errors"
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"
)

// matcher tests a string against a compiled pattern.
type matcher interface{ match(s string) bool }

// patternError is a pattern that does not compile; at is the byte index in
// the pattern text where the problem is.
type patternError struct {
	at  int
	msg string
}

func (e *patternError) Error() string { return e.msg }

// compilePattern compiles the right-hand side of a pattern operator.
func compilePattern(o op, pattern string, cfg *config) (matcher, error) {
	switch o {
	case opMatches, opNotMatches:
		return newGlob(pattern), nil
	case opRegex, opNotRegex:
		return compileJavaRegex(pattern)
	case opPath, opNotPath:
		return newPathPattern(pattern, cfg), nil
	}
	return prefix(pattern), nil
}

// prefix is StartsWith: a case-sensitive prefix test.
type prefix string

func (p prefix) match(s string) bool { return strings.HasPrefix(s, string(p)) }

// glob is Matches/Like: '*' matches any run of characters, '/' included;
// everything else is literal; the whole string must match.
type glob struct {
	parts []string // literal pieces between stars
	star  bool     // the pattern contains at least one '*'
}

func newGlob(pattern string) glob {
	return glob{parts: strings.Split(pattern, "*"), star: strings.Contains(pattern, "*")}
}

func (g glob) match(s string) bool {
	if !g.star {
		return s == g.parts[0]
	}
	return globParts(g.parts, s)
}

// globParts matches s against literal parts separated by stars: the first
// part is a prefix, the last a suffix, the middle ones appear in order
// (leftmost placement is optimal for '*'-only globs).
func globParts(parts []string, s string) bool {
	first, last := parts[0], parts[len(parts)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return true
}

// javaOnly lists Java regex constructs RE2 lacks, by their opening text.
var javaOnly = []struct{ text, name string }{
	{"(?<=", "look-behind (?<=...)"}, {"(?<!", "negative look-behind (?<!...)"},
	{"(?=", "look-ahead (?=...)"}, {"(?!", "negative look-ahead (?!...)"},
	{"(?>", "atomic group (?>...)"},
}

// compileJavaRegex compiles a java.util.regex pattern with Go's RE2,
// anchored to the whole input as Matcher.matches() is. Constructs RE2
// cannot run are reported with their position.
func compileJavaRegex(pattern string) (matcher, error) {
	if err := checkJavaOnly(pattern); err != nil {
		return nil, err
	}
	re, err := regexp.Compile(`^(?:` + pattern + `)$`)
	if err != nil {
		at := 0
		var se *syntax.Error
		if errors.As(err, &se) && se.Expr != "" {
			at = max(strings.Index(pattern, se.Expr), 0)
		}
		return nil, &patternError{at: at, msg: "invalid JavaRegex: " + strings.TrimPrefix(err.Error(), "error parsing regexp: ")}
	}
	return regex{re}, nil
}

// regex adapts a compiled regexp to matcher.
type regex struct{ re *regexp.Regexp }

func (r regex) match(s string) bool { return r.re.MatchString(s) }

// checkJavaOnly scans a Java regex, skipping escapes and character classes,
// for look-around, atomic groups, back-references and possessive
// quantifiers.
func checkJavaOnly(p string) error {
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			if n := p[i+1]; !inClass && (n >= '1' && n <= '9' || n == 'k' && i+2 < len(p) && p[i+2] == '<') {
				return &patternError{at: i, msg: "JavaRegex back-reference \\" + string(n) + " is not supported by Go's RE2 engine"}
			}
			i++
		case inClass:
			inClass = c != ']'
		case c == '[':
			inClass = true
			if i+1 < len(p) && p[i+1] == ']' {
				i++
			}
		case c == '(':
			for _, j := range javaOnly {
				if strings.HasPrefix(p[i:], j.text) {
					return &patternError{at: i, msg: "JavaRegex " + j.name + " is not supported by Go's RE2 engine"}
				}
			}
		case c == '+' && i > 0 && isQuantifierEnd(p, i-1):
			return &patternError{at: i, msg: "JavaRegex possessive quantifier " + p[i-1:i+1] + " is not supported by Go's RE2 engine"}
		}
	}
	return nil
}

// isQuantifierEnd reports whether p[i] ends a quantifier (so a '+' after
// it makes the quantifier possessive).
func isQuantifierEnd(p string, i int) bool {
	if i > 0 && p[i-1] == '\\' {
		return false
	}
	switch p[i] {
	case '*', '?', '}':
		return !(p[i] == '?' && i > 0 && p[i-1] == '(')
	case '+':
		return i > 0 && p[i-1] != '\\' && p[i-1] != '+' && p[i-1] != '('
	}
	return false
}

// patternCache holds patterns compiled at evaluation time, when the right
// operand of a pattern operator is a variable. It is bounded: when full it
// is emptied, which keeps memory flat under hostile input.
type patternCache struct {
	mu sync.RWMutex
	m  map[patternKey]matcher
}

type patternKey struct {
	kind    op
	pattern string
	cfg     config
}

const patternCacheSize = 1024

var dynamicPatterns = patternCache{m: map[patternKey]matcher{}}

// get returns the compiled pattern, or nil when it does not compile.
func (c *patternCache) get(o op, pattern string, cfg *config) matcher {
	key := patternKey{kind: positive(o), pattern: pattern, cfg: *cfg}
	c.mu.RLock()
	m, ok := c.m[key]
	c.mu.RUnlock()
	if ok {
		return m
	}
	m, err := compilePattern(o, pattern, cfg)
	if err != nil {
		m = nil
	}
	c.mu.Lock()
	if len(c.m) >= patternCacheSize {
		clear(c.m)
	}
	c.m[key] = m
	c.mu.Unlock()
	return m
}

// positive maps a negated pattern operator to its positive form.
func positive(o op) op {
	switch o {
	case opNotMatches:
		return opMatches
	case opNotRegex:
		return opRegex
	case opNotPath:
		return opPath
	case opNotStarts:
		return opStarts
	}
	return o
}
