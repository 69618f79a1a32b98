package conditions

import (
	"fmt"
	"testing"
)

type patternCase struct {
	pattern, input string
	want           bool
}

// checkPattern evaluates `x OP "pattern"` (literal, compiled at Compile
// time) and `x OP p` (variable, compiled at evaluation time); both must agree.
func checkPattern(t *testing.T, opText string, cases []patternCase, opts ...Option) {
	t.Helper()
	for _, tc := range cases {
		lit := fmt.Sprintf(`x %s "%s"`, opText, tc.pattern)
		dyn := fmt.Sprintf(`x %s p`, opText)
		v := mapVars{"x": tc.input, "p": tc.pattern}
		if got := MustCompile(lit, opts...).Eval(v); got != tc.want {
			t.Errorf("Eval(%q) with x=%q = %v, want %v", lit, tc.input, got, tc.want)
		}
		if got := MustCompile(dyn, opts...).Eval(v); got != tc.want {
			t.Errorf("Eval(%q) with x=%q p=%q = %v, want %v", dyn, tc.input, tc.pattern, got, tc.want)
		}
	}
}

func TestMatches(t *testing.T) {
	cases := []patternCase{
		{"/cat", "/cat", true},
		{"/cat", "/cats", false},
		{"/c*", "/cat", true},
		{"/c*", "/c/a/t", true}, // '*' crosses '/'
		{"*", "", true},
		{"*access_token*", "invalid_access_token_x", true},
		{"*access_token*", "access_token", true},
		{"a*b*c", "abc", true},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "acb", false},
		{"a?c", "abc", false}, // no '?' wildcard
		{"a?c", "a?c", true},
		{"InvalidApiKey", "invalidapikey", false}, // case-sensitive
		{"*.json", "/x.json", true},
		{"ab*ba", "aba", false},
	}
	checkPattern(t, "Matches", cases)
	checkPattern(t, "~", cases)
	checkPattern(t, "Like", cases)
}

func TestJavaRegex(t *testing.T) {
	cases := []patternCase{
		{"/c*t", "/cat", false}, // must consume the whole input
		{"/c.*t", "/cat", true},
		{"/ca", "/cat", false},
		{".*", "", true},
		{"a|b", "b", true},
		{"a|b", "ab", false}, // anchoring wraps the alternation
		{"(?i)GET", "get", true},
		{"GET", "get", false},
		{`\d{3}`, "404", true},
		{`[^/]+/\w+`, "orders/12", true},
		{`\Qa.b\E`, "a.b", true},
		{`\Qa.b\E`, "aXb", false},
		{`(?<id>\d+)`, "12", true},
	}
	checkPattern(t, "JavaRegex", cases)
	checkPattern(t, "~~", cases)
}

func TestJavaRegexVariablePatternInvalid(t *testing.T) {
	v := mapVars{"x": "aa", "p": "(a)\\1", "q": "(unclosed"}
	for _, src := range []string{`x ~~ p`, `x ~~ q`, `x !~~ q`} {
		if MustCompile(src).Eval(v) {
			t.Errorf("Eval(%q) with an invalid pattern = true, want false", src)
		}
	}
}

