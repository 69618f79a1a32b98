package conditions

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// evalCase is one condition evaluated against variables.
type evalCase struct {
	cond string
	vars mapVars
	want bool
}

func runEvalCases(t *testing.T, cases []evalCase, opts ...Option) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.cond, func(t *testing.T) {
			c, err := Compile(tc.cond, opts...)
			if err != nil {
				t.Fatalf("Compile(%q): %v", tc.cond, err)
			}
			if got := c.Eval(tc.vars); got != tc.want {
				t.Errorf("Eval(%q) with %v = %v, want %v", tc.cond, tc.vars, got, tc.want)
			}
		})
	}
}

var verbGet = mapVars{"request.verb": "GET", "n": 5, "s": "abc"}

func TestOperatorsAndAliases(t *testing.T) {
	runEvalCases(t, []evalCase{
		{`request.verb = "GET"`, verbGet, true},
		{`request.verb == "GET"`, verbGet, true},
		{`request.verb Equals "GET"`, verbGet, true},
		{`request.verb Is "GET"`, verbGet, true},
		{`request.verb = "get"`, verbGet, false},
		{`request.verb != "GET"`, verbGet, false},
		{`request.verb NotEquals "POST"`, verbGet, true},
		{`request.verb IsNot "POST"`, verbGet, true},
		{`request.verb IsNot "GET"`, verbGet, false},
		{`request.verb := "get"`, verbGet, true},
		{`request.verb EqualsCaseInsensitive "gEt"`, verbGet, true},
		{`request.verb := "post"`, verbGet, false},
		{`n > 4`, verbGet, true},
		{`n > 5`, verbGet, false},
		{`n GreaterThan 4`, verbGet, true},
		{`n >= 5`, verbGet, true},
		{`n GreaterThanOrEquals 6`, verbGet, false},
		{`n < 6`, verbGet, true},
		{`n LesserThan 5`, verbGet, false},
		{`n <= 5`, verbGet, true},
		{`n LesserThanOrEquals 4`, verbGet, false},
		{`s ~ "a*"`, verbGet, true},
		{`s Matches "*c"`, verbGet, true},
		{`s Like "b*"`, verbGet, false},
		{`s !~ "b*"`, verbGet, true},
		{`s !~ "a*"`, verbGet, false},
		{`s ~~ "a.c"`, verbGet, true},
		{`s JavaRegex "[a-c]+"`, verbGet, true},
		{`s JavaRegex "b"`, verbGet, false},
		{`s !~~ "b"`, verbGet, true},
		{`s =| "ab"`, verbGet, true},
		{`s StartsWith "bc"`, verbGet, false},
		{`s !=| "bc"`, verbGet, true},
		{`s not StartsWith "ab"`, verbGet, false},
		{`s ~/ "abc"`, verbGet, true},
		{`s MatchesPath "abc"`, verbGet, true},
		{`s LikePath "ab"`, verbGet, false},
		{`s /~ "abc"`, verbGet, true},
		{`s !~/ "abc"`, verbGet, false},
		{`s not MatchesPath "x"`, verbGet, true},
		{`s NOT Matches "a*"`, verbGet, false},
		{`s not JavaRegex "a.*"`, verbGet, false},
		{`s ! Like "z*"`, verbGet, true},
		{`request.verb = "GET" and n = 5`, verbGet, true},
		{`request.verb = "GET" && n = 4`, verbGet, false},
		{`request.verb = "POST" or n = 5`, verbGet, true},
		{`request.verb = "POST" || n = 4`, verbGet, false},
		{`not request.verb = "POST"`, verbGet, true},
		{`!(request.verb = "GET")`, verbGet, false},
		{`NOT(request.verb = "GET")`, verbGet, false},
		{`not not (request.verb = "GET")`, verbGet, true},
	})
}

func TestCaseInsensitiveKeywords(t *testing.T) {
	runEvalCases(t, []evalCase{
		{`request.verb = "GET" AND n = 5`, verbGet, true},
		{`request.verb = "GET" And n = 5`, verbGet, true},
		{`request.verb = "x" OR n = 5`, verbGet, true},
		{`request.verb = "x" Or n = 5`, verbGet, true},
		{`Not (request.verb = "x")`, verbGet, true},
		{`request.verb isNot "x"`, verbGet, true},
		{`request.verb EQUALS "GET"`, verbGet, true},
		{`s matchespath "abc"`, verbGet, true},
		{`s startswith "a"`, verbGet, true},
		{`s JAVAREGEX "abc"`, verbGet, true},
		{`n greaterthanorequals 5`, verbGet, true},
		{`n lesserTHAN 6`, verbGet, true},
	})
}

