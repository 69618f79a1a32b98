package bundle

import (
	"strconv"
	"strings"
)

// parseProperties reads Java .properties syntax: "key=value", "key: value"
// or "key value"; "#" and "!" comment lines; a line ending in an odd number
// of backslashes continues on the next (whose leading blanks are dropped);
// escapes \t \n \r \f \uXXXX, and "\x" for any other x. Later keys win.
func parseProperties(data []byte) map[string]string {
	out := map[string]string{}
	for _, line := range logicalLines(string(data)) {
		key, value := splitProperty(line)
		out[key] = value
	}
	return out
}

// logicalLines joins continued lines and drops blank and comment lines.
func logicalLines(s string) []string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	s = strings.TrimPrefix(s, "\ufeff")
	var out []string
	var cur strings.Builder
	continuing := false
	for _, raw := range strings.Split(s, "\n") {
		line := strings.TrimLeft(raw, " \t\f")
		if !continuing && (line == "" || line[0] == '#' || line[0] == '!') {
			continue
		}
		if trailingBackslashes(line)%2 == 1 {
			cur.WriteString(line[:len(line)-1])
			continuing = true
			continue
		}
		cur.WriteString(line)
		out = append(out, cur.String())
		cur.Reset()
		continuing = false
	}
	if continuing {
		out = append(out, cur.String())
	}
	return out
}

func trailingBackslashes(s string) int {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n
}

// splitProperty splits one logical line at the first unescaped '=', ':' or
// blank, then skips blanks and at most one '=' or ':'.
func splitProperty(line string) (string, string) {
	end := len(line)
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c == '\\' {
			i++
			continue
		}
		if c == '=' || c == ':' || c == ' ' || c == '\t' || c == '\f' {
			end = i
			break
		}
	}
	rest := strings.TrimLeft(line[end:], " \t\f")
	if rest != "" && (rest[0] == '=' || rest[0] == ':') {
		rest = strings.TrimLeft(rest[1:], " \t\f")
	}
	return unescapeProperty(line[:end]), unescapeProperty(rest)
}

func unescapeProperty(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch c := s[i]; c {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if r, err := strconv.ParseUint(s[i+1:min(i+5, len(s))], 16, 32); err == nil && i+5 <= len(s) {
				b.WriteRune(rune(r))
				i += 4
			} else {
				b.WriteByte('u')
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
