package bundle

import (
	"strings"

	"github.com/beevik/etree"
)

// blanks are the characters trimmed around a condition (XML white space).
const blanks = " \t\r\n"

// PosAt returns the file position of byte offset of c.Text. It walks Raw
// (the element's source), so newlines inside the condition and entity
// escapes ("&amp;&amp;" is 2 bytes of Text and 10 of the file) map exactly.
// Offsets past the end map to the end of the text. A Condition built by
// hand, without Raw, assumes Text sits on one line at Pos.
func (c *Condition) PosAt(offset int) Pos {
	if c == nil {
		return Pos{}
	}
	offset = max(0, min(offset, len(c.Text)))
	if c.Raw == "" || c.rawPos.Line == 0 {
		p := c.Pos
		if p.Line > 0 {
			p.Col += offset
		}
		return p
	}
	text, rawIdx := unescapeRaw(c.Raw)
	start := len(text) - len(strings.TrimLeft(text, blanks))
	i := start + offset
	r := len(c.Raw)
	if i < len(rawIdx) {
		r = rawIdx[i]
	}
	return advance(c.rawPos, c.Raw[:r])
}

// advance moves p over s, counting lines and byte columns.
func advance(p Pos, s string) Pos {
	if nl := strings.LastIndexByte(s, '\n'); nl >= 0 {
		p.Line += strings.Count(s, "\n")
		p.Col = len(s) - nl
		return p
	}
	p.Col += len(s)
	return p
}

// unescapeRaw decodes element content the way an XML parser does (entities,
// character references, CDATA sections, comments and processing
// instructions dropped, CRLF folded) and returns, for each byte of the
// result, its offset in raw. Malformed input is copied through as is: the
// XML parser already rejected it.
func unescapeRaw(raw string) (string, []int) {
	var b strings.Builder
	idx := make([]int, 0, len(raw))
	emit := func(s string, at int) {
		b.WriteString(s)
		for range len(s) {
			idx = append(idx, at)
		}
	}
	for i := 0; i < len(raw); {
		switch {
		case strings.HasPrefix(raw[i:], "<![CDATA["):
			j := strings.Index(raw[i+9:], "]]>")
			if j < 0 {
				j = len(raw) - i - 9
			}
			for k := i + 9; k < i+9+j; k++ {
				emit(raw[k:k+1], k)
			}
			i += 9 + j + 3
		case strings.HasPrefix(raw[i:], "<!--"):
			i = skipPast(raw, i, "-->")
		case strings.HasPrefix(raw[i:], "<?"):
			i = skipPast(raw, i, "?>")
		case raw[i] == '&':
			s, n := entity(raw[i:])
			emit(s, i)
			i += n
		case raw[i] == '\r':
			emit("\n", i)
			i++
			if i < len(raw) && raw[i] == '\n' {
				i++
			}
		default:
			emit(raw[i:i+1], i)
			i++
		}
	}
	return b.String(), idx
}

func skipPast(raw string, i int, end string) int {
	j := strings.Index(raw[i:], end)
	if j < 0 {
		return len(raw)
	}
	return i + j + len(end)
}

// entity decodes the reference at the start of s ("&amp;", "&#10;") and
// returns its text and source length.
func entity(s string) (string, int) {
	semi := strings.IndexByte(s, ';')
	if semi < 0 || semi > 12 {
		return "&", 1
	}
	name := s[1:semi]
	switch name {
	case "amp":
		return "&", semi + 1
	case "lt":
		return "<", semi + 1
	case "gt":
		return ">", semi + 1
	case "quot":
		return `"`, semi + 1
	case "apos":
		return "'", semi + 1
	}
	if r, ok := charRef(name); ok {
		return string(r), semi + 1
	}
	return "&", 1
}

func charRef(name string) (rune, bool) {
	if len(name) < 2 || name[0] != '#' {
		return 0, false
	}
	base, digits := 10, name[1:]
	if digits[0] == 'x' {
		base, digits = 16, digits[1:]
	}
	var r rune
	for _, c := range digits {
		var v rune
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case base == 16 && c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case base == 16 && c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, false
		}
		r = r*rune(base) + v
		if r > 0x10FFFF {
			return 0, false
		}
	}
	return r, digits != ""
}

// condition reads a <Condition> element: nil when absent or blank.
func (d *Doc) condition(e *etree.Element, ps *Problems) *Condition {
	if e == nil {
		return nil
	}
	if len(e.ChildElements()) > 0 {
		ps.Errorf(d.Pos(e.ChildElements()[0]), "<Condition> must hold only text")
	}
	raw, rawPos := d.raw(e)
	text, _ := unescapeRaw(raw)
	trimmed := strings.Trim(text, blanks)
	if trimmed == "" {
		return nil
	}
	c := &Condition{Text: trimmed, Raw: raw, rawPos: rawPos}
	c.Pos = c.PosAt(0)
	return c
}
