package conditions

import (
	"errors"
	"testing"
)

// fuzzVars is a small variable set of every value type.
var fuzzVars = mapVars{
	"a": "1", "b": "x", "request.verb": "GET", "proxy.pathsuffix": "/orders/1",
	"n": 404, "l": int64(7), "f": float32(2.5), "d": 0.5, "t": true, "nil": nil,
	"coll": []string{"a"}, "obj": struct{}{}, "p": "(a", "q": "/**",
}

func FuzzCompile(f *testing.F) {
	seeds := []string{
		`request.verb = "GET"`, `(a="1")and(b="2")`, `!(proxy.pathsuffix MatchesPath &quot;/3leg/**&quot;)`,
		`n > 399 Or n = 429`, `'x!y' ~~ "a(?=b)"`, `x not StartsWith "y"`, `a = 1.5f`, `a &lt;= 2L`,
		`not not t`, `coll = obj`, `x ~~ p`, `proxy.pathsuffix ~/ q`, `"\"" = a`, "a\n=\tb",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	if conds := corpusConditionsIfPresent(); len(conds) > 0 {
		for _, c := range conds {
			f.Add(c.text)
		}
	}
	f.Fuzz(func(t *testing.T, src string) {
		c, err := Compile(src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Compile(%q) error %T %v, want *SyntaxError", src, err, err)
			}
			if se.Offset < 0 || se.Offset > len(src) || se.Col < 1 || se.Src != src {
				t.Fatalf("Compile(%q) error %+v has a bad position", src, se)
			}
			_ = se.Caret()
			_ = se.Error()
			return
		}
		_ = c.Eval(fuzzVars)
		_ = c.Eval(mapVars{})
		_ = c.Eval(nil)
		_ = c.Variables()
	})
}

// corpusConditionsIfPresent is corpusConditions without a testing.TB.
func corpusConditionsIfPresent() []corpusCondition {
	var out []corpusCondition
	walkCorpus(func(c corpusCondition) { out = append(out, c) })
	return out
}
