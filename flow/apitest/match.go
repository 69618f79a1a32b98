package apitest

import (
	"regexp"
	"strconv"
	"strings"
)

// textMatch is an expected text: exact, or a regular expression when written
// /like this/.
type textMatch struct {
	text string
	re   *regexp.Regexp
}

// compileText reads an expected value; "/.../" is a regex.
func compileText(s string) (textMatch, error) {
	if len(s) >= 2 && strings.HasPrefix(s, "/") && strings.HasSuffix(s, "/") {
		re, err := regexp.Compile(s[1 : len(s)-1])
		if err != nil {
			return textMatch{}, err
		}
		return textMatch{text: s, re: re}, nil
	}
	return textMatch{text: s}, nil
}

func (m textMatch) match(s string) bool {
	if m.re != nil {
		return m.re.MatchString(s)
	}
	return s == m.text
}

// String is the expectation as written, quoted unless a regex.
func (m textMatch) String() string {
	if m.re != nil {
		return m.text
	}
	return strconv.Quote(m.text)
}

// compileGlob turns a path glob into a regex: * matches within a segment,
// ** across segments (/v1/** matches /v1 too), ? one character; anything
// else is literal.
func compileGlob(glob string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(glob); i++ {
		switch c := glob[i]; {
		case strings.HasPrefix(glob[i:], "/**"):
			b.WriteString("(/.*)?")
			i += 2
		case c == '*' && i+1 < len(glob) && glob[i+1] == '*':
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// hasURLPrefix reports whether u starts with prefix on a boundary: the
// prefix https://h/v1 matches https://h/v1, https://h/v1/x and
// https://h/v1?q but not https://h/v10.
func hasURLPrefix(u, prefix string) bool {
	if !strings.HasPrefix(u, prefix) {
		return false
	}
	if len(u) == len(prefix) || strings.HasSuffix(prefix, "/") {
		return true
	}
	switch u[len(prefix)] {
	case '/', '?', '#':
		return true
	}
	return false
}
