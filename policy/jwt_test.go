package policy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gojose "github.com/go-jose/go-jose/v4"

	"github.com/apigo/apigo/policy/exchange"
	"github.com/apigo/apigo/policy/jose"
)

// jwtTestKey is a key pair in every form the policies read.
type jwtTestKey struct {
	private, public, cert string // PEM
	jwk                   gojose.JSONWebKey
}

var (
	jwtKeysOnce sync.Once
	jwtKeys     map[string]*jwtTestKey // "RSA", "P-256", "P-384", "P-521"
)

func jwtTestKeys(t testing.TB) map[string]*jwtTestKey {
	t.Helper()
	jwtKeysOnce.Do(func() {
		jwtKeys = map[string]*jwtTestKey{}
		rk, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		jwtKeys["RSA"] = newJWTTestKey(rk, &rk.PublicKey, "rsa-1")
		for _, c := range []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()} {
			ek, err := ecdsa.GenerateKey(c, rand.Reader)
			if err != nil {
				panic(err)
			}
			jwtKeys[c.Params().Name] = newJWTTestKey(ek, &ek.PublicKey, "ec-"+c.Params().Name)
		}
	})
	return jwtKeys
}

func newJWTTestKey(priv, pub any, kid string) *jwtTestKey {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		panic(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "jwt test"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(4e9, 0),
	}
	certDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		panic(err)
	}
	return &jwtTestKey{
		private: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		public:  string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})),
		cert:    string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER})),
		jwk:     gojose.JSONWebKey{Key: pub, KeyID: kid, Use: "sig"},
	}
}

func jwtKeyFor(t testing.TB, alg string) *jwtTestKey {
	switch alg[2:] {
	case "256":
		if alg[0] == 'E' {
			return jwtTestKeys(t)["P-256"]
		}
	case "384":
		if alg[0] == 'E' {
			return jwtTestKeys(t)["P-384"]
		}
	case "512":
		if alg[0] == 'E' {
			return jwtTestKeys(t)["P-521"]
		}
	}
	return jwtTestKeys(t)["RSA"]
}

