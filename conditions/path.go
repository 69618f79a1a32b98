package conditions

import "strings"

// segKind is the kind of one MatchesPath pattern segment.
type segKind uint8

const (
	segLiteral segKind = iota
	segOne             // "*" or "{name}": exactly one path element
	segMany            // "**": one or more path elements
	segGlob            // a segment mixing '*' with text: a glob within one element
)

type segment struct {
	kind  segKind
	text  string   // segLiteral
	parts []string // segGlob
}

// pathPattern is MatchesPath/LikePath: the pattern and the path are split on
// '/', "*" and "{name}" match one element, "**" one or more, and '%'
// escapes the next character ("%{user%}" is the literal "{user}").
type pathPattern struct {
	segs          []segment
	literal       string // the whole pattern when it has no wildcard (exact)
	prefix        string // the literal part before a final "**" (prefixOnly)
	exact         bool
	prefixOnly    bool
	trailingSlash bool // a trailing '/' is significant
	emptyIsSlash  bool // an empty path matches as "/"
}

func newPathPattern(pattern string, cfg *config) *pathPattern {
	p := &pathPattern{trailingSlash: cfg.pathTrailingSlash, emptyIsSlash: cfg.pathEmptyIsSlash}
	if !p.trailingSlash {
		pattern = trimTrailingSlash(pattern)
	}
	for _, raw := range splitUnescaped(pattern) {
		p.segs = append(p.segs, parseSegment(raw))
	}
	p.shortcut()
	return p
}

// shortcut recognises the two commonest shapes, a literal path and a literal
// prefix ending in "/**", which then match with one string operation.
func (p *pathPattern) shortcut() {
	var b strings.Builder
	for i, s := range p.segs {
		switch {
		case s.kind == segMany && i == len(p.segs)-1 && i > 0:
			p.prefix, p.prefixOnly = b.String(), true
			return
		case s.kind != segLiteral:
			return
		}
		b.WriteString(s.text)
		if i < len(p.segs)-1 {
			b.WriteByte('/')
		}
	}
	p.literal, p.exact = b.String(), true
}

// trimTrailingSlash removes one trailing '/' unless the path is just "/".
func trimTrailingSlash(s string) string {
	if len(s) > 1 && s[len(s)-1] == '/' && (len(s) < 2 || s[len(s)-2] != '%') {
		return s[:len(s)-1]
	}
	return s
}

// splitUnescaped splits on '/' that is not escaped with '%'.
func splitUnescaped(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '%':
			i++
		case '/':
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// parseSegment classifies one raw (still escaped) pattern segment.
func parseSegment(raw string) segment {
	switch {
	case raw == "**":
		return segment{kind: segMany}
	case raw == "*":
		return segment{kind: segOne}
	case len(raw) >= 2 && raw[0] == '{' && raw[len(raw)-1] == '}' && !strings.Contains(raw, "%"):
		return segment{kind: segOne}
	}
	var parts []string
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c == '%' && i+1 < len(raw):
			i++
			b.WriteByte(raw[i])
		case c == '*':
			parts = append(parts, b.String())
			b.Reset()
		default:
			b.WriteByte(c)
		}
	}
	parts = append(parts, b.String())
	if len(parts) == 1 {
		return segment{kind: segLiteral, text: parts[0]}
	}
	return segment{kind: segGlob, parts: parts}
}

func (p *pathPattern) match(path string) bool {
	if path == "" && p.emptyIsSlash {
		path = "/"
	}
	if !p.trailingSlash {
		path = trimTrailingSlash(path)
	}
	switch {
	case p.exact:
		return path == p.literal
	case p.prefixOnly:
		return strings.HasPrefix(path, p.prefix)
	}
	return matchSegments(p.segs, path)
}

// matchSegments matches pattern segments against the '/'-separated
// elements of path without allocating.
func matchSegments(segs []segment, path string) bool {
	for i, s := range segs {
		if s.kind == segMany {
			return matchMany(segs[i+1:], path)
		}
		elem, rest, more := strings.Cut(path, "/")
		if !s.matchElem(elem) {
			return false
		}
		if i == len(segs)-1 {
			return !more
		}
		if !more {
			return false
		}
		path = rest
	}
	return false
}

// matchMany matches "**" (one or more elements) followed by segs: it tries
// every split point after at least one element.
func matchMany(segs []segment, path string) bool {
	for i := 0; i <= len(path); i++ {
		if i < len(path) && path[i] != '/' {
			continue
		}
		if len(segs) == 0 {
			if i == len(path) {
				return true
			}
			continue
		}
		if i < len(path) && matchSegments(segs, path[i+1:]) {
			return true
		}
	}
	return false
}

func (s segment) matchElem(elem string) bool {
	switch s.kind {
	case segOne:
		return elem != ""
	case segGlob:
		return globParts(s.parts, elem)
	}
	return elem == s.text
}
