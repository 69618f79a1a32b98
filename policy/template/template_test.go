package template

import (
	"errors"
	"reflect"
	"testing"
)

type renderCase struct {
	name string
	tmpl string
	vars MapVars
	want string
}

func runRender(t *testing.T, cases []renderCase, opts ...Option) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tp, err := Parse(tc.tmpl, opts...)
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tc.tmpl, err)
			}
			if got := tp.Render(tc.vars); got != tc.want {
				t.Errorf("Render(%q) = %q, want %q", tc.tmpl, got, tc.want)
			}
		})
	}
}

func TestSubstitution(t *testing.T) {
	v := MapVars{
		"user.name": "Ann", "a": "A", "b.c": "BC", "n": 42, "l": int64(7), "ok": true,
		"f": 2.0, "nil": nil, "empty": "", "list": []string{"x", "y"},
		"request.header.Content-Type": "application/json", "flow.protected.name": "p",
	}
	runRender(t, []renderCase{
		{"plain", "Hello {user.name}!", v, "Hello Ann!"},
		{"adjacent", "{a}{b.c}{a}", v, "ABCA"},
		{"typed values", "{n}|{l}|{ok}|{f}|{list}", v, "42|7|true|2.0|[x, y]"},
		{"unresolved renders empty", "[{missing}]", v, "[]"},
		{"nil value is unresolved", "[{nil:d}]", v, "[d]"},
		{"empty string is resolved", "[{empty:d}]", v, "[]"},
		{"default", "{request.header.id:Unknown}", v, "Unknown"},
		{"default not used when set", "{a:zzz}", v, "A"},
		{"url defaults", "{protocol:https}://{site:google.com}/path", v, "https://google.com/path"},
		{"default with colon and spaces", "{x:a b:c}", v, "a b:c"},
		{"default with apostrophe", "{x:It's me} and {a}'s", v, "It's me and A's"},
		{"quoted brace in call", "{xeger('[a]{3}')}", v, "aaa"},
		{"hyphenated name", "{request.header.Content-Type}", v, "application/json"},
		{"json object literal", `{"a":1}`, v, `{"a":1}`},
		{"json quote after brace", `{"a":"{a}"}`, v, `{"a":"A"}`},
		{"json space after brace", `{ "a": "{a}" }`, v, `{ "a": "A" }`},
		{"json newline after brace", "{\n  \"a\": \"{a}\"\n}", v, "{\n  \"a\": \"A\"\n}"},
		{"nested json", `{"response":{"status":"ok","name":"{flow.protected.name}"}}`, v, `{"response":{"status":"ok","name":"p"}}`},
		{"empty braces literal", `{"x":{},"y":[{}]}`, v, `{"x":{},"y":[{}]}`},
		{"digit after brace literal", "{1} {2a}", v, "{1} {2a}"},
		{"double braces wrap value", "{{a}}", v, "{A}"},
		{"stray close brace", "a}b", v, "a}b"},
		{"backslash escape", `\{"error": \{"message":"{a}"}}`, v, `{"error": {"message":"A"}}`},
		{"brace at end", "x{", v, "x{"},
		{"quotes kept", `"Hello {user.name}"`, v, `"Hello Ann"`},
		{"non-ascii literal", "héllo {a} ✓", v, "héllo A ✓"},
	})
}

func TestRawBackslash(t *testing.T) {
	runRender(t, []renderCase{{"kept", `\{"a":"{a}"}`, MapVars{"a": "A"}, `\{"a":"A"}`}}, RawBackslash())
}

func TestDelimiters(t *testing.T) {
	v := MapVars{"request.queryparam.term": "shoes", "a": "A", "name": "N"}
	runRender(t, []renderCase{
		{"json payload", `{"q":"@request.queryparam.term#"}`, v, `{"q":"shoes"}`},
		{"braces literal", `{a} @a#`, v, `{a} A`},
		{"prefix before space literal", "100@ sure @name#", v, "100@ sure N"},
		{"default", "@missing:none#", v, "none"},
		{"function", "@toUpperCase(a)#", v, "A"},
	}, Delimiters("@", "#"))
	runRender(t, []renderCase{
		{"multibyte prefix", `{"v":"£a$"}`, v, `{"v":"A"}`},
	}, Delimiters("£", "$"))
	runRender(t, []renderCase{
		{"both", `{a} %a#`, v, `A A`},
	}, Delimiters("%", "#"), AlsoBraces())
	runRender(t, []renderCase{
		{"braces default", `{a}`, v, `A`},
	}, Delimiters("{", "}"))
}

func TestExecuteUnresolved(t *testing.T) {
	cases := []struct {
		tmpl string
		want []string
	}{
		{"{a}{b}{a}", []string{"b"}},
		{"{b:x}{c}", []string{"c"}},
		{"{toLowerCase(b)}", []string{"b"}},
		{"{toLowerCase(b:B)}", nil},
		{"{firstnonnull(b,a)}", nil},
		{"{firstnonnull(b,c)}", []string{"b", "c"}},
		{"plain", nil},
	}
	v := MapVars{"a": "A"}
	for _, tc := range cases {
		_, got := MustParse(tc.tmpl).Execute(v)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Execute(%q) unresolved = %v, want %v", tc.tmpl, got, tc.want)
		}
	}
}