func testJWKS(t testing.TB, ks ...*jwtTestKey) string {
	set := gojose.JSONWebKeySet{}
	for _, k := range ks {
		set.Keys = append(set.Keys, k.jwk)
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// jwtClock is a settable clock for BuildContext options.
type jwtClock struct{ ns atomic.Int64 }

func newJWTClock(t time.Time) *jwtClock { c := &jwtClock{}; c.ns.Store(t.UnixNano()); return c }
func (c *jwtClock) Now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *jwtClock) Add(d time.Duration) { c.ns.Add(int64(d)) }

const jwtHSSecret = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" // 64 bytes

var jwtT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func jwtBC(c *jwtClock) *BuildContext {
	return &BuildContext{Options: &Options{Now: c.Now}}
}

// generate runs a GenerateJWT with the algorithm's key in private.key.
func genJWT(t testing.TB, c *jwtClock, alg, extra string) string {
	t.Helper()
	key := `<PrivateKey><Value ref="private.key"/><Id>` + jwtKeyFor(t, alg).jwk.KeyID + `</Id></PrivateKey>`
	if strings.HasPrefix(alg, "HS") {
		key = `<SecretKey><Value ref="private.secret"/><Id>hs-1</Id></SecretKey>`
	}
	pol := mustBuild(t, `<GenerateJWT name="gen"><Algorithm>`+alg+`</Algorithm>`+key+`
		<Subject>ada</Subject><Issuer>urn://apigo</Issuer><Audience>api,other</Audience>
		<ExpiresIn>1h</ExpiresIn><Id/>`+extra+`
		<AdditionalClaims><Claim name="scope" array="true">read,write</Claim><Claim name="n" type="number" ref="num"/></AdditionalClaims>
		<AdditionalHeaders><Claim name="env">test</Claim></AdditionalHeaders></GenerateJWT>`, jwtBC(c))
	x := exchange.New()
	x.Set("private.key", jwtKeyFor(t, alg).private)
	x.Set("private.secret", jwtHSSecret)
	x.Set("num", 42)
	if err := execute(t, pol, x); err != nil {
		t.Fatalf("GenerateJWT %s: %v", alg, err)
	}
	tok, _ := x.GetString("jwt.gen.generated_jwt")
	if strings.Count(tok, ".") != 2 {
		t.Fatalf("generated_jwt = %q, want a compact JWT", tok)
	}
	return tok
}

// verify runs a VerifyJWT (body is its children) on a bearer token.
func verifyJWT(t *testing.T, bc *BuildContext, body, token string, vars map[string]any) (*exchange.Exchange, error) {
	t.Helper()
	pol := mustBuild(t, `<VerifyJWT name="v">`+body+`</VerifyJWT>`, bc)
	x := exchange.New()
	if token != "" {
		x.Request().Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range vars {
		x.Set(k, v)
	}
	return x, execute(t, pol, x)
}

func TestJWTRoundTripEveryAlgorithmAndKeySource(t *testing.T) {
	c := newJWTClock(jwtT0)
	jwksSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(testJWKS(t, jwtTestKeys(t)["RSA"], jwtTestKeys(t)["P-256"], jwtTestKeys(t)["P-384"], jwtTestKeys(t)["P-521"])))
	}))
	defer jwksSrv.Close()
	sources := map[string]string{
		"PEM value":   `<PublicKey><Value ref="pub"/></PublicKey>`,
		"certificate": `<PublicKey><Certificate ref="cert"/></PublicKey>`,
		"JWKS ref":    `<PublicKey><JWKS ref="jwks"/></PublicKey>`,
		"JWKS uri":    `<PublicKey><JWKS uri="` + jwksSrv.URL + `/certs"/></PublicKey>`,
	}
	for _, alg := range jose.Algorithms() {
		tok := genJWT(t, c, alg, "")
		if alg[0] == 'H' {
			t.Run(alg, func(t *testing.T) {
				x, err := verifyJWT(t, jwtBC(c), `<Algorithm>`+alg+`</Algorithm><SecretKey><Value ref="private.secret"/></SecretKey>
					<Issuer>urn://apigo</Issuer><Audience>api</Audience><Subject>ada</Subject>`, tok, map[string]any{"private.secret": jwtHSSecret})
				checkJWTValid(t, x, err)
			})
			continue
		}
		for name, src := range sources {
			t.Run(alg+"/"+name, func(t *testing.T) {
				k := jwtKeyFor(t, alg)
				x, err := verifyJWT(t, jwtBC(c), `<Algorithm>`+alg+`</Algorithm>`+src+`<Issuer>urn://apigo</Issuer><Audience>api</Audience>`,
					tok, map[string]any{"pub": k.public, "cert": k.cert, "jwks": testJWKS(t, k)})
				checkJWTValid(t, x, err)
			})
		}
	}
}

func checkJWTValid(t *testing.T, x *exchange.Exchange, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("VerifyJWT: %v", err)
	}
	for name, wantV := range map[string]any{
		"jwt.v.valid": true, "jwt.v.claim.subject": "ada", "jwt.v.claim.issuer": "urn://apigo",
		"jwt.v.claim.audience": "api,other", "jwt.v.claim.scope": `["read","write"]`, "jwt.v.claim.n": "42",
		"jwt.v.decoded.header.env": "test", "jwt.v.header.typ": "JWT", "jwt.v.is_expired": false,
		"jwt.v.seconds_remaining": int64(3600), "jwt.v.claim.expiry": "1772370000",
		"jwt.v.expiry_formatted": "2026-03-01T13:00:00.000+0000",
	} {
		if got := x.Get(name); got != wantV {
			t.Errorf("%s = %#v, want %#v", name, got, wantV)
		}
	}
	if id, _ := x.GetString("jwt.v.claim.jti"); len(id) != 36 {
		t.Errorf("jti = %q, want a random UUID", id)
	}
}