func TestPrecedence(t *testing.T) {
	v := mapVars{"a": "1", "b": "0", "c": "0"}
	runEvalCases(t, []evalCase{
		// and binds tighter than or: a or (b and c).
		{`a = "1" or b = "1" and c = "1"`, v, true},
		// (a and b) or c, left to right.
		{`a = "1" and b = "1" or c = "0"`, v, true},
		{`(a = "1" or b = "1") and c = "1"`, v, false},
		{`a = "0" or b = "0" and c = "0"`, v, true},
		{`a = "0" or b = "1" and c = "0"`, v, false},
		// not binds tighter than and/or.
		{`not a = "1" or b = "0"`, v, true},
		{`not a = "1" and b = "0"`, v, false},
		{`not (a = "1" and b = "1")`, v, true},
		{`!a = "0"`, v, true},
		// left associativity of a chain.
		{`a = "1" and b = "0" and c = "0" and a != "2"`, v, true},
		{`a = "2" or b = "2" or c = "2" or a = "1"`, v, true},
		{`((a = "1"))`, v, true},
	})
}

func TestShortCircuit(t *testing.T) {
	counting := &countingVars{m: mapVars{"a": "1"}}
	c := MustCompile(`a = "1" or b = "2"`)
	if !c.Eval(counting) {
		t.Fatalf("Eval(%q) = false, want true", c)
	}
	if counting.lookups["b"] != 0 {
		t.Errorf("Eval(%q) looked up b %d times, want 0 (or short-circuits)", c, counting.lookups["b"])
	}
	c = MustCompile(`a = "2" and b = "2"`)
	counting.lookups = nil
	if c.Eval(counting) || counting.lookups["b"] != 0 {
		t.Errorf("Eval(%q) = true or looked up b, want false without lookup", c)
	}
}

type countingVars struct {
	m       mapVars
	lookups map[string]int
}

func (c *countingVars) Lookup(name string) (any, bool) {
	if c.lookups == nil {
		c.lookups = map[string]int{}
	}
	c.lookups[name]++
	return c.m.Lookup(name)
}

func TestGluedAndSpacedForms(t *testing.T) {
	v := mapVars{"request.verb": "GET", "a": "1", "b": "2"}
	runEvalCases(t, []evalCase{
		{`request.verb="GET"`, v, true},
		{`request.verb!="GET"`, v, false},
		{`(a="1")and(b="2")`, v, true},
		{`(a="1")AND(b="3")`, v, false},
		{`(a="1")or(b="3")`, v, true},
		{`a="1"&&b="2"`, v, true},
		{`a="3"||b="2"`, v, true},
		{`!(a="1")`, v, false},
		{"a = \"1\"\n\tand\n\tb = \"2\"", v, true},
		{"\r\n  (a = \"1\")\r\n", v, true},
		{`a=|"1"`, v, true},
		{`a~~"[0-9]"`, v, true},
	})
}

func TestXMLEscapedForms(t *testing.T) {
	v := mapVars{"a": "1", "n": 5, "amp": "x&y"}
	runEvalCases(t, []evalCase{
		{`a = "1" &amp;&amp; n = 5`, v, true},
		{`n &lt; 6`, v, true},
		{`n &lt;= 5`, v, true},
		{`n &gt; 4`, v, true},
		{`n &gt;= 6`, v, false},
		{`a = &quot;1&quot;`, v, true},
		{`(a MatchesPath &quot;1&quot;) and (n = 5)`, v, true},
		{`amp = &quot;x&amp;y&quot;`, v, true},
	})
}

func TestSingleQuotedNames(t *testing.T) {
	v := mapVars{"request.header.help!me": "yes", "a b": "c", "and": "kw"}
	runEvalCases(t, []evalCase{
		{`'request.header.help!me' = "yes"`, v, true},
		{`'request.header.help!me' = "no"`, v, false},
		{`'a b' = "c"`, v, true},
		{`'and' = "kw"`, v, true},
		{`"yes" = 'request.header.help!me'`, v, true},
	})
}

func TestVariableNames(t *testing.T) {
	v := mapVars{
		"request.header.content-type": "json", "private.x_y": "1", "$a:b": "2",
		"jwt.JWT-Verify.decoded.claim.exp": "", "is.error": true,
	}
	runEvalCases(t, []evalCase{
		{`request.header.content-type = "json"`, v, true},
		{`private.x_y = "1"`, v, true},
		{`$a:b = "2"`, v, true},
		{`$a:b:="2"`, v, true},
		{`jwt.JWT-Verify.decoded.claim.exp = ""`, v, true},
		{`jwt.JWT-Verify.decoded.claim.exp = null`, v, false},
		{`is.error`, v, true},
		{`GET = "GET"`, v, false}, // an unquoted word is a variable
	})
}

