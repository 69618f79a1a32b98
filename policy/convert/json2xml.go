package convert

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// ToXML converts JSON to XML with fixed options. It is immutable and safe
// for concurrent use.
type ToXML struct{ o ToXMLOptions }

// NewToXML prepares a converter for o.
func NewToXML(o ToXMLOptions) *ToXML { return &ToXML{o: o} }

const xmlDeclaration = `<?xml version="1.0" encoding="UTF-8"?>`

// Convert turns a JSON document into XML text. A malformed document gives
// a *SyntaxError. Member order is kept.
func (c *ToXML) Convert(src []byte) (string, error) {
	v, err := parseJSON(string(src))
	if err != nil {
		return "", err
	}
	w := &xmlWriter{o: &c.o}
	w.b.Grow(len(src) * 2)
	if !c.o.OmitXMLDeclaration {
		w.b.WriteString(xmlDeclaration)
		if c.o.Indent {
			w.b.WriteByte('\n')
		}
	}
	switch {
	case v.kind == kArray:
		w.element(c.o.ArrayRootElementName, v, 0)
	case v.kind == kObject && len(v.members) == 1 && v.members[0].val.kind != kArray &&
		!w.special(v.members[0].key) && !w.isText(v.members[0]):
		w.element(v.members[0].key, v.members[0].val, 0)
	default:
		w.element(c.o.ObjectRootElementName, v, 0)
	}
	return w.b.String(), nil
}

type xmlWriter struct {
	o *ToXMLOptions
	b strings.Builder
}

// isText reports whether m is the element's text (TextNodeName with a
// scalar value).
func (w *xmlWriter) isText(m member) bool {
	return w.o.TextNodeName != "" && m.key == w.o.TextNodeName && m.val.kind != kObject && m.val.kind != kArray
}

// special reports whether a member name is not an element: attribute
// block, namespace block or prefixed attribute.
func (w *xmlWriter) special(key string) bool {
	o := w.o
	return o.AttributeBlockName != "" && key == o.AttributeBlockName ||
		o.NamespaceBlockName != "" && key == o.NamespaceBlockName ||
		o.AttributePrefix != "" && strings.HasPrefix(key, o.AttributePrefix)
}

// element writes <name>...</name> for v. An array writes its items as
// ArrayItemElementName children.
func (w *xmlWriter) element(key string, v *value, depth int) {
	name := w.name(key)
	w.indent(depth)
	w.b.WriteByte('<')
	w.b.WriteString(name)
	switch v.kind {
	case kObject:
		w.object(name, v, depth)
		return
	case kArray:
		if len(v.items) == 0 {
			w.b.WriteString("/>")
			return
		}
		w.b.WriteByte('>')
		for _, it := range v.items {
			w.element(w.o.ArrayItemElementName, it, depth+1)
		}
		w.closeTag(name, depth, true)
		return
	}
	text := v.text
	if v.kind == kNull {
		text = w.o.NullValue
	}
	if text == "" {
		w.b.WriteString("/>")
		return
	}
	w.b.WriteByte('>')
	escapeText(&w.b, text)
	w.closeTag(name, depth, false)
}

// object writes the rest of the start tag (namespaces, attributes), then
// text and child elements in member order.
func (w *xmlWriter) object(name string, v *value, depth int) {
	content, mixed := w.startTagRest(v)
	if !content {
		w.b.WriteString("/>")
		return
	}
	w.b.WriteByte('>')
	d := depth + 1
	if mixed {
		d = -1 // no indentation inside mixed content
	}
	for _, m := range v.members {
		switch {
		case w.isText(m):
			w.text(m.val)
		case w.special(m.key):
		case m.val.kind == kArray:
			w.repeated(m.key, m.val, d)
		default:
			w.element(m.key, m.val, d)
		}
	}
	w.closeTag(name, depth, !mixed)
}

// startTagRest writes namespace declarations and attributes; it reports
// whether the element has content and whether that content has text.
func (w *xmlWriter) startTagRest(v *value) (content, mixed bool) {
	o := w.o
	for _, m := range v.members {
		switch {
		case w.isText(m):
			content, mixed = true, true
		case o.NamespaceBlockName != "" && m.key == o.NamespaceBlockName && m.val.kind == kObject:
			for _, ns := range m.val.members {
				attr := "xmlns"
				if ns.key != o.DefaultNamespaceNodeName {
					attr += ":" + w.name(ns.key)
				}
				w.attr(attr, ns.val.text)
			}
		case o.AttributeBlockName != "" && m.key == o.AttributeBlockName && m.val.kind == kObject:
			for _, a := range m.val.members {
				w.attr(w.name(a.key), scalarText(a.val, o.NullValue))
			}
		case o.AttributePrefix != "" && strings.HasPrefix(m.key, o.AttributePrefix):
			w.attr(w.name(m.key[len(o.AttributePrefix):]), scalarText(m.val, o.NullValue))
		case m.val.kind == kArray && len(m.val.items) == 0:
		default:
			content = true
		}
	}
	return content, mixed
}

