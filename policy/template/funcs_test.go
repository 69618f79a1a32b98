package template

import (
	"encoding/base64"
	"encoding/hex"
	"regexp"
	"strconv"
	"testing"
)

func hexToB64(t *testing.T, h string) string {
	t.Helper()
	b, err := hex.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func TestStringFunctions(t *testing.T) {
	v := MapVars{
		"alpha": "abcdefghij", "q": `he said "hi"` + "\n/é", "x": `<a href='x'>&"`,
		"ctl": "a\x01b\x00c\x7fd", "mixed": "MiXeD", "aud": `["x"]`, "n4": 4, "neg": "-4",
		"ctl2": "\x01\t\x7f😀", "e": "", "ts": int64(1700000000123), "u": "日本語テキスト",
	}
	runRender(t, []renderCase{
		{"escapeJSON", "{escapeJSON(q)}", v, `he said \"hi\"\n\/\u00E9`},
		{"escapeJSON controls and astral", "{escapeJSON(ctl2)}", v, "\\u0001\\t\x7f\\uD83D\\uDE00"},
		{"escapeXML", "{escapeXML(x)}", v, `&lt;a href=&apos;x&apos;&gt;&amp;&quot;`},
		{"escapeXML11", "{escapeXML11(ctl)}", v, `a&#1;bc&#127;d`},
		{"encodeHTML", "{encodeHTML(x)}", v, `&lt;a href=&#39;x&#39;&gt;&amp;&quot;`},
		{"toUpperCase", "{toUpperCase(mixed)}", v, "MIXED"},
		{"toLowerCase", "{toLowerCase(mixed)}", v, "mixed"},
		{"toLowerCase default arg", "{toLowerCase(foo.bar:FOO)}", v, "foo"},
		{"unresolved arg", "[{toUpperCase(nope)}]", v, "[]"},
		{"literal arg", "{toUpperCase('lit')}", v, "LIT"},
		{"substring", "{substring(alpha,0,4)}", v, "abcd"},
		{"substring to end", "{substring(alpha,2)}", v, "cdefghij"},
		{"substring negative start", "{substring(alpha,-4)}", v, "ghij"},
		{"substring negative both", "{substring(alpha,-8,-4)}", v, "cdef"},
		{"substring variable index", "{substring(alpha,n4,neg)}", v, "ef"},
		{"substring strip brackets", "{substring(aud,1,-1)}", v, `"x"`},
		{"substring clamps", "{substring(alpha,5,100)}", v, "fghij"},
		{"substring empty range", "[{substring(alpha,6,2)}]", v, "[]"},
		{"substring of long", "{substring(ts,0,10)}", v, "1700000000"},
		{"substring runes", "{substring(u,1,3)}", v, "本語"},
		{"firstnonnull second", "{firstnonnull(nope,alpha)}", v, "abcdefghij"},
		{"firstnonnull empty counts", "[{firstnonnull(e,alpha)}]", v, "[]"},
		{"firstnonnull literal fallback", "{firstnonnull(nope,nada,'dflt')}", v, "dflt"},
		{"firstnonnull all unset", "[{firstnonnull(nope,nada)}]", v, "[]"},
		{"encodeBase64", "{encodeBase64('hello')}", v, "aGVsbG8="},
		{"decodeBase64", "{decodeBase64('aGVsbG8=')}", v, "hello"},
		{"decodeBase64 unpadded", "{decodeBase64('aGVsbG8')}", v, "hello"},
		{"decodeBase64 url alphabet", "[{decodeBase64('PDw_Pz4-')}]", v, "[]"},
	})
}

func TestReplace(t *testing.T) {
	v := MapVars{
		"s": "a1b22c333", "re": "[0-9]+", "repl": "<$0>", "uri": "https://host/path/x",
		"proto": `https:\/\/`, "look": "(?=x)", "d": "2024-01-31",
	}
	runRender(t, []renderCase{
		{"replaceAll literal", "{replaceAll(s,'[0-9]+','#')}", v, "a#b#c#"},
		{"replaceFirst literal", "{replaceFirst(s,'[0-9]+','#')}", v, "a#b22c333"},
		{"replaceAll variables", "{replaceAll(s,re,repl)}", v, "a<1>b<22>c<333>"},
		{"java groups", "{replaceAll(d,'(\\d+)-(\\d+)-(\\d+)','$3/$2/$1')}", v, "31/01/2024"},
		{"escaped dollar", "{replaceAll(s,'[0-9]+','\\$')}", v, "a$b$c$"},
		{"escaped slash regex", "{replaceFirst(uri,proto,'')}", v, "host/path/x"},
		{"no match", "{replaceAll(s,'z','y')}", v, "a1b22c333"},
		{"java-only regex in variable", "[{replaceAll(s,look,'')}]", v, "[]"},
	})
}

func TestDigests(t *testing.T) {
	v := MapVars{"abc": "abc"}
	cases := []struct{ fn, hex string }{
		{"md5", "900150983cd24fb0d6963f7d28e17f72"},
		{"sha1", "a9993e364706816aba3e25717850c26c9cd0d89d"},
		{"sha256", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"sha384", "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"},
		{"sha512", "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
	}
	var rc []renderCase
	for _, c := range cases {
		rc = append(rc,
			renderCase{c.fn + "Hex", "{" + c.fn + "Hex(abc)}", v, c.hex},
			renderCase{c.fn + "Base64", "{" + c.fn + "Base64(abc)}", v, hexToB64(t, c.hex)})
	}
	runRender(t, rc)
}

func TestHMAC(t *testing.T) {
	// RFC 2202 / RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
	v := MapVars{"key": "Jefe", "keyHex": "4a656665", "keyB64": "SmVmZQ==",
		"data": "what do ya want for nothing?", "hexEnc": "HEX"}
	vectors := []struct{ fn, hex string }{
		{"hmacMd5", "750c783e6ab0b503eaa86e310a5db738"},
		{"hmacSha1", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
		{"hmacSha224", "a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44"},
		{"hmacSha256", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
		{"hmacSha384", "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649"},
		{"hmacSha512", "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
	}
	var rc []renderCase
	for _, c := range vectors {
		b64 := hexToB64(t, c.hex)
		rc = append(rc,
			renderCase{c.fn + " default base64", "{" + c.fn + "(key,data)}", v, b64},
			renderCase{c.fn + " utf-8 hex", "{" + c.fn + "(key,data,'utf-8','hex')}", v, c.hex},
			renderCase{c.fn + " hex key base16", "{" + c.fn + "(keyHex,data,'hex','base16')}", v, c.hex},
			renderCase{c.fn + " base64 key", "{" + c.fn + "(keyB64,data,'base64','base64')}", v, b64},
			renderCase{c.fn + " case-insensitive var enc", "{" + c.fn + "(keyHex,data,hexEnc,hexEnc)}", v, c.hex},
		)
	}
	rc = append(rc, renderCase{"bad hex key", "[{hmacSha256(key,data,'hex')}]", v, "[]"})
	runRender(t, rc)
}

func TestTimeFormat(t *testing.T) {
	// 1700000000123 ms = Tuesday 2023-11-14 22:13:20.123 UTC.
	v := MapVars{
		"ms": int64(1700000000123), "sec": 1700000000, "msStr": "1700000000123",
		"isoFmt": "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", "quoteFmt": "h 'o''clock' a",
		"nye":     int64(1703980800000), // Sunday 2023-12-31 00:00 UTC
		"morning": int64(1699945205007), "badFmt": "yyyy q", "unterminated": "yyyy 'x",
	}
	runRender(t, []renderCase{
		{"date", "{timeFormatUTCMs('yyyy-MM-dd',ms)}", v, "2023-11-14"},
		{"iso via variable", "{timeFormatUTCMs(isoFmt,ms)}", v, "2023-11-14T22:13:20.123Z"},
		{"seconds", "{timeFormatUTC('yyyyMMddHHmmss',sec)}", v, "20231114221320"},
		{"timeFormat is UTC", "{timeFormat('HH',sec)}", v, "22"},
		{"timeFormatMs string epoch", "{timeFormatMs('yy/M/d',msStr)}", v, "23/11/14"},
		{"month names", "{timeFormatUTCMs('MMM MMMM',ms)}", v, "Nov November"},
		{"day names", "{timeFormatUTCMs('EEE EEEE u',ms)}", v, "Tue Tuesday 2"},
		{"12 hour", "{timeFormatUTCMs('hh h a K k',ms)}", v, "10 10 PM 10 22"},
		{"morning padding", "{timeFormatUTCMs('d dd H HH hh mm ss SSS S a',morning)}", v, "14 14 7 07 07 00 05 007 7 AM"},
		{"zones", "{timeFormatUTCMs('z zzzz Z X XX XXX',ms)}", v, "UTC Coordinated Universal Time +0000 Z Z Z"},
		{"quoted text", "{timeFormatUTCMs(quoteFmt,ms)}", v, "10 o'clock PM"},
		{"day and week of year", "{timeFormatUTCMs('D w W F G',ms)}", v, "318 46 3 2 AD"},
		{"week year", "{timeFormatUTCMs('yyyy YYYY w',nye)}", v, "2023 2024 1"},
		{"bad format in variable", "[{timeFormatUTCMs(badFmt,ms)}]", v, "[]"},
		{"unterminated quote in variable", "[{timeFormatUTCMs(unterminated,ms)}]", v, "[]"},
		{"bad epoch", "[{timeFormatUTCMs('yyyy',badFmt)}]", v, "[]"},
	})
}

func TestJSONPathFunction(t *testing.T) {
	doc := `{"store":{"book":[{"title":"A","price":8.95,"n":1},{"title":"B","price":12.99,"n":2},` +
		`{"title":"C","price":22.0,"n":3}]},"quota":[{"appname":"x"},{"appname":"y"}],"obj":{"k":"v","a":[1,2]},"nul":null,"t":true}`
	v := MapVars{"doc": doc, "path": "$.store.book[?(@.price > 10)].title", "yes": "true", "bad": "{"}
	runRender(t, []renderCase{
		{"simple", "{jsonPath($.store.book[0].title,doc)}", v, "A"},
		{"first of many", "{jsonPath($..title,doc)}", v, "A"},
		{"whole array", "{jsonPath($..title,doc,true)}", v, `["A","B","C"]`},
		{"filter from variable", "{jsonPath(path,doc,yes)}", v, `["B","C"]`},
		{"slice", "{jsonPath('$.store.book[1:3].n',doc,'true')}", v, "[2,3]"},
		{"jayway dot bracket", "{jsonPath('$.quota.[*].appname',doc)}", v, "x"},
		{"number", "{jsonPath($.store.book[0].price,doc)}", v, "8.95"},
		{"whole double", "{jsonPath($.store.book[2].price,doc)}", v, "22.0"},
		{"integer", "{jsonPath($.store.book[2].n,doc)}", v, "3"},
		{"boolean", "{jsonPath($.t,doc)}", v, "true"},
		{"object", "{jsonPath($.obj,doc)}", v, `{"a":[1,2],"k":"v"}`},
		{"null", "[{jsonPath($.nul,doc)}]", v, "[]"},
		{"no match", "[{jsonPath($.nope,doc)}]", v, "[]"},
		{"bare filter literal", "{jsonPath($.store.book[?(@.title=='B')].n,doc)}", v, "2"},
		{"bad json", "[{jsonPath($.a,bad)}]", v, "[]"},
	})
}

func TestJSONPathHelper(t *testing.T) {
	p, err := CompileJSONPath("$..book[?(@.n >= 2)].title")
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Eval(`{"book":[{"n":1,"title":"a"},{"n":2,"title":"b"}],"x":{"book":[{"n":3,"title":"c"}]}}`)
	if err != nil || len(got) != 2 || got[0] == got[1] || (got[0] != "b" && got[0] != "c") || (got[1] != "b" && got[1] != "c") {
		t.Errorf("Eval = %v, %v; want b and c", got, err)
	}
	if _, err := p.Eval("{"); err == nil {
		t.Errorf("Eval(%q) err = nil, want error", "{")
	}
	if _, err := CompileJSONPath("$[?("); err == nil {
		t.Errorf("CompileJSONPath(%q) err = nil, want error", "$[?(")
	}
}

func TestXPathFunction(t *testing.T) {
	xml := `<tag id="t1"><tagid>250397</tagid><readerid>1</readerid><ok>true</ok></tag>`
	soap := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>` +
		`<m:r xmlns:m="urn:m"><m:v>42</m:v></m:r></s:Body></s:Envelope>`
	v := MapVars{"xml": xml, "soap": soap, "ns1": "soap:http://schemas.xmlsoap.org/soap/envelope/",
		"ns2": "mm:urn:m", "typ": "number", "expr": "count(/tag/*)", "bad": "<a"}
	runRender(t, []renderCase{
		{"nodeset default", "{xpath(/tag/tagid,xml)}", v, "<tagid>250397</tagid>"},
		{"xPath alias", "{xPath(/tag/tagid,xml,'nodeset')}", v, "<tagid>250397</tagid>"},
		{"first node of many", "{xpath(/tag/*,xml)}", v, "<tagid>250397</tagid>"},
		{"node", "{xpath(/tag/readerid,xml,'node')}", v, "<readerid>1</readerid>"},
		{"text", "{xpath(/tag/tagid/text(),xml)}", v, "250397"},
		{"attribute", "{xpath(/tag/@id,xml)}", v, "t1"},
		{"string", "{xpath(/tag/tagid,xml,'string')}", v, "250397"},
		{"number", "{xpath(/tag/tagid,xml,'number')}", v, "250397.0"},
		{"count via variables", "{xpath(expr,xml,typ)}", v, "3.0"},
		{"boolean", "{xpath(/tag[ok='true'],xml,'boolean')}", v, "true"},
		{"quoted expression", "{xpath('/tag/tagid/text()',xml)}", v, "250397"},
		{"boolean missing", "{xpath(/tag/nope,xml,'boolean')}", v, "false"},
		{"namespaces", "{xpath(/soap:Envelope/soap:Body/mm:r/mm:v/text(),soap,ns1,ns2)}", v, "42"},
		{"type and namespaces", "{xpath(/soap:Envelope/soap:Body/mm:r/mm:v,soap,'string',ns1,ns2)}", v, "42"},
		{"no match", "[{xpath(/tag/nope,xml)}]", v, "[]"},
		{"namespaced node keeps its declarations", "{xpath(/soap:Envelope/soap:Body/mm:r/mm:v,soap,ns1,ns2)}", v, `<m:v xmlns:m="urn:m">42</m:v>`},
		{"declaration inside fragment not repeated", "{xpath(/soap:Envelope/soap:Body/mm:r,soap,ns1,ns2)}", v, `<m:r xmlns:m="urn:m"><m:v>42</m:v></m:r>`},
		{"bad xml", "[{xpath(/a,bad)}]", v, "[]"},
	})
}

func TestXPathHelper(t *testing.T) {
	x, err := CompileXPath("/p:a/p:b", map[string]string{"p": "urn:p"})
	if err != nil {
		t.Fatal(err)
	}
	doc := `<a xmlns="urn:p"><b>1</b><b>2</b></a>`
	cases := []struct {
		typ  string
		want any
	}{
		{"nodeset", []string{`<b xmlns="urn:p">1</b>`, `<b xmlns="urn:p">2</b>`}},
		{"string", "1"},
		{"number", 1.0},
		{"boolean", true},
	}
	for _, tc := range cases {
		got, err := x.Eval(doc, tc.typ)
		if err != nil || Format(got) != Format(tc.want) {
			t.Errorf("Eval(%q) = %#v, %v; want %#v", tc.typ, got, err, tc.want)
		}
	}
	if _, err := x.Eval(doc, "list"); err == nil {
		t.Errorf("Eval type %q: err = nil, want error", "list")
	}
}

func TestRandomLong(t *testing.T) {
	v := MapVars{"lo": "100", "hi": 110}
	cases := []struct {
		tmpl   string
		lo, hi int64
	}{
		{"{randomLong(0,1000)}", 0, 999},
		{"{randomLong(lo,hi)}", 100, 109},
		{"{randomLong(5,5)}", 5, 5},
		{"{randomLong(-10,-5)}", -10, -6},
		{"{randomLong(9000000000000000000)}", 9000000000000000000, 1<<63 - 1},
		{"{randomLong()}", -1 << 63, 1<<63 - 1},
	}
	for _, tc := range cases {
		tp := MustParse(tc.tmpl)
		for range 200 {
			s := tp.Render(v)
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n < tc.lo || n > tc.hi {
				t.Fatalf("Render(%q) = %q, want an integer in [%d, %d]", tc.tmpl, s, tc.lo, tc.hi)
			}
		}
	}
	if got := MustParse("[{randomLong(5,1)}]").Render(v); got != "[]" {
		t.Errorf("Render(randomLong(5,1)) = %q, want %q", got, "[]")
	}
}

func TestCreateUUID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	tp := MustParse("{createUuid()}")
	seen := map[string]bool{}
	for range 100 {
		s := tp.Render(nil)
		if !re.MatchString(s) || seen[s] {
			t.Fatalf("Render(createUuid()) = %q: not a fresh v4 UUID", s)
		}
		seen[s] = true
	}
}

func TestXeger(t *testing.T) {
	regexes := []string{
		"([a-z]|[A-Z]|[0-9]){16}", "[0-9]{3}", `\d{3}-\d{4}`, "(?i)abc", "[^a-z]{5}",
		`\w+@\w+\.com`, "a*b+c?", "(foo|bar|baz){2,4}", ".{10}", `[\p{Greek}]{3}`, "x{0}y",
	}
	for _, r := range regexes {
		tp := MustParse("{xeger(re)}")
		want := regexp.MustCompile("^(?:" + r + ")$")
		lit := MustParse("{xeger('" + r + "')}")
		for range 50 {
			for _, got := range []string{tp.Render(MapVars{"re": r}), lit.Render(nil)} {
				if !want.MatchString(got) {
					t.Fatalf("xeger(%q) = %q, does not match", r, got)
				}
			}
		}
	}
	if s, err := Xeger("[ab]{4}"); err != nil || !regexp.MustCompile("^[ab]{4}$").MatchString(s) {
		t.Errorf("Xeger = %q, %v", s, err)
	}
}