func TestLiterals(t *testing.T) {
	v := mapVars{"i": 404, "i32": int32(7), "l": int64(1) << 40, "f": float32(2.5), "d": 2.5, "neg": -3}
	runEvalCases(t, []evalCase{
		{`i = 404`, v, true},
		{`i = "404"`, v, true},
		{`i = 404L`, v, true},
		{`i = 404l`, v, true},
		{`i = 404.0`, v, true},
		{`i = 404d`, v, true},
		{`i = 404f`, v, true},
		{`i32 = 7`, v, true},
		{`l = 1099511627776`, v, true},
		{`l > 2147483647`, v, true},
		{`f = 2.5`, v, true},
		{`f = 2.5f`, v, true},
		{`f = 2.5F`, v, true},
		{`d = 2.5D`, v, true},
		{`d = "2.5"`, v, true},
		{`neg = -3`, v, true},
		{`neg < -2`, v, true},
		{`neg > -2.5`, v, false},
		{`d > .5`, v, true},
		{`true`, v, true},
		{`false`, v, false},
		{`null`, v, false},
		{`"true"`, v, true},
		{`true = false`, v, false},
		{`true = true`, v, true},
		{`null = null`, v, true},
		{`TRUE = true`, v, true},
	})
}

func TestBareOperands(t *testing.T) {
	v := mapVars{"bt": true, "bf": false, "st": "true", "sT": "TRUE", "sf": "false", "sx": "yes", "e": "", "n": 1}
	cases := []struct {
		name string
		want [3]bool // BareTrue, BareBoolOnly, BareNotEmpty
	}{
		{"bt", [3]bool{true, true, true}},
		{"bf", [3]bool{false, false, false}},
		{"st", [3]bool{true, false, true}},
		{"sT", [3]bool{true, false, true}},
		{"sf", [3]bool{false, false, false}},
		{"sx", [3]bool{false, false, true}},
		{"e", [3]bool{false, false, false}},
		{"n", [3]bool{false, false, true}},
		{"missing", [3]bool{false, false, false}},
	}
	for _, tc := range cases {
		for i, mode := range []BareMode{BareTrue, BareBoolOnly, BareNotEmpty} {
			c := MustCompile(tc.name, BareOperand(mode))
			if got := c.Eval(v); got != tc.want[i] {
				t.Errorf("Eval(%q) mode %d = %v, want %v", tc.name, mode, got, tc.want[i])
			}
			neg := MustCompile("!"+tc.name, BareOperand(mode))
			if got := neg.Eval(v); got != !tc.want[i] {
				t.Errorf("Eval(%q) mode %d = %v, want %v", "!"+tc.name, mode, got, !tc.want[i])
			}
		}
	}
}

func TestEmptyConditionIsTrue(t *testing.T) {
	for _, src := range []string{"", "  ", "\n\t"} {
		c, err := Compile(src)
		if err != nil {
			t.Fatalf("Compile(%q): %v", src, err)
		}
		if !c.Eval(mapVars{}) {
			t.Errorf("Eval(%q) = false, want true", src)
		}
	}
}

func TestVariablesAndString(t *testing.T) {
	src := `(a = b) and not (c MatchesPath "/x") or a = "1" or 'q x' StartsWith d`
	c := MustCompile(src)
	if got, want := c.Variables(), []string{"a", "b", "c", "q x", "d"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Variables(%q) = %q, want %q", src, got, want)
	}
	if c.String() != src {
		t.Errorf("String() = %q, want %q", c.String(), src)
	}
	c.Variables()[0] = "changed"
	if c.Variables()[0] != "a" {
		t.Errorf("Variables() shares its slice with the Condition")
	}
}

// panicVars fails the way a buggy Vars implementation might.
type panicVars struct{}

func (panicVars) Lookup(string) (any, bool) { panic("boom") }

func TestEvalNeverPanics(t *testing.T) {
	for _, src := range []string{`a = "1"`, `not a`, `a ~~ b`, `!(a MatchesPath "/x")`} {
		c := MustCompile(src)
		if c.Eval(panicVars{}) {
			t.Errorf("Eval(%q) with a panicking Vars = true, want false", src)
		}
		_ = c.Eval(nil)
		if !MustCompile(`x = 1`).Eval(mapVars{"x": 1}) {
			t.Errorf("Eval after a panic no longer works")
		}
	}
}