func TestVerifyJWTFaults(t *testing.T) {
	c := newJWTClock(jwtT0)
	rs := genJWT(t, c, "RS256", "")
	hs := genJWT(t, c, "HS256", "")
	future := genJWT(t, c, "HS256", "<NotBefore>10m</NotBefore>")
	crit := genJWT(t, c, "HS256", `<CriticalHeaders>env</CriticalHeaders>`)
	parts := strings.Split(rs, ".")
	tampered := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))
	rsaPub := `<Algorithm>RS256</Algorithm><PublicKey><Value ref="pub"/></PublicKey>`
	hsKey := `<Algorithm>HS256</Algorithm><SecretKey><Value ref="private.secret"/></SecretKey>`
	tests := []struct {
		name, body, token string
		later             time.Duration
		code              string
		status            int
	}{
		{"bad signature", rsaPub, tampered, 0, "InvalidToken", 401},
		{"wrong key", `<Algorithm>HS256</Algorithm><SecretKey><Value>` + strings.Repeat("z", 32) + `</Value></SecretKey>`, hs, 0, "InvalidToken", 401},
		{"expired", rsaPub, rs, 2 * time.Hour, "TokenExpired", 401},
		{"expired within allowance is fine", rsaPub + `<TimeAllowance>2h</TimeAllowance>`, rs, 2*time.Hour - time.Minute, "", 0},
		{"not yet valid", hsKey, future, 0, "TokenNotYetValid", 401},
		{"not yet valid within allowance is fine", hsKey + `<TimeAllowance>600s</TimeAllowance>`, future, 0, "", 0},
		{"wrong issuer", rsaPub + `<Issuer>urn://other</Issuer>`, rs, 0, "JwtIssuerMismatch", 401},
		{"wrong audience", rsaPub + `<Audience>nope</Audience>`, rs, 0, "JwtAudienceMismatch", 401},
		{"wrong subject", rsaPub + `<Subject>bob</Subject>`, rs, 0, "JwtSubjectMismatch", 401},
		{"claim mismatch", rsaPub + `<AdditionalClaims><Claim name="scope">admin</Claim></AdditionalClaims>`, rs, 0, "InvalidClaim", 401},
		{"claim match in array", rsaPub + `<AdditionalClaims><Claim name="scope">write</Claim></AdditionalClaims>`, rs, 0, "", 0},
		{"missing token", rsaPub, "", 0, "FailedToResolveVariable", 401},
		{"not a JWT", rsaPub, "abc.def", 0, "FailedToDecode", 401},
		{"algorithm mismatch", `<Algorithm>RS256</Algorithm><PublicKey><Value ref="pub"/></PublicKey>`, hs, 0, "AlgorithmMismatch", 401},
		{"unparsable key", `<Algorithm>RS256</Algorithm><PublicKey><Value ref="badpub"/></PublicKey>`, rs, 0, "KeyParsingFailed", 401},
		{"no matching kid", `<Algorithm>RS256</Algorithm><PublicKey><JWKS ref="otherjwks"/></PublicKey>`, rs, 0, "NoMatchingPublicKey", 401},
		{"short secret", `<Algorithm>HS256</Algorithm><SecretKey><Value>short</Value></SecretKey>`, hs, 0, "InsufficientKeyLength", 401},
		{"unhandled crit", hsKey, crit, 0, "UnhandledCriticalHeader", 401},
		{"known crit", hsKey + `<KnownHeaders>env</KnownHeaders>`, crit, 0, "", 0},
		{"ignored crit", hsKey + `<IgnoreCriticalHeaders>true</IgnoreCriticalHeaders>`, crit, 0, "", 0},
	}
	vars := map[string]any{"pub": jwtKeyFor(t, "RS256").public, "badpub": "nope", "private.secret": jwtHSSecret,
		"otherjwks": testJWKS(t, jwtTestKeys(t)["P-256"])}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vc := newJWTClock(jwtT0.Add(tc.later))
			x, err := verifyJWT(t, jwtBC(vc), tc.body, tc.token, vars)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("Execute = %v, want success", err)
				}
				return
			}
			var f *Fault
			if !errors.As(err, &f) {
				t.Fatalf("Execute = %v, want fault %s", err, tc.code)
			}
			if f.Code != "steps.jwt."+tc.code || f.Status != tc.status || f.Name != tc.code {
				t.Errorf("fault = %s %s %d, want steps.jwt.%s %d", f.Name, f.Code, f.Status, tc.code, tc.status)
			}
			if !strings.HasSuffix(f.FaultString, "policy(v)") && tc.code != "FailedToResolveVariable" {
				t.Errorf("faultstring %q does not name the policy", f.FaultString)
			}
			if x.Get("jwt.v.valid") != false {
				t.Errorf("jwt.v.valid = %v, want false", x.Get("jwt.v.valid"))
			}
		})
	}
}

