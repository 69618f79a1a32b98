package jose

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// RFC 7515 appendix A.1: an HS256 JWS and its key.
const (
	rfcToken = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9." +
		"eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ." +
		"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	rfcKey = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"
)

func TestVerifyRFC7515Example(t *testing.T) {
	tok, err := Parse(rfcToken)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := base64.RawURLEncoding.DecodeString(rfcKey)
	a, _ := LookupAlgorithm(tok.Alg())
	if err := Verify(a, key, tok.SigningInput, tok.Signature); err != nil {
		t.Errorf("Verify(RFC 7515 A.1) = %v, want nil", err)
	}
	key[0] ^= 1
	if err := Verify(a, key, tok.SigningInput, tok.Signature); !errors.Is(err, ErrSignature) {
		t.Errorf("Verify(wrong key) = %v, want ErrSignature", err)
	}
	vars := ClaimVars(tok, time.Unix(1300819380-10, 0))
	for name, want := range map[string]any{
		"claim.issuer": "joe", "claim.expiry": "1300819380", "claim.http://example.com/is_root": "true",
		"is_expired": false, "seconds_remaining": int64(10),
	} {
		if vars[name] != want {
			t.Errorf("ClaimVars[%q] = %#v, want %#v", name, vars[name], want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct{ name, token string }{
		{"two parts", "a.b"},
		{"four parts", "a.b.c.d"},
		{"JWE", "a.b.c.d.e"},
		{"header not base64url", "!!.e30.c2ln"},
		{"header not JSON", base64.RawURLEncoding.EncodeToString([]byte("nope")) + ".e30.c2ln"},
		{"header an array", base64.RawURLEncoding.EncodeToString([]byte("[1]")) + ".e30.c2ln"},
		{"signature not base64url", "e30.e30.*"},
		{"too large", "e30." + strings.Repeat("a", MaxTokenSize) + ".c2ln"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tok, err := Parse(tc.token); err == nil {
				t.Errorf("Parse(%.40q) = %+v, want an error", tc.token, tok)
			}
		})
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"1h", time.Hour, true}, {"30m", 30 * time.Minute, true}, {"300s", 300 * time.Second, true},
		{"1500ms", 1500 * time.Millisecond, true}, {"2d", 48 * time.Hour, true}, {"60", time.Minute, true},
		{" 10S ", 10 * time.Second, true}, {"", 0, false}, {"-5s", 0, false}, {"soon", 0, false}, {"1.5h", 0, false},
	}
	for _, tc := range tests {
		got, err := ParseDuration(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestClaimValue(t *testing.T) {
	tests := []struct {
		in    any
		typ   ClaimType
		array bool
		want  string
		ok    bool
	}{
		{"abc", TypeString, false, "abc", true},
		{"42", TypeNumber, false, "42", true},
		{"4x", TypeNumber, false, "", false},
		{"TRUE", TypeBoolean, false, "true", true},
		{"a, b", TypeString, true, `["a","b"]`, true},
		{[]string{"x", "y"}, TypeString, true, `["x","y"]`, true},
		{"1,2", TypeNumber, true, `[1,2]`, true},
		{`{"k":[1]}`, TypeMap, false, `{"k":[1]}`, true},
		{`[1]`, TypeMap, false, "", false},
	}
	for _, tc := range tests {
		got, err := ClaimValue(tc.in, tc.typ, tc.array)
		if (err == nil) != tc.ok || (tc.ok && Text(got) != tc.want) {
			t.Errorf("ClaimValue(%v, %s, %v) = %s, %v; want %s, ok=%v", tc.in, tc.typ, tc.array, Text(got), err, tc.want, tc.ok)
		}
	}
}

func TestClaimMatches(t *testing.T) {
	arr := []any{"read", "write"}
	tests := []struct {
		got, want any
		match     bool
	}{
		{"read", "read", true}, {"read", "write", false}, {arr, "write", true}, {arr, "admin", false},
		{arr, []any{"read", "write"}, true}, {arr, []any{"read", "admin"}, false}, {"read", []any{"read"}, true},
	}
	for _, tc := range tests {
		if got := ClaimMatches(tc.got, tc.want); got != tc.match {
			t.Errorf("ClaimMatches(%v, %v) = %v, want %v", tc.got, tc.want, got, tc.match)
		}
	}
}

func TestDetachedPayload(t *testing.T) {
	a, _ := LookupAlgorithm("HS384")
	key := []byte(strings.Repeat("k", 48))
	for _, b64 := range []bool{true, false} {
		opts := SignOptions{Detached: true}
		if !b64 {
			opts.Headers, opts.Critical = map[string]any{"b64": false}, []string{"b64"}
		}
		jws, err := Sign(a, key, []byte("payload text"), opts)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := Parse(jws)
		if err != nil || !tok.Detached {
			t.Fatalf("Parse(detached) = %+v, %v", tok, err)
		}
		tok.AttachPayload([]byte("payload text"))
		if err := Verify(a, key, tok.SigningInput, tok.Signature); err != nil {
			t.Errorf("b64=%v: Verify(detached) = %v, want nil", b64, err)
		}
		tok.AttachPayload([]byte("other text"))
		if err := Verify(a, key, tok.SigningInput, tok.Signature); err == nil {
			t.Errorf("b64=%v: Verify(other content) = nil, want an error", b64)
		}
	}
}

// FuzzParse: decoding and publishing any token never panics.
func FuzzParse(f *testing.F) {
	f.Add(rfcToken)
	f.Add("e30.e30.")
	f.Add("e30..c2ln")
	f.Add(`eyJjcml0IjpbImEiXSwiYWxnIjoiSFMyNTYifQ.eyJleHAiOjFlMzAwLCJhdWQiOlsxLG51bGxdfQ.`)
	if entries, err := os.ReadDir("../testdata/jwt"); err == nil {
		for _, e := range entries {
			if b, err := os.ReadFile(filepath.Join("../testdata/jwt", e.Name())); err == nil {
				f.Add(strings.TrimSpace(string(b)))
			}
		}
	}
	key := []byte(strings.Repeat("s", 64))
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := Parse(s)
		if err != nil {
			return
		}
		HeaderVars(tok)
		ClaimVars(tok, time.Unix(1e9, 0))
		tok.Critical()
		Audiences(tok.Claims["aud"])
		if a, ok := LookupAlgorithm(tok.Alg()); ok {
			_ = Verify(a, key, tok.SigningInput, tok.Signature)
		}
	})
}
