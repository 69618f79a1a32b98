package policy

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"strings"
	"testing"

	"github.com/apigo/apigo/policy/exchange"
)

func TestHMACAlgorithmsAndEncodings(t *testing.T) {
	algs := map[string]func() hash.Hash{
		"SHA-1": sha1.New, "SHA-224": sha256.New224, "SHA-256": sha256.New, "sha384": sha512.New384,
		"SHA-512": sha512.New, "MD-5": md5.New,
	}
	encs := map[string]func([]byte) string{
		"base16": hex.EncodeToString, "base64": base64.StdEncoding.EncodeToString,
		"base64url": base64.RawURLEncoding.EncodeToString,
	}
	for alg, h := range algs {
		for enc, encode := range encs {
			t.Run(alg+"/"+enc, func(t *testing.T) {
				m := hmac.New(h, []byte("s3cret"))
				m.Write([]byte("GET /v1/items"))
				want := encode(m.Sum(nil))
				pol := mustBuild(t, `<HMAC name="h"><Algorithm>`+alg+`</Algorithm><SecretKey ref="private.k"/>
					<Message>{request.verb} {request.path}</Message>
					<VerificationValue encoding="`+enc+`">{request.header.x-sig}</VerificationValue>
					<Output encoding="`+enc+`">sig.out</Output></HMAC>`, nil)
				x := exchange.New()
				x.Request().Verb, x.Request().Path = "GET", "/v1/items"
				x.Set("private.k", "s3cret")
				x.Request().Header.Set("X-Sig", want)
				if err := execute(t, pol, x); err != nil {
					t.Fatalf("Execute = %v, want success", err)
				}
				if got, _ := x.GetString("sig.out"); got != want {
					t.Errorf("sig.out = %q, want %q", got, want)
				}
				if got, _ := x.GetString("hmac.h.output"); got != want {
					t.Errorf("hmac.h.output = %q, want %q", got, want)
				}
				x.Request().Header.Set("X-Sig", strings.Repeat("0", len(want)))
				err := execute(t, pol, x)
				wantJOSEFault(t, err, "steps.hmac.HmacVerificationFailed", "HMAC Verification Failed: policy(h)", 401)
			})
		}
	}
}

func TestHMACUnresolvedAndBuildProblems(t *testing.T) {
	pol := mustBuild(t, `<HMAC name="h"><Algorithm>SHA-256</Algorithm><SecretKey ref="private.missing"/><Message>x</Message></HMAC>`, nil)
	err := execute(t, pol, exchange.New())
	wantJOSEFault(t, err, "steps.hmac.UnresolvedVariable", "Unresolved variable : private.missing", 500)
	tests := []struct{ name, xml, want string }{
		{"bad algorithm", `<HMAC name="h"><Algorithm>SHA-3</Algorithm><SecretKey ref="k"/><Message>x</Message></HMAC>`, "is not SHA-1"},
		{"no key", `<HMAC name="h"><Algorithm>SHA-1</Algorithm><Message>x</Message></HMAC>`, "needs <SecretKey"},
		{"bad encoding", `<HMAC name="h"><Algorithm>SHA-1</Algorithm><SecretKey ref="k"/><Message>x</Message><Output encoding="base32">o</Output></HMAC>`, "want base16"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, probs := buildXML(t, tc.xml, nil)
			if p != nil || !strings.Contains(probs.String(), tc.want) {
				t.Errorf("build = %v, problems %q; want nil and %q", p, probs.String(), tc.want)
			}
		})
	}
}