func TestMatchesPath(t *testing.T) {
	cases := []patternCase{
		// the reference's examples
		{"/*/a/", "/x/a/", true},
		{"/*/a/*", "/x/a/b", true},
		{"/*/a/**", "/x/a/b/c/d", true},
		{"/*/a/{reader}/feed/", "/x/a/b/feed/", true},
		{"/a/**/feed/**", "/a/b/feed/rss/1234", true},
		// '*' is exactly one element
		{"/*/a/*", "/x/a/b/c", false},
		{"/*/a/*", "/x/a", false},
		{"/*", "/", false},
		{"/orders/*", "/orders/12", true},
		{"/orders/*", "/orders/12/items", false},
		// '**' is one or more elements, also in the middle
		{"/a/**/feed/**", "/a/feed/rss", false},
		{"/a/**/feed/**", "/a/b/c/feed/rss", true},
		{"/a/**/z", "/a/b/c/z", true},
		{"/a/**/z", "/a/z", false},
		{"/orders/**", "/orders/1", true},
		{"/orders/**", "/orders", false},
		{"/orders/**", "/ordersX/1", false},
		// {name} is one element, nothing captured
		{"/users/{id}", "/users/42", true},
		{"/users/{id}", "/users/42/x", false},
		// '%' escapes
		{"/%{user%}", "/{user}", true},
		{"/%{user%}", "/bob", false},
		{"/a%*", "/a*", true},
		{"/a%*", "/ab", false},
		// literal paths, trailing slash significant by default
		{"/animals", "/animals", true},
		{"/animals", "/animals/", false},
		{"/animals/", "/animals", false},
		{"/t1", "/t10", false},
		{"/", "/", true},
		{"/", "", true}, // default: empty path matches "/"
		{"/jwks", "/JWKS", false},
		// '*' mixed with text stays within one element
		{"/files/*.json", "/files/a.json", true},
		{"/files/*.json", "/files/a/b.json", false},
	}
	checkPattern(t, "MatchesPath", cases)
	checkPattern(t, "~/", cases)
	checkPattern(t, "LikePath", cases)
}

func TestMatchesPathOptions(t *testing.T) {
	checkPattern(t, "MatchesPath", []patternCase{
		{"/animals", "/animals/", true},
		{"/animals/", "/animals", true},
		{"/animals", "/animals", true},
		{"/*/a", "/x/a/", true},
		{"/", "/", true},
		{"/animals", "/animals//", false},
	}, MatchesPathTrailingSlash(false))
	checkPattern(t, "MatchesPath", []patternCase{
		{"/", "", false},
		{"", "", true},
		{"/", "/", true},
	}, MatchesPathEmptyIsSlash(false))
}

func TestStartsWith(t *testing.T) {
	cases := []patternCase{
		{"text/xml", "text/xml; charset=utf-8", true},
		{"application/xml", "text/xml", false},
		{"", "anything", true},
		{"Text", "text", false},
	}
	checkPattern(t, "StartsWith", cases)
	checkPattern(t, "=|", cases)
}

func TestPatternOnTypedValues(t *testing.T) {
	v := mapVars{"code": 404, "p": "4*"}
	runEvalCases(t, []evalCase{
		{`code ~ "4*"`, v, true},
		{`code ~ p`, v, true},
		{`code ~~ "4\d\d"`, v, true},
		{`code =| "40"`, v, true},
		{`code StartsWith 40`, v, true},
		{`code !~ "5*"`, v, true},
	})
}

func TestDynamicPatternCacheBounded(t *testing.T) {
	c := MustCompile(`x ~~ p`)
	for i := range patternCacheSize + 10 {
		p := fmt.Sprintf("a%d", i)
		if !c.Eval(mapVars{"x": p, "p": p}) {
			t.Fatalf("Eval(%q) with x=p=%q = false, want true", c, p)
		}
	}
	dynamicPatterns.mu.RLock()
	n := len(dynamicPatterns.m)
	dynamicPatterns.mu.RUnlock()
	if n > patternCacheSize {
		t.Errorf("dynamic pattern cache holds %d entries, want at most %d", n, patternCacheSize)
	}
}

// TestLiteralPatternsCompiledOnce checks that a literal pattern is compiled
// by Compile and never goes through the evaluation-time cache.
func TestLiteralPatternsCompiledOnce(t *testing.T) {
	for _, o := range []string{"~~", "~", "~/", "=|", "!~~", "not MatchesPath"} {
		pattern := "literal-" + o
		src := fmt.Sprintf(`x %s "%s"`, o, pattern)
		c := MustCompile(src)
		if c.leaves[0].pattern == nil {
			t.Errorf("Compile(%q) left the pattern uncompiled", src)
		}
		c.Eval(mapVars{"x": pattern})
		dynamicPatterns.mu.RLock()
		_, cached := dynamicPatterns.m[patternKey{kind: positive(c.leaves[0].op), pattern: pattern, cfg: *c.leaves[0].cfg}]
		dynamicPatterns.mu.RUnlock()
		if cached {
			t.Errorf("Eval(%q) compiled its literal pattern at evaluation time", src)
		}
	}
}
