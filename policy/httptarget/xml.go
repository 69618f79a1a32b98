package httptarget

import (
	"strconv"
	"strings"

	"github.com/apigo/apigo/bundle"
	"github.com/beevik/etree"
)

// reader reads elements of one document, recording problems with positions.
type reader struct {
	doc *bundle.Doc
	ps  *bundle.Problems
}

func (r reader) pos(e *etree.Element) bundle.Pos { return r.doc.Pos(e) }

func (r reader) text(e *etree.Element) string {
	if e == nil {
		return ""
	}
	return strings.TrimSpace(e.Text())
}

// boolOf reads a true/false child; absent or blank gives def.
func (r reader) boolOf(parent *etree.Element, tag string, def bool) bool {
	e := parent.SelectElement(tag)
	s := r.text(e)
	if s == "" {
		return def
	}
	b, err := strconv.ParseBool(strings.ToLower(s))
	if err != nil {
		r.ps.Errorf(r.doc.TextPos(e), "<%s>: %q is not true or false", tag, s)
		return def
	}
	return b
}

// intOf reads a whole number child in [lo, hi]; absent or blank gives def.
func (r reader) intOf(parent *etree.Element, tag string, def, lo, hi int) int {
	e := parent.SelectElement(tag)
	s := r.text(e)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		r.ps.Errorf(r.doc.TextPos(e), "<%s>: %q is not a whole number from %d to %d", tag, s, lo, hi)
		return def
	}
	return n
}

// secondsOf reads a number of seconds; fractions are accepted (Apigee wants
// whole seconds, tests want short intervals).
func (r reader) secondsOf(parent *etree.Element, tag string, def float64) float64 {
	e := parent.SelectElement(tag)
	s := r.text(e)
	if s == "" {
		return def
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 86400 {
		r.ps.Errorf(r.doc.TextPos(e), "<%s>: %q is not a number of seconds", tag, s)
		return def
	}
	return f
}

// unknown warns about children not in known.
func (r reader) unknown(e *etree.Element, known ...string) {
	for _, c := range e.ChildElements() {
		ok := false
		for _, k := range known {
			if c.Tag == k {
				ok = true
				break
			}
		}
		if !ok {
			r.ps.Warnf(r.pos(c), "unexpected <%s> in <%s> (ignored)", c.Tag, e.Tag)
		}
	}
}

// nested reads <Outer><Inner>a</Inner><Inner>b</Inner></Outer>, or
// comma-separated text in <Outer>.
func (r reader) nested(parent *etree.Element, outer, inner string) []string {
	var out []string
	for _, o := range parent.SelectElements(outer) {
		items := []*etree.Element{o}
		if len(o.ChildElements()) > 0 {
			items = o.SelectElements(inner)
		}
		for _, e := range items {
			for _, v := range strings.Split(r.text(e), ",") {
				if v = strings.TrimSpace(v); v != "" {
					out = append(out, v)
				}
			}
		}
	}
	return out
}