func TestJWKSFetchedOnceAndCachedByClock(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte(testJWKS(t, jwtTestKeys(t)["RSA"])))
	}))
	defer srv.Close()
	c := newJWTClock(jwtT0)
	tok := genJWT(t, c, "RS256", "")
	bc := jwtBC(c)
	bc.Options.Target.MapURL = append(bc.Options.Target.MapURL, struct{ From, To string }{"https://idp.example", srv.URL})
	pol := mustBuild(t, `<VerifyJWT name="v"><Algorithm>RS256</Algorithm><PublicKey><JWKS uri="https://idp.example/jwks"/></PublicKey></VerifyJWT>`, bc)
	run := func() {
		x := exchange.New()
		x.Request().Header.Set("Authorization", "Bearer "+tok)
		if err := execute(t, pol, x); err != nil {
			t.Fatalf("VerifyJWT: %v", err)
		}
	}
	run()
	run()
	if n := hits.Load(); n != 1 {
		t.Errorf("JWKS fetched %d times within the TTL, want 1", n)
	}
	c.Add(jose.DefaultJWKSTTL + time.Second)
	run()
	if n := hits.Load(); n != 2 {
		t.Errorf("JWKS fetched %d times after the TTL, want 2", n)
	}
}

func TestDecodeJWT(t *testing.T) {
	c := newJWTClock(jwtT0)
	tok := genJWT(t, c, "ES256", "")
	pol := mustBuild(t, `<DecodeJWT name="d"><Source>tok</Source></DecodeJWT>`, jwtBC(c))
	x := exchange.New()
	x.Set("tok", tok)
	if err := execute(t, pol, x); err != nil {
		t.Fatal(err)
	}
	for name, wantV := range map[string]any{
		"jwt.d.decoded.claim.sub": "ada", "jwt.d.decoded.header.alg": "ES256", "jwt.d.header.kid": "ec-P-256",
		"jwt.d.claim.issuedat": "1772366400",
	} {
		if got := x.Get(name); got != wantV {
			t.Errorf("%s = %#v, want %#v", name, got, wantV)
		}
	}
	x.Set("tok", "not a token")
	err := execute(t, pol, x)
	wantJOSEFault(t, err, "steps.jwt.FailedToDecode", "Failed to Decode Token: policy(d)", 401)
}

