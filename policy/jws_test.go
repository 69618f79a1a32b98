package policy

import (
	"strings"
	"testing"

	"github.com/apigo/apigo/policy/exchange"
)

func TestJWSRoundTrip(t *testing.T) {
	c := newJWTClock(jwtT0)
	for _, alg := range []string{"HS512", "RS384", "PS256", "ES384"} {
		for _, detached := range []bool{false, true} {
			name := alg
			if detached {
				name += "/detached"
			}
			t.Run(name, func(t *testing.T) {
				key := `<PrivateKey><Value ref="private.key"/><Id>k9</Id></PrivateKey>`
				pub := `<PublicKey><Value ref="pub"/></PublicKey>`
				if alg[0] == 'H' {
					key = `<SecretKey><Value ref="private.secret"/><Id>k9</Id></SecretKey>`
					pub = `<SecretKey><Value ref="private.secret"/></SecretKey>`
				}
				detach := map[bool]string{true: "true", false: "false"}[detached]
				gen := mustBuild(t, `<GenerateJWS name="g"><Algorithm>`+alg+`</Algorithm>`+key+
					`<Payload ref="body"/><DetachContent>`+detach+`</DetachContent>
					<AdditionalHeaders><Claim name="purpose">test</Claim></AdditionalHeaders></GenerateJWS>`, jwtBC(c))
				x := exchange.New()
				x.Set("private.key", jwtKeyFor(t, alg).private)
				x.Set("pub", jwtKeyFor(t, alg).public)
				x.Set("private.secret", jwtHSSecret)
				x.Set("body", `{"amount":12}`)
				if err := execute(t, gen, x); err != nil {
					t.Fatalf("GenerateJWS: %v", err)
				}
				jws, _ := x.GetString("jws.g.generated_jws")
				if got := strings.Split(jws, ".")[1] == ""; got != detached {
					t.Fatalf("generated %q: detached = %v, want %v", jws, got, detached)
				}
				x.Set("sig", jws)
				body := `<Algorithm>` + alg + `</Algorithm>` + pub + `<Source>sig</Source>`
				if detached {
					body += `<DetachedContent>body</DetachedContent>`
				}
				ver := mustBuild(t, `<VerifyJWS name="v">`+body+`</VerifyJWS>`, jwtBC(c))
				if err := execute(t, ver, x); err != nil {
					t.Fatalf("VerifyJWS: %v", err)
				}
				for name, want := range map[string]any{
					"jws.v.valid": true, "jws.v.header.purpose": "test", "jws.v.header.kid": "k9",
					"jws.v.payload": `{"amount":12}`,
				} {
					if got := x.Get(name); got != want {
						t.Errorf("%s = %#v, want %#v", name, got, want)
					}
				}
				x.Set("body", `{"amount":13}`)
				if !detached {
					parts := strings.Split(jws, ".")
					x.Set("sig", parts[0]+"."+strings.TrimRight(parts[1], "=")+"x."+parts[2])
				}
				err := execute(t, ver, x)
				if f, ok := err.(*Fault); !ok || f.Code != "steps.jws.InvalidToken" && f.Code != "steps.jws.FailedToDecode" {
					t.Errorf("VerifyJWS(tampered) = %v, want steps.jws.InvalidToken", err)
				}
				if x.Get("jws.v.valid") != false {
					t.Errorf("jws.v.valid = %v after a failure, want false", x.Get("jws.v.valid"))
				}
			})
		}
	}
}

func TestVerifyJWSDetachedWithoutContent(t *testing.T) {
	c := newJWTClock(jwtT0)
	gen := mustBuild(t, `<GenerateJWS name="g"><Algorithm>HS256</Algorithm><SecretKey><Value ref="private.secret"/></SecretKey>
		<Payload>fixed</Payload><DetachContent>true</DetachContent></GenerateJWS>`, jwtBC(c))
	x := exchange.New()
	x.Set("private.secret", jwtHSSecret)
	if err := execute(t, gen, x); err != nil {
		t.Fatal(err)
	}
	jws, _ := x.GetString("jws.g.generated_jws")
	x.Request().Header.Set("Authorization", "Bearer "+jws)
	ver := mustBuild(t, `<VerifyJWS name="v"><Algorithm>HS256</Algorithm><SecretKey><Value ref="private.secret"/></SecretKey></VerifyJWS>`, jwtBC(c))
	err := execute(t, ver, x)
	wantJOSEFault(t, err, "steps.jws.InvalidToken", "Invalid token: policy(v)", 401)
	dec := mustBuild(t, `<DecodeJWS name="d"/>`, jwtBC(c))
	if err := execute(t, dec, x); err != nil || x.Get("jws.d.header.alg") != "HS256" {
		t.Errorf("DecodeJWS = %v, header.alg %v; want nil, HS256", err, x.Get("jws.d.header.alg"))
	}
}