func TestConcurrentEval(t *testing.T) {
	c := MustCompile(`(proxy.pathsuffix MatchesPath "/orders/*") and (request.verb = "GET" or request.verb = p)`)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				verb := []string{"GET", "PUT", "HEAD"}[(g+i)%3]
				v := mapVars{"proxy.pathsuffix": fmt.Sprintf("/orders/%d", i), "request.verb": verb, "p": "HEAD"}
				if got, want := c.Eval(v), verb != "PUT"; got != want {
					t.Errorf("Eval(%q) verb %s = %v, want %v", c, verb, got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestSyntaxErrors(t *testing.T) {
	cases := []struct {
		src string
		col int
	}{
		{`request.verb = `, 16},
		{`request.verb = "GET`, 16},
		{`= "GET"`, 1},
		{`(a = "1"`, 9},
		{`a = "1")`, 8},
		{`a = "1" and`, 12},
		{`a = "1" b = "2"`, 9},
		{`a = b = c`, 7},
		{`a # b`, 3},
		{`a = 12abc`, 7},
		{`a = 1.x`, 7},
		{`a = 1.5L`, 5},
		{`a not = "x"`, 7},
		{`a not`, 6},
		{`'abc = 1`, 1},
		{`'' = 1`, 1},
		{`()`, 2},
		{`a ~~ "x(?=y)"`, 8},
		{`a ~~ "(a)\1"`, 10},
		{`a ~~ "a++"`, 9},
		{`a ~~ "(?>a)"`, 7},
		{`a ~~ "(?<!a)b"`, 7},
		{`a ~~ "a{2}+"`, 11},
		{`a ~~ "(unclosed"`, 7},
		{"a = \"1\" and\n  b = ", 7},
		{`a = 99999999999999999999`, 5},
		{`a LessThan 5`, 3},
		{`(a LessThan 5)`, 4},
		{`x ~~ "a\Z"`, 8},
		{`x ~~ "ab[z-a]"`, 10},
	}
	for _, tc := range cases {
		t.Run(tc.src, func(t *testing.T) {
			_, err := Compile(tc.src)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Compile(%q) error = %v, want *SyntaxError", tc.src, err)
			}
			if se.Col != tc.col {
				t.Errorf("Compile(%q) error at col %d, want col %d: %v\n%s", tc.src, se.Col, tc.col, err, se.Caret())
			}
			if se.Offset < 0 || se.Offset > len(tc.src) || se.Src != tc.src {
				t.Errorf("Compile(%q) error offset %d out of range or wrong Src", tc.src, se.Offset)
			}
		})
	}
}

func TestSyntaxErrorText(t *testing.T) {
	_, err := Compile(`request.verb = `)
	se := err.(*SyntaxError)
	if got, want := se.Error(), "col 16: expected operand, found end of condition"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got, want := se.Caret(), "request.verb = \n               ^"; got != want {
		t.Errorf("Caret() = %q, want %q", got, want)
	}
	_, err = Compile("a = \"1\" and\n  b ~~ \"(?=x)\"")
	se = err.(*SyntaxError)
	if got, want := se.Caret(), "  b ~~ \"(?=x)\"\n        ^"; got != want {
		t.Errorf("Caret() = %q, want %q", got, want)
	}
}

func TestTypoHint(t *testing.T) {
	_, err := Compile(`n LessThan 5`)
	if err == nil || !strings.Contains(err.Error(), "did you mean LesserThan?") {
		t.Errorf("Compile(%q) error = %v, want a hint naming LesserThan", `n LessThan 5`, err)
	}
}

func TestMustCompilePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Errorf("MustCompile(%q) did not panic", "a =")
		}
	}()
	MustCompile("a =")
}

func TestLimits(t *testing.T) {
	cases := []struct {
		src, msg string
		col      int
	}{
		{strings.Repeat("(", maxDepth+1) + "a" + strings.Repeat(")", maxDepth+1), "nested more than", maxDepth + 1},
		{strings.Repeat("!", maxDepth+1) + "a", "nested more than", maxDepth + 1},
		{"a" + strings.Repeat(" or a", maxTerms), "more than 1000 comparisons", 5*maxTerms + 1},
	}
	for _, tc := range cases {
		_, err := Compile(tc.src)
		var se *SyntaxError
		if !errors.As(err, &se) || !strings.Contains(se.Msg, tc.msg) || se.Col != tc.col {
			t.Errorf("Compile(<%d bytes>) error = %v, want %q at col %d", len(tc.src), err, tc.msg, tc.col)
		}
	}
	deep := strings.Repeat("(", maxDepth) + "a" + strings.Repeat(")", maxDepth)
	if _, err := Compile(deep); err != nil {
		t.Errorf("Compile(%d nested parentheses): %v", maxDepth, err)
	}
	long := "a" + strings.Repeat(" or a", maxTerms-1)
	if c, err := Compile(long); err != nil || !c.Eval(mapVars{"a": true}) {
		t.Errorf("Compile(%d comparisons) = %v, want a working condition", maxTerms, err)
	}
}

func TestNilConditionIsTrue(t *testing.T) {
	var c *Condition
	if !c.Eval(mapVars{}) || c.String() != "" || c.Variables() != nil {
		t.Errorf("nil Condition: Eval = %v, String = %q, Variables = %v; want true, \"\", nil", c.Eval(mapVars{}), c.String(), c.Variables())
	}
}
