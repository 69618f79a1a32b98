package convert

import (
	"strings"
)

// ToJSON converts XML to JSON with fixed options. It is immutable and safe
// for concurrent use.
type ToJSON struct {
	o      ToJSONOptions
	arrays map[string]bool // TreatAsArray paths
	unwrap map[string]bool // the subset with unwrap="true"
}

// NewToJSON prepares a converter for o.
func NewToJSON(o ToJSONOptions) *ToJSON {
	c := &ToJSON{o: o, arrays: map[string]bool{}, unwrap: map[string]bool{}}
	for _, p := range o.TreatAsArray {
		path := strings.Trim(strings.TrimSpace(p.Path), "/")
		c.arrays[path] = true
		if p.Unwrap {
			c.unwrap[path] = true
		}
	}
	return c
}

// Convert turns an XML document into JSON text (with OutputPrefix and
// OutputSuffix). A malformed document gives a *SyntaxError.
func (c *ToJSON) Convert(src []byte) (string, error) {
	root, err := parseXML(src)
	if err != nil {
		return "", err
	}
	key := root.name(c.o.NamespaceSeparator)
	v := &value{kind: kObject, members: []member{{key, c.elem(root, root.name(":"))}}}
	for i := 0; i < c.o.StripLevels && v.kind == kObject && len(v.members) == 1; i++ {
		v = v.members[0].val
	}
	var b strings.Builder
	b.Grow(len(src))
	b.WriteString(c.o.OutputPrefix)
	if c.o.Indent {
		writeJSONIndent(&b, v, 0)
	} else {
		writeJSON(&b, v)
	}
	b.WriteString(c.o.OutputSuffix)
	return b.String(), nil
}

// elem converts one element found at path (its qualified name and its
// ancestors', prefix:local, slash-separated, from the root).
func (c *ToJSON) elem(e *xelem, path string) *value {
	obj := &value{kind: kObject}
	c.namespaces(e, obj)
	c.attributes(e, obj)
	text, hasKids, unwrap := c.children(e, obj, path)
	switch {
	case len(obj.members) == 0 && !hasKids && strings.TrimSpace(text) == "":
		if c.o.RecognizeNull {
			return &value{kind: kNull, text: "null"}
		}
		return obj
	case len(obj.members) == 0 && !c.o.TextAlwaysAsProperty:
		return c.scalar(text)
	case strings.TrimSpace(text) != "" || len(obj.members) == 0:
		obj.members = append(obj.members, member{c.o.TextNodeName, c.scalar(text)})
	}
	if len(obj.members) == 1 && unwrap && obj.members[0].val.kind == kArray {
		arr := obj.members[0].val
		arr.text = "" // now this element's value, not a group of its siblings
		return arr
	}
	return obj
}

func (c *ToJSON) namespaces(e *xelem, obj *value) {
	if c.o.NamespaceBlockName == "" || len(e.ns) == 0 {
		return
	}
	block := &value{kind: kObject}
	for _, ns := range e.ns {
		key := ns.Name.Local
		if key == "" {
			key = c.o.DefaultNamespaceNodeName
		}
		block.members = append(block.members, member{key, &value{kind: kString, text: ns.Value}})
	}
	obj.members = append(obj.members, member{c.o.NamespaceBlockName, block})
}

func (c *ToJSON) attributes(e *xelem, obj *value) {
	if len(e.attrs) == 0 {
		return
	}
	into := obj
	if c.o.AttributeBlockName != "" {
		into = &value{kind: kObject}
		obj.members = append(obj.members, member{c.o.AttributeBlockName, into})
	}
	for _, a := range e.attrs {
		name := a.Name.Local
		if a.Name.Space != "" {
			name = a.Name.Space + c.o.NamespaceSeparator + name
		}
		into.members = append(into.members, member{c.o.AttributePrefix + name, c.scalar(a.Value)})
	}
}

// children adds the child elements to obj, grouping repeated names into
// one array at the position of the first, and returns the concatenated
// character data; unwrap reports a child under a TreatAsArray unwrap path.
func (c *ToJSON) children(e *xelem, obj *value, path string) (text string, hasKids, unwrap bool) {
	var sb strings.Builder
	var index map[string]int // key -> member index, for repeated names
	for _, k := range e.kids {
		if k.el == nil {
			sb.WriteString(k.text)
			continue
		}
		hasKids = true
		key := k.el.name(c.o.NamespaceSeparator)
		childPath := path + "/" + k.el.name(":")
		unwrap = unwrap || c.unwrap[childPath]
		v := c.elem(k.el, childPath)
		if i, seen := index[key]; seen {
			m := &obj.members[i]
			if m.val.kind != kArray || !m.val.grouped() {
				m.val = &value{kind: kArray, items: []*value{m.val}, text: groupedMark}
			}
			m.val.items = append(m.val.items, v)
			continue
		}
		if c.arrays[childPath] {
			v = &value{kind: kArray, items: []*value{v}, text: groupedMark}
		}
		if index == nil {
			index = map[string]int{}
		}
		index[key] = len(obj.members)
		obj.members = append(obj.members, member{key, v})
	}
	return sb.String(), hasKids, unwrap
}

// groupedMark tags arrays made from repeated elements, so that a child
// converted to an array by unwrap is not mistaken for a group.
const groupedMark = "\x00group"

func (v *value) grouped() bool { return v.text == groupedMark }

// scalar converts text with the Recognize* options.
func (c *ToJSON) scalar(text string) *value {
	t := strings.TrimSpace(text)
	switch {
	case c.o.RecognizeNull && (t == "" || c.o.NullValue != "" && t == c.o.NullValue):
		return &value{kind: kNull, text: "null"}
	case c.o.RecognizeBoolean && (t == "true" || t == "false"):
		return &value{kind: kBool, text: t}
	case c.o.RecognizeNumber && isJSONNumber(t):
		return &value{kind: kNumber, text: t}
	}
	return &value{kind: kString, text: text}
}

// isJSONNumber reports whether s is a number literal JSON accepts as is
// (so "007" and "1." stay strings).
func isJSONNumber(s string) bool {
	if s == "" {
		return false
	}
	p := &jsonParser{s: s}
	if _, err := p.number(); err != nil {
		return false
	}
	return p.i == len(s)
}

// writeJSONIndent appends v as JSON indented by two spaces per level.
func writeJSONIndent(b *strings.Builder, v *value, depth int) {
	nl := func(d int) {
		b.WriteByte('\n')
		for range d {
			b.WriteString("  ")
		}
	}
	switch {
	case v.kind == kArray && len(v.items) > 0:
		b.WriteByte('[')
		for i, it := range v.items {
			if i > 0 {
				b.WriteByte(',')
			}
			nl(depth + 1)
			writeJSONIndent(b, it, depth+1)
		}
		nl(depth)
		b.WriteByte(']')
	case v.kind == kObject && len(v.members) > 0:
		b.WriteByte('{')
		for i, m := range v.members {
			if i > 0 {
				b.WriteByte(',')
			}
			nl(depth + 1)
			writeJSONString(b, m.key)
			b.WriteString(": ")
			writeJSONIndent(b, m.val, depth+1)
		}
		nl(depth)
		b.WriteByte('}')
	default:
		writeJSON(b, v)
	}
}
