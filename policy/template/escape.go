package template

import (
	"strconv"
	"strings"
	"unicode/utf16"
)

// escapeJSON escapes s for use inside a JSON string, as Apache Commons
// StringEscapeUtils.escapeJson does: '"', '\\' and '/' are backslash-escaped, control
// characters use \b \f \n \r \t or \uXXXX, and characters above U+007F are
// written as \uXXXX (UTF-16 surrogate pairs above U+FFFF). No surrounding quotes.
func escapeJSON(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		switch r {
		case '"', '\\', '/':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r >= 0x20 && r <= 0x7f {
				b.WriteRune(r)
				continue
			}
			if r > 0xffff {
				r1, r2 := utf16.EncodeRune(r)
				writeUnicodeEscape(&b, r1)
				writeUnicodeEscape(&b, r2)
				continue
			}
			writeUnicodeEscape(&b, r)
		}
	}
	return b.String()
}

func writeUnicodeEscape(b *strings.Builder, r rune) {
	const hexd = "0123456789ABCDEF"
	b.WriteString(`\u`)
	for shift := 12; shift >= 0; shift -= 4 {
		b.WriteByte(hexd[(r>>shift)&0xf])
	}
}

var xmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")

// escapeXML replaces the five XML special characters with their entities.
func escapeXML(s string) string { return xmlEscaper.Replace(s) }

// escapeXML11 is escapeXML for XML 1.1 (Commons escapeXml11): NUL, U+FFFE, U+FFFF and
// invalid UTF-8 are dropped; other control characters become numeric references.
func escapeXML11(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		switch {
		case r == 0 || r == 0xfffe || r == 0xffff:
		case r == 0xfffd && isInvalidAt(s, i):
		case (r >= 0x1 && r <= 0x8) || r == 0xb || r == 0xc || (r >= 0xe && r <= 0x1f) ||
			(r >= 0x7f && r <= 0x84) || (r >= 0x86 && r <= 0x9f):
			b.WriteString("&#")
			b.WriteString(strconv.Itoa(int(r)))
			b.WriteByte(';')
		default:
			if e, ok := xmlEntity(r); ok {
				b.WriteString(e)
				continue
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isInvalidAt(s string, i int) bool {
	return !strings.HasPrefix(s[i:], "\uFFFD")
}

func xmlEntity(r rune) (string, bool) {
	switch r {
	case '&':
		return "&amp;", true
	case '<':
		return "&lt;", true
	case '>':
		return "&gt;", true
	case '"':
		return "&quot;", true
	case '\'':
		return "&apos;", true
	}
	return "", false
}

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;")

// encodeHTML escapes the HTML special characters: apostrophe (as &#39;), quote, angle
// brackets and ampersand.
func encodeHTML(s string) string { return htmlEscaper.Replace(s) }
