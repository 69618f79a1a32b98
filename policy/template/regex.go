package template

import (
	"fmt"
	"regexp"
	"strings"
)

// compileJavaRegex compiles a Java regular expression with RE2. Java-only constructs
// (lookaround, backreferences, possessive quantifiers, atomic groups, \Z ...) are
// rejected with an error rather than silently changing meaning.
func compileJavaRegex(expr string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("regex %q is not supported by RE2 (Java-only construct?): %v", expr, err)
	}
	return re, nil
}

var regexCache = newCache(compileJavaRegex)

// compileReplace builds replaceAll (all=true) or replaceFirst(s, regex, replacement).
// The replacement uses Java syntax: $n and ${name} insert groups, \x is a literal x.
func compileReplace(all bool) func(args []arg) (evaluator, error) {
	return func(args []arg) (evaluator, error) {
		var fixed *regexp.Regexp
		if args[1].lit {
			re, err := compileJavaRegex(args[1].text)
			if err != nil {
				return nil, &argError{1, err.Error()}
			}
			fixed = re
		}
		return func(e *env) (string, bool) {
			vals, ok := evalAll(e, args)
			if !ok {
				return "", false
			}
			re := fixed
			if re == nil {
				var err error
				if re, err = regexCache.get(vals[1]); err != nil {
					return "", false
				}
			}
			return javaReplace(re, vals[0], vals[2], all), true
		}, nil
	}
}

func javaReplace(re *regexp.Regexp, src, repl string, all bool) string {
	n := 1
	if all {
		n = -1
	}
	matches := re.FindAllStringSubmatchIndex(src, n)
	if len(matches) == 0 {
		return src
	}
	var b strings.Builder
	last := 0
	for _, m := range matches {
		b.WriteString(src[last:m[0]])
		expandJava(&b, re, src, repl, m)
		last = m[1]
	}
	b.WriteString(src[last:])
	return b.String()
}

// expandJava appends the Java Matcher.appendReplacement expansion of repl.
func expandJava(b *strings.Builder, re *regexp.Regexp, src, repl string, m []int) {
	groups := re.NumSubexp()
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		switch {
		case c == '\\' && i+1 < len(repl):
			i++
			b.WriteByte(repl[i])
		case c == '$' && i+1 < len(repl) && repl[i+1] == '{':
			end := strings.IndexByte(repl[i:], '}')
			if end < 0 {
				return
			}
			writeGroup(b, src, m, re.SubexpIndex(repl[i+2:i+end]))
			i += end
		case c == '$' && i+1 < len(repl) && isDigit(repl[i+1]):
			i++
			g := int(repl[i] - '0')
			for i+1 < len(repl) && isDigit(repl[i+1]) && g*10+int(repl[i+1]-'0') <= groups {
				i++
				g = g*10 + int(repl[i]-'0')
			}
			if g <= groups {
				writeGroup(b, src, m, g)
			}
		default:
			b.WriteByte(c)
		}
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func writeGroup(b *strings.Builder, src string, m []int, g int) {
	if g < 0 || 2*g+1 >= len(m) || m[2*g] < 0 {
		return
	}
	b.WriteString(src[m[2*g]:m[2*g+1]])
}
