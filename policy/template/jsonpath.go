package template

import (
	"fmt"
	"strings"

	"github.com/ohler55/ojg"
	"github.com/ohler55/ojg/jp"
	"github.com/ohler55/ojg/oj"
)

// JSONPath is a compiled JSONPath expression (Jayway/Goessner syntax: filters, recursive
// descent, slices, unions). It is immutable and safe for concurrent use.
type JSONPath struct {
	expr string
	x    jp.Expr
}

// CompileJSONPath compiles a JSONPath expression such as $.a.b[?(@.c == 'x')].d.
func CompileJSONPath(expr string) (*JSONPath, error) {
	x, err := jp.ParseString(normalizeJSONPath(expr))
	if err != nil {
		return nil, fmt.Errorf("invalid JSONPath %q: %v", expr, err)
	}
	return &JSONPath{expr: expr, x: x}, nil
}

// normalizeJSONPath drops the '.' of ".[" (Jayway accepts $.a.[*].b; ojg wants $.a[*].b),
// leaving ".." (recursive descent) and quoted text alone.
func normalizeJSONPath(expr string) string {
	if !strings.Contains(expr, ".[") {
		return expr
	}
	var b strings.Builder
	var quote byte
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '.' && i+1 < len(expr) && expr[i+1] == '[' && (i == 0 || expr[i-1] != '.'):
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// String returns the source expression.
func (p *JSONPath) String() string { return p.expr }

// Eval parses jsonText and returns the matched values (in document order, except that
// recursive descent may visit deeper matches first): string,
// bool, int64, float64, nil, []any or map[string]any. No match gives an empty slice.
func (p *JSONPath) Eval(jsonText string) ([]any, error) {
	doc, err := oj.ParseString(jsonText)
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	return p.x.Get(doc), nil
}

var jsonOpts = &ojg.Options{Sort: true, HTMLUnsafe: true}

// JSONText renders a JSONPath result value as text: strings as is, null as "",
// numbers and booleans as Format prints them, objects and arrays as compact JSON with
// sorted keys (the parsed document does not keep key order).
func JSONText(v any) string {
	switch v.(type) {
	case map[string]any, []any:
		return oj.JSON(v, jsonOpts)
	}
	return Format(v)
}

var jsonPathCache = newCache(CompileJSONPath)

// compileJSONPathCall: jsonPath(path, json[, wantArray]). Only the first match is
// returned unless wantArray is "true", which returns all matches as a JSON array.
func compileJSONPathCall(args []arg) (evaluator, error) {
	var fixed *JSONPath
	if args[0].lit {
		p, err := CompileJSONPath(args[0].text)
		if err != nil {
			return nil, &argError{0, err.Error()}
		}
		fixed = p
	}
	if len(args) == 3 && !args[2].lit && !args[2].hasDef && (args[2].text == "true" || args[2].text == "false") {
		// A bare true/false reads a variable of that name when one exists, else the word.
		args[2].def, args[2].hasDef = args[2].text, true
	}
	return func(e *env) (string, bool) {
		vals, ok := evalAll(e, args)
		if !ok {
			return "", false
		}
		p := fixed
		if p == nil {
			var err error
			if p, err = jsonPathCache.get(vals[0]); err != nil {
				return "", false
			}
		}
		res, err := p.Eval(vals[1])
		if err != nil || len(res) == 0 {
			return "", err == nil
		}
		if len(vals) == 3 && strings.EqualFold(strings.TrimSpace(vals[2]), "true") {
			return oj.JSON(res, jsonOpts), true
		}
		return JSONText(res[0]), true
	}, nil
}