// repeated writes one element per item of an array member; an array
// inside the array becomes one element holding ArrayItemElementName items.
func (w *xmlWriter) repeated(key string, arr *value, depth int) {
	for _, it := range arr.items {
		w.element(key, it, depth)
	}
}

func (w *xmlWriter) text(v *value) {
	if s := scalarText(v, w.o.NullValue); s != "" {
		escapeText(&w.b, s)
	}
}

func (w *xmlWriter) attr(name, val string) {
	w.b.WriteByte(' ')
	w.b.WriteString(name)
	w.b.WriteString(`="`)
	escapeAttr(&w.b, val)
	w.b.WriteByte('"')
}

func (w *xmlWriter) closeTag(name string, depth int, block bool) {
	if block && w.o.Indent && depth >= 0 {
		w.b.WriteByte('\n')
		for range depth {
			w.b.WriteString("    ")
		}
	}
	w.b.WriteString("</")
	w.b.WriteString(name)
	w.b.WriteByte('>')
}

// indent starts a new line at depth when indenting; depth < 0 (inside
// mixed content) and the root element (depth 0) never do.
func (w *xmlWriter) indent(depth int) {
	if !w.o.Indent || depth <= 0 {
		return
	}
	w.b.WriteByte('\n')
	for range depth {
		w.b.WriteString("    ")
	}
}

// scalarText is the text of a scalar; objects and arrays (not expected
// here) render as JSON.
func scalarText(v *value, null string) string {
	switch v.kind {
	case kNull:
		return null
	case kObject, kArray:
		var b strings.Builder
		writeJSON(&b, v)
		return b.String()
	}
	return v.text
}

// name turns a member name into an XML name: the namespace separator
// becomes ':' and characters XML names cannot hold are replaced.
func (w *xmlWriter) name(key string) string {
	if sep := w.o.NamespaceSeparator; sep != "" && sep != ":" {
		key = strings.Replace(key, sep, ":", 1)
	}
	if validName(key) {
		return key
	}
	var b strings.Builder
	colon := false
	for i, r := range key {
		ok := isNameChar(r) && (i > 0 || isNameStart(r))
		if r == ':' {
			ok = !colon && i > 0 && i < len(key)-1
			colon = true
		}
		if ok {
			b.WriteRune(r)
		} else {
			b.WriteString(w.o.InvalidCharsReplacement)
		}
	}
	if b.Len() == 0 {
		return w.o.InvalidCharsReplacement
	}
	return b.String()
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	colons := 0
	for i, r := range s {
		switch {
		case r == ':':
			colons++
			if colons > 1 || i == 0 || i == len(s)-1 {
				return false
			}
		case i == 0 && !isNameStart(r), !isNameChar(r):
			return false
		}
	}
	return true
}

func isNameStart(r rune) bool {
	return r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r > 0x7F && unicode.IsLetter(r)
}

func isNameChar(r rune) bool {
	return isNameStart(r) || r == '-' || r == '.' || r >= '0' && r <= '9' ||
		r > 0x7F && (unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r))
}

func escapeText(b *strings.Builder, s string) { escapeXML(b, s, false) }
func escapeAttr(b *strings.Builder, s string) { escapeXML(b, s, true) }

// escapeXML writes s escaped for XML text or a double-quoted attribute;
// characters XML 1.0 cannot carry become U+FFFD.
func escapeXML(b *strings.Builder, s string, attr bool) {
	start := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		var esc string
		switch {
		case r == '<':
			esc = "&lt;"
		case r == '>':
			esc = "&gt;"
		case r == '&':
			esc = "&amp;"
		case r == '"' && attr:
			esc = "&quot;"
		case attr && (r == '\n' || r == '\r' || r == '\t'):
			esc = "&#" + string(rune('0'+r/10)) + string(rune('0'+r%10)) + ";"
		case r == '\r':
			esc = "&#13;"
		case r < 0x20 && r != '\n' && r != '\t', r == utf8.RuneError && size == 1, r == 0xFFFE, r == 0xFFFF:
			esc = "\uFFFD"
		}
		if esc != "" {
			b.WriteString(s[start:i])
			b.WriteString(esc)
			start = i + size
		}
		i += size
	}
	b.WriteString(s[start:])
}
