package template

import (
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/antchfx/xmlquery"
	"github.com/antchfx/xpath"
)

// XPath is a compiled XPath 1.0 expression with its namespace bindings. It is safe for
// concurrent use: antchfx/xpath expressions keep evaluation state, so each concurrent
// Eval takes its own copy from a pool.
type XPath struct {
	expr string
	pool sync.Pool // of *xpath.Expr
}

// CompileXPath compiles expr; ns maps the prefixes used in expr to namespace URIs.
func CompileXPath(expr string, ns map[string]string) (*XPath, error) {
	ns = maps.Clone(ns)
	x, err := xpath.CompileWithNS(expr, ns)
	if err != nil {
		return nil, fmt.Errorf("invalid XPath %q: %v", expr, err)
	}
	p := &XPath{expr: expr}
	p.pool.New = func() any {
		// Cannot fail: the same expression and namespaces compiled above.
		x, _ := xpath.CompileWithNS(expr, ns)
		return x
	}
	p.pool.Put(x)
	return p, nil
}

// String returns the source expression.
func (p *XPath) String() string { return p.expr }

// XPath result types accepted by Eval (Apigee's xpath function types).
const (
	XPathNodeset = "nodeset"
	XPathNode    = "node"
	XPathString  = "string"
	XPathNumber  = "number"
	XPathBoolean = "boolean"
)

// Eval parses xmlText and evaluates the expression, converting the result to typ:
// "nodeset" (or "") → []string, each matched node serialized (elements as standalone XML
// with the namespace declarations they inherit, attribute and text nodes as their value);
// "node" → string, the first node serialized, or nil; "string" → string (XPath string value); "number" → float64; "boolean" → bool.
func (p *XPath) Eval(xmlText string, typ string) (any, error) {
	doc, err := xmlquery.Parse(strings.NewReader(xmlText))
	if err != nil {
		return nil, fmt.Errorf("invalid XML: %v", err)
	}
	x := p.pool.Get().(*xpath.Expr)
	defer p.pool.Put(x)
	res := x.Evaluate(xmlquery.CreateXPathNavigator(doc))
	switch strings.ToLower(typ) {
	case "", XPathNodeset:
		return nodeStrings(res, -1), nil
	case XPathNode:
		if s := nodeStrings(res, 1); len(s) > 0 {
			return s[0], nil
		}
		return nil, nil
	case XPathString:
		return xpathString(res), nil
	case XPathNumber:
		return xpathNumber(res), nil
	case XPathBoolean:
		return xpathBool(res), nil
	}
	return nil, fmt.Errorf("unknown XPath result type %q", typ)
}

func validXPathType(typ string) bool {
	switch strings.ToLower(typ) {
	case XPathNodeset, XPathNode, XPathString, XPathNumber, XPathBoolean:
		return true
	}
	return false
}

// nodeStrings serializes up to limit (-1: all) nodes of a node-set result; a scalar
// result gives its string value.
func nodeStrings(res any, limit int) []string {
	it, ok := res.(*xpath.NodeIterator)
	if !ok {
		return []string{xpathString(res)}
	}
	var out []string
	for (limit < 0 || len(out) < limit) && it.MoveNext() {
		nav := it.Current().(*xmlquery.NodeNavigator)
		switch nav.NodeType() {
		case xpath.ElementNode, xpath.RootNode, xpath.CommentNode:
			out = append(out, serializeElement(nav.Current()))
		default:
			out = append(out, nav.Value())
		}
	}
	return out
}

func xpathString(res any) string {
	switch v := res.(type) {
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case float64:
		if v == math.Trunc(v) && !math.IsInf(v, 0) && math.Abs(v) < 1e15 {
			return strconv.FormatInt(int64(v), 10)
		}
		return strconv.FormatFloat(v, 'f', -1, 64)
	case *xpath.NodeIterator:
		if v.MoveNext() {
			return v.Current().Value()
		}
	}
	return ""
}

func xpathNumber(res any) float64 {
	switch v := res.(type) {
	case float64:
		return v
	case bool:
		if v {
			return 1
		}
		return 0
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(xpathString(res)), 64)
	if err != nil {
		return math.NaN()
	}
	return f
}

func xpathBool(res any) bool {
	switch v := res.(type) {
	case bool:
		return v
	case float64:
		return v != 0 && !math.IsNaN(v)
	case string:
		return v != ""
	case *xpath.NodeIterator:
		return v.MoveNext()
	}
	return false
}
