package convert

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// xelem is a parsed XML element: names as written (prefix kept), namespace
// declarations apart from other attributes, children in document order.
type xelem struct {
	prefix, local string
	attrs         []xml.Attr // Name.Space holds the prefix
	ns            []xml.Attr // Name.Local: "" for the default namespace
	kids          []xchild
}

// xchild is either an element or a run of character data.
type xchild struct {
	el   *xelem
	text string
}

// parseXML reads one document into an element tree. It checks that tags
// nest and match and rejects content outside the root element.
func parseXML(src []byte) (*xelem, error) {
	d := xml.NewDecoder(bytes.NewReader(src))
	d.Strict = true
	d.CharsetReader = charsetReader
	var stack []*xelem
	var root *xelem
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, xmlError(d, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if root != nil && len(stack) == 0 {
				return nil, posError(d, "Unexpected element <%s> after the root element", qname(t.Name))
			}
			e := newElem(t)
			if len(stack) > 0 {
				parent := stack[len(stack)-1]
				parent.kids = append(parent.kids, xchild{el: e})
			} else {
				root = e
			}
			stack = append(stack, e)
		case xml.EndElement:
			if len(stack) == 0 {
				return nil, posError(d, "Unexpected end tag </%s>", qname(t.Name))
			}
			top := stack[len(stack)-1]
			if top.prefix != t.Name.Space || top.local != t.Name.Local {
				return nil, posError(d, "Unexpected close tag </%s>; expected </%s>", qname(t.Name), top.name(":"))
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				parent := stack[len(stack)-1]
				parent.kids = append(parent.kids, xchild{text: string(t)})
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, posError(d, "Content is not allowed outside the root element")
			}
		}
	}
	if root == nil || len(stack) > 0 {
		return nil, posError(d, "Premature end of document while parsing")
	}
	return root, nil
}

func newElem(t xml.StartElement) *xelem {
	e := &xelem{prefix: t.Name.Space, local: t.Name.Local}
	for _, a := range t.Attr {
		switch {
		case a.Name.Space == "xmlns":
			e.ns = append(e.ns, xml.Attr{Name: xml.Name{Local: a.Name.Local}, Value: a.Value})
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			e.ns = append(e.ns, xml.Attr{Value: a.Value})
		default:
			e.attrs = append(e.attrs, a)
		}
	}
	return e
}

// name is the element's name with sep between prefix and local name.
func (e *xelem) name(sep string) string {
	if e.prefix == "" {
		return e.local
	}
	return e.prefix + sep + e.local
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

func posError(d *xml.Decoder, format string, args ...any) error {
	line, col := d.InputPos()
	return &SyntaxError{Msg: fmt.Sprintf(format, args...), Line: line, Char: col - 1}
}

func xmlError(d *xml.Decoder, err error) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		line, col := d.InputPos()
		msg := se.Msg
		if strings.HasPrefix(msg, "unexpected EOF") {
			msg = "Premature end of document while parsing"
		}
		return &SyntaxError{Msg: msg, Line: line, Char: col - 1}
	}
	return err
}

// charsetReader accepts the encodings that are byte-compatible with UTF-8
// for XML markup; anything else is an error rather than mojibake.
func charsetReader(label string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return r, nil
	case "iso-8859-1", "latin1", "latin-1":
		return latin1Reader{r}, nil
	}
	return nil, fmt.Errorf("unsupported encoding %q", label)
}

// latin1Reader decodes ISO-8859-1 into UTF-8.
type latin1Reader struct{ r io.Reader }

func (l latin1Reader) Read(p []byte) (int, error) {
	// Each input byte may take two output bytes.
	buf := make([]byte, (len(p)+1)/2)
	n, err := l.r.Read(buf)
	out := p[:0]
	for _, c := range buf[:n] {
		if c < 0x80 {
			out = append(out, c)
		} else {
			out = append(out, 0xC0|c>>6, 0x80|c&0x3F)
		}
	}
	return len(out), err
}
