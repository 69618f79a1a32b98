package bundle

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/beevik/etree"
)

// maxDepth bounds element nesting; etree refuses deeper trees anyway.
const maxDepth = 1000

// span holds byte offsets of one element in its file.
type span struct {
	start   int // '<' of the start tag
	content int // just after the start tag
	end     int // '<' of the end tag (== content for <x/>)
	text    int // first non-blank character of the element's own text, -1 if none
	name    string
	child   bool // a child element has been seen (text after it is not "own text")
}

// lineTable maps byte offsets to 1-based line:column (columns count bytes).
type lineTable []int

func newLineTable(src []byte) lineTable {
	lt := lineTable{0}
	for i, c := range src {
		if c == '\n' {
			lt = append(lt, i+1)
		}
	}
	return lt
}

func (lt lineTable) pos(file string, off int) Pos {
	i := sort.SearchInts(lt, off+1) - 1
	if i < 0 {
		i = 0
	}
	return Pos{File: file, Line: i + 1, Col: off - lt[i] + 1}
}

// passThrough keeps byte offsets exact: declared encodings are not converted
// (etree does the same).
func passThrough(_ string, r io.Reader) (io.Reader, error) { return r, nil }

// parseXML parses one file into a Doc with positions. Syntax errors are
// recorded in ps with the parser's line:col and a nil Doc is returned.
func parseXML(file string, src []byte, ps *Problems) *Doc {
	lines := newLineTable(src)
	spans, perr := scanSpans(src)
	if perr != nil {
		ps.Errorf(lines.pos(file, perr.off), "malformed XML: %s", perr.msg)
		return nil
	}
	tree := etree.NewDocument()
	if err := tree.ReadFromBytes(src); err != nil {
		// scanSpans checks what etree checks, so this is a safety net.
		ps.Errorf(Pos{File: file, Line: 1, Col: 1}, "malformed XML: %v", err)
		return nil
	}
	d := &Doc{File: file, Tree: tree, src: src, lines: lines,
		pos: make(map[*etree.Element]Pos, len(spans)), spans: make(map[*etree.Element]*span, len(spans))}
	if !d.mapSpans(spans) {
		ps.Errorf(Pos{File: file, Line: 1, Col: 1}, "internal error: element positions out of step with the tree")
	}
	return d
}

// mapSpans pairs etree's elements, in document order, with the spans the
// encoding/xml pass found in the same order; false if they disagree.
func (d *Doc) mapSpans(spans []*span) bool {
	i := 0
	var walk func(e *etree.Element) bool
	walk = func(e *etree.Element) bool {
		if i >= len(spans) || spans[i].name != e.FullTag() {
			return false
		}
		d.spans[e], d.pos[e] = spans[i], d.lines.pos(d.File, spans[i].start)
		i++
		for _, c := range e.ChildElements() {
			if !walk(c) {
				return false
			}
		}
		return true
	}
	for _, c := range d.Tree.ChildElements() {
		if !walk(c) {
			return false
		}
	}
	return i == len(spans)
}

type posError struct {
	off int
	msg string
}

// spanScanner walks a file with encoding/xml, token by token, the way etree
// builds its tree (RawToken, strict, pass-through charset).
type spanScanner struct {
	src        []byte
	all, stack []*span
}

// scanSpans returns every element's span in document (pre-)order.
func scanSpans(src []byte) ([]*span, *posError) {
	dec := xml.NewDecoder(bytes.NewReader(src))
	dec.Strict = true
	dec.CharsetReader = passThrough
	sc := &spanScanner{src: src}
	for {
		off := int(dec.InputOffset())
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, syntaxError(dec, src, err)
		}
		if perr := sc.token(tok, off, int(dec.InputOffset())); perr != nil {
			return nil, perr
		}
	}
	if len(sc.stack) > 0 {
		top := sc.stack[len(sc.stack)-1]
		return nil, &posError{top.start, fmt.Sprintf("element <%s> is never closed", top.name)}
	}
	if len(sc.all) == 0 {
		return nil, &posError{0, "no root element"}
	}
	return sc.all, nil
}

// token handles one token found at src[off:next].
func (sc *spanScanner) token(tok xml.Token, off, next int) *posError {
	switch t := tok.(type) {
	case xml.StartElement:
		if len(sc.stack) >= maxDepth {
			return &posError{off, fmt.Sprintf("elements nested deeper than %d", maxDepth)}
		}
		if len(sc.stack) > 0 {
			sc.stack[len(sc.stack)-1].child = true
		}
		s := &span{start: off, content: next, end: next, text: -1, name: fullName(t.Name)}
		sc.all = append(sc.all, s)
		sc.stack = append(sc.stack, s)
	case xml.EndElement:
		if len(sc.stack) == 0 {
			return &posError{off, fmt.Sprintf("unexpected end tag </%s>", fullName(t.Name))}
		}
		top := sc.stack[len(sc.stack)-1]
		if top.name != fullName(t.Name) {
			return &posError{off, fmt.Sprintf("element <%s> closed by </%s>", top.name, fullName(t.Name))}
		}
		top.end = off
		sc.stack = sc.stack[:len(sc.stack)-1]
	case xml.CharData:
		if len(sc.stack) > 0 {
			noteText(sc.stack[len(sc.stack)-1], sc.src, off, next)
		}
	}
	return nil
}

func fullName(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

// noteText records the first non-blank character of s's own text, found in
// the raw source of one CharData token src[from:to].
func noteText(s *span, src []byte, from, to int) {
	if s.text >= 0 || s.child {
		return
	}
	raw := src[from:to]
	skip := 0
	if bytes.HasPrefix(raw, []byte("<![CDATA[")) {
		skip = len("<![CDATA[")
	}
	for i := skip; i < len(raw); i++ {
		if !isBlank(raw[i]) {
			if skip > 0 && bytes.HasPrefix(raw[i:], []byte("]]>")) {
				return
			}
			s.text = from + i
			return
		}
	}
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// syntaxError turns a decoder error into an offset. encoding/xml reports
// only a line; the decoder's InputPos gives the column where it stopped.
func syntaxError(dec *xml.Decoder, src []byte, err error) *posError {
	line, col := dec.InputPos()
	lt := newLineTable(src)
	off := len(src)
	if line >= 1 && line <= len(lt) {
		off = max(0, min(lt[line-1]+col-1, len(src)))
	}
	msg := err.Error()
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		msg = se.Msg
	}
	return &posError{off, msg}
}