func TestJWTBuildProblems(t *testing.T) {
	tests := []struct{ name, xml, want string }{
		{"no algorithm", `<VerifyJWT name="v"><PublicKey><Value ref="k"/></PublicKey></VerifyJWT>`, "needs an <Algorithm>"},
		{"unknown algorithm", `<GenerateJWT name="g"><Algorithm>XX1</Algorithm></GenerateJWT>`, "unsupported algorithm"},
		{"HS without secret", `<VerifyJWT name="v"><Algorithm>HS256</Algorithm></VerifyJWT>`, "needs <SecretKey>"},
		{"RS without public key", `<VerifyJWT name="v"><Algorithm>RS256</Algorithm></VerifyJWT>`, "needs <PublicKey>"},
		{"mixed families", `<VerifyJWT name="v"><Algorithm>RS256,HS256</Algorithm></VerifyJWT>`, "different kinds of key"},
		{"bad ExpiresIn", `<GenerateJWT name="g"><Algorithm>HS256</Algorithm><SecretKey><Value ref="k"/></SecretKey><ExpiresIn>soon</ExpiresIn></GenerateJWT>`, "not a time span"},
		{"broken literal key", `<VerifyJWT name="v"><Algorithm>ES256</Algorithm><PublicKey><Value>-----BEGIN PUBLIC KEY-----
AAAA
-----END PUBLIC KEY-----</Value></PublicKey></VerifyJWT>`, "PublicKey/Value"},
		{"JWE", `<VerifyJWT name="v"><Algorithms><Key>RSA-OAEP</Key></Algorithms></VerifyJWT>`, "JWE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pol, probs := buildXML(t, tc.xml, nil)
			if pol != nil || !strings.Contains(probs.String(), tc.want) || !strings.Contains(probs.String(), "x.xml:") {
				t.Errorf("build = %v, problems %q, want nil and a positioned %q", pol, probs.String(), tc.want)
			}
		})
	}
}

func FuzzVerifyJWT(f *testing.F) {
	c := newJWTClock(jwtT0)
	f.Add("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln")
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJub25lIn0..")
	f.Add(`eyJjcml0IjpbMV19.e30.`)
	pol, probs := buildXML(f, `<VerifyJWT name="v"><Algorithm>HS256</Algorithm><SecretKey><Value>`+jwtHSSecret+`</Value></SecretKey><Source>t</Source></VerifyJWT>`, jwtBC(c))
	if pol == nil {
		f.Fatal(probs.String())
	}
	dec, _ := buildXML(f, `<DecodeJWT name="d"><Source>t</Source></DecodeJWT>`, jwtBC(c))
	f.Fuzz(func(t *testing.T, tok string) {
		x := exchange.New()
		x.Set("t", tok)
		for _, p := range []Policy{pol, dec} {
			if err := execute(t, p, x); err != nil {
				var fl *Fault
				if !errors.As(err, &fl) {
					t.Fatalf("Execute(%q) = %v, want a *Fault", tok, err)
				}
			}
		}
	})
}

func wantJOSEFault(t *testing.T, err error, code, faultString string, status int) *Fault {
	t.Helper()
	var f *Fault
	if !errors.As(err, &f) {
		t.Fatalf("Execute() = %v, want a *Fault %s", err, code)
	}
	if f.Code != code || f.FaultString != faultString || f.HTTPStatus() != status || f.Source != "policy" {
		t.Errorf("fault = {%s %q %d %q}, want {%s %q %d policy}", f.Code, f.FaultString, f.HTTPStatus(), f.Source, code, faultString, status)
	}
	return f
}

func BenchmarkVerifyJWT(b *testing.B) {
	for _, alg := range []string{"HS256", "RS256", "ES256"} {
		b.Run(alg, func(b *testing.B) {
			c := newJWTClock(jwtT0)
			tok := genJWT(b, c, alg, "")
			keyEl := `<PublicKey><Value ref="pub"/></PublicKey>`
			if alg[0] == 'H' {
				keyEl = `<SecretKey><Value ref="private.secret"/></SecretKey>`
			}
			pol := mustBuild(b, `<VerifyJWT name="v"><Algorithm>`+alg+`</Algorithm>`+keyEl+`<Issuer>urn://apigo</Issuer><Audience>api</Audience></VerifyJWT>`, jwtBC(c))
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					x := exchange.New()
					x.Set("pub", jwtKeyFor(b, alg).public)
					x.Set("private.secret", jwtHSSecret)
					x.Request().Header.Set("Authorization", "Bearer "+tok)
					if err := execute(b, pol, x); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
