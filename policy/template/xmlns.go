package template

import (
	"html"
	"slices"
	"strings"

	"github.com/antchfx/xmlquery"
)

// serializeElement is the element's XML with the namespace declarations it inherits from
// its ancestors and uses added to its start tag, so the fragment stands alone (as Java's
// serializer writes a node taken out of a namespaced document).
func serializeElement(n *xmlquery.Node) string {
	out := n.OutputXML(true)
	if n.Type != xmlquery.ElementNode {
		return out
	}
	used, declared := map[string]string{}, map[string]bool{}
	collectNS(n, used, declared)
	var prefixes []string
	for p, uri := range used {
		if !declared[p] && p != "xml" && uri != "" {
			prefixes = append(prefixes, p)
		}
	}
	if len(prefixes) == 0 {
		return out
	}
	slices.Sort(prefixes)
	var decl strings.Builder
	for _, p := range prefixes {
		decl.WriteString(" xmlns")
		if p != "" {
			decl.WriteString(":" + p)
		}
		decl.WriteString(`="` + html.EscapeString(used[p]) + `"`)
	}
	qname := n.Data
	if n.Prefix != "" {
		qname = n.Prefix + ":" + n.Data
	}
	if at := 1 + len(qname); strings.HasPrefix(out, "<"+qname) {
		return out[:at] + decl.String() + out[at:]
	}
	return out
}

// collectNS records the prefixes used by elements and attributes under n (with their
// namespace URI) and the prefixes declared inside the subtree.
func collectNS(n *xmlquery.Node, used map[string]string, declared map[string]bool) {
	if n.Type != xmlquery.ElementNode {
		return
	}
	used[n.Prefix] = n.NamespaceURI
	for _, a := range n.Attr {
		switch {
		case a.Name.Space == "xmlns":
			declared[a.Name.Local] = true
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			declared[""] = true
		case a.Name.Space != "":
			used[a.Name.Space] = a.NamespaceURI
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		collectNS(c, used, declared)
	}
}
