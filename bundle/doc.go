package bundle

import "github.com/beevik/etree"

// Doc is one parsed XML file with the position of every element.
type Doc struct {
	File string // display path
	Tree *etree.Document
	pos  map[*etree.Element]Pos
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
