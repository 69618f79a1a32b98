package bundle

import "github.com/beevik/etree"

// Doc is one parsed XML file with the position of every element.
type Doc struct {
	File  string // display path
	Tree  *etree.Document
	pos   map[*etree.Element]Pos
	spans map[*etree.Element]*span
	lines lineTable
	src   []byte
}

// Pos returns where e starts in the file (the '<' of its start tag). An
// element that is not from this document gets the file's position.
func (d *Doc) Pos(e *etree.Element) Pos {
	if d == nil {
		return Pos{}
	}
	if p, ok := d.pos[e]; ok {
		return p
	}
	return Pos{File: d.File}
}

// TextPos returns the position of the first non-blank character of e's own
// text (inside a CDATA section if the text starts with one). An element
// without text gets the position just after its start tag; an element that
// is not from this document gets the file's position.
func (d *Doc) TextPos(e *etree.Element) Pos {
	if d == nil {
		return Pos{}
	}
	s, ok := d.spans[e]
	if !ok {
		return Pos{File: d.File}
	}
	off := s.content
	if s.text >= 0 {
		off = s.text
	}
	return d.lines.pos(d.File, off)
}

// raw returns the source bytes between e's start and end tags.
func (d *Doc) raw(e *etree.Element) (string, Pos) {
	s, ok := d.spans[e]
	if !ok || d.src == nil {
		return "", d.Pos(e)
	}
	return string(d.src[s.content:s.end]), d.lines.pos(d.File, s.content)
}