func TestAccessors(t *testing.T) {
	tp := MustParse(`{"a":"{x}","b":"{substring(s,0,n)}","c":"{x:d}"}`)
	if got, want := tp.Refs(), []string{"x", "s", "n"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Refs() = %v, want %v", got, want)
	}
	if tp.IsLiteral() {
		t.Errorf("IsLiteral() = true for a template with refs")
	}
	if lit := MustParse(`{"a":1} \{x}`); !lit.IsLiteral() || lit.Render(nil) != `{"a":1} {x}` {
		t.Errorf("literal template: IsLiteral=%v Render=%q", lit.IsLiteral(), lit.Render(nil))
	}
	if got := tp.String(); got != `{"a":"{x}","b":"{substring(s,0,n)}","c":"{x:d}"}` {
		t.Errorf("String() = %q", got)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name string
		tmpl string
		off  int
	}{
		{"unknown function", "abc {foo(bar)}", 5},
		{"space after paren", "{substring( alpha,0,4)}", 11},
		{"space before comma", "{substring(alpha ,0,4)}", 16},
		{"space inside empty call", "{createUuid( )}", 12},
		{"space before close paren", "{substring(alpha,0,4 )}", 20},
		{"nested call", "{toUpperCase(toLowerCase(a))}", 13},
		{"unterminated brace", "x{foo", 1},
		{"unterminated literal", "{xeger('abc)}", 0},
		{"space in name", "{a b}", 2},
		{"missing close paren", "{substring(a,0}", 14},
		{"text after call", "{substring(a,0,4):d}", 17},
		{"empty argument", "{substring(a,,4)}", 13},
		{"java regex lookahead", "{replaceAll(a,'(?=x)','')}", 14},
		{"java possessive", "{replaceFirst(a,'a*+','')}", 16},
		{"bad date letter", "{timeFormatUTCMs('yyyy q',t)}", 17},
		{"bad randomLong bound", "{randomLong('x')}", 12},
		{"arity", "{createUuid(a)}", 1},
		{"arity min", "{substring(a)}", 1},
		{"bad jsonpath", "{jsonPath('$.[',j)}", 10},
		{"bad xpath", "{xpath('//[',x)}", 7},
		{"bad xpath type", "{xpath(/a,x,'list')}", 12},
		{"bad hmac encoding", "{hmacSha256(k,v,'rot13')}", 16},
		{"bad substring index", "{substring(a,'x')}", 13},
		{"bad xeger", "{xeger('(a')}", 7},
		{"stray char", "{a\"b}", 2},
		{"delimiter unterminated", "@name", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var opts []Option
			if tc.name == "delimiter unterminated" {
				opts = append(opts, Delimiters("@", "#"))
			}
			_, err := Parse(tc.tmpl, opts...)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error = %v, want *SyntaxError", tc.tmpl, err)
			}
			if se.Offset != tc.off {
				t.Errorf("Parse(%q) offset = %d (%s), want %d", tc.tmpl, se.Offset, se.Msg, tc.off)
			}
		})
	}
}

func TestSpacesAfterComma(t *testing.T) {
	v := MapVars{"u": "https://x/y", "re": `https:\/\/`}
	runRender(t, []renderCase{{"corpus form", "{replaceFirst(u,re, '')}", v, "x/y"}})
	if _, err := Parse("{replaceFirst(u,re, '')}", StrictSpaces()); err == nil {
		t.Errorf("Parse with StrictSpaces accepted a space after a comma")
	}
}

func TestLenient(t *testing.T) {
	v := MapVars{"a": "A"}
	runRender(t, []renderCase{
		{"js block", `if(x){search(this.value); this.value='';} {a}`, v, `if(x){search(this.value); this.value='';} A`},
		{"css declaration", `#map{ height: 100%;} {a}`, v, `#map{ height: 100%;} A`},
		// {name:default} syntax wins over leniency, as the default rule says.
		{"css without space reads as a default", `#map{height: 100%;}`, v, `#map 100%;`},
		{"unterminated", `{a} {b`, v, `A {b`},
		{"unknown function", `{foo(a)}{a}`, v, `{foo(a)}A`},
	}, Lenient())
}

func TestMustParsePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Errorf("MustParse(%q) did not panic", "{a")
		}
	}()
	MustParse("{a")
}

func TestSyntaxErrorMessage(t *testing.T) {
	_, err := Parse("{nope()}")
	if got, want := err.Error(), `template: offset 1: unknown function "nope"`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestSyntaxErrorPosition(t *testing.T) {
	text := "{\n  \"a\": \"{foo(x)}\"\n}"
	_, err := Parse(text)
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("Parse(%q) error = %v, want *SyntaxError", text, err)
	}
	if line, col := se.Position(text); line != 2 || col != 10 {
		t.Errorf("Position = %d:%d, want 2:10", line, col)
	}
	if got, want := se.Snippet(text), "  \"a\": \"{foo(x)}\"\n         ^"; got != want {
		t.Errorf("Snippet =\n%s\nwant\n%s", got, want)
	}
}

func TestNilVars(t *testing.T) {
	if got := MustParse("[{a:d}{toUpperCase(b)}]").Render(nil); got != "[d]" {
		t.Errorf("Render(nil) = %q, want %q", got, "[d]")
	}
}
