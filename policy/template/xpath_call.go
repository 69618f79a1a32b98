package template

import (
	"fmt"
	"strings"
)

var xpathCache = newCache(buildXPathKey)

// xpathKey encodes an expression and its namespaces as one cache key.
func xpathKey(expr string, ns map[string]string) string {
	var b strings.Builder
	b.WriteString(expr)
	for p, u := range ns {
		b.WriteString("\x00" + p + "\x01" + u)
	}
	return b.String()
}

func buildXPathKey(key string) (*XPath, error) {
	parts := strings.Split(key, "\x00")
	ns := map[string]string{}
	for _, kv := range parts[1:] {
		p, u, _ := strings.Cut(kv, "\x01")
		ns[p] = u
	}
	return CompileXPath(parts[0], ns)
}

// xpathOptions splits the arguments after the XML one: a first argument without ':' is
// the result type, the rest are prefix:uri namespace bindings.
func xpathOptions(opts []string) (typ string, ns map[string]string) {
	typ = XPathNodeset
	for i, o := range opts {
		p, u, ok := strings.Cut(o, ":")
		if !ok && i == 0 {
			typ = o
			continue
		}
		if ns == nil {
			ns = map[string]string{}
		}
		ns[p] = u
	}
	return typ, ns
}

// compileXPathCall: xpath(expr, xml[, type][, prefix:uri...]).
func compileXPathCall(args []arg) (evaluator, error) {
	if err := checkXPathArgs(args); err != nil {
		return nil, err
	}
	var fixed *XPath
	var fixedTyp string
	if allLiteral(args[:1]) && allLiteral(args[2:]) {
		typ, ns := xpathOptions(texts(args[2:]))
		x, err := CompileXPath(args[0].text, ns)
		if err != nil {
			return nil, &argError{0, err.Error()}
		}
		fixed, fixedTyp = x, typ
	}
	return func(e *env) (string, bool) {
		vals, ok := evalAll(e, args)
		if !ok {
			return "", false
		}
		x, typ := fixed, fixedTyp
		if x == nil {
			var ns map[string]string
			typ, ns = xpathOptions(vals[2:])
			var err error
			if x, err = xpathCache.get(xpathKey(vals[0], ns)); err != nil {
				return "", false
			}
		}
		res, err := x.Eval(vals[1], typ)
		if err != nil {
			return "", false
		}
		return xpathText(res), true
	}, nil
}

func checkXPathArgs(args []arg) error {
	if args[0].lit {
		if _, err := CompileXPath(args[0].text, nil); err != nil {
			return &argError{0, err.Error()}
		}
	}
	for i := 2; i < len(args); i++ {
		a := args[i]
		if !a.lit || strings.Contains(a.text, ":") {
			continue
		}
		if i > 2 {
			return &argError{i, fmt.Sprintf("namespace %q is not prefix:uri", a.text)}
		}
		if !validXPathType(a.text) {
			return &argError{i, fmt.Sprintf("unknown XPath type %q (want nodeset, node, number, boolean or string)", a.text)}
		}
	}
	return nil
}

func allLiteral(args []arg) bool {
	for _, a := range args {
		if !a.lit {
			return false
		}
	}
	return true
}

func texts(args []arg) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a.text
	}
	return out
}

// xpathText prints an Eval result: a node-set as its first node, numbers as Java
// Doubles ("3.0"), booleans as true/false, no match as "".
func xpathText(res any) string {
	if s, ok := res.([]string); ok {
		if len(s) == 0 {
			return ""
		}
		return s[0]
	}
	return Format(res)
}
