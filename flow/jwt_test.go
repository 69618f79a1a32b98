package flow

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gojose "github.com/go-jose/go-jose/v4"

	"github.com/apigo/apigo/policy"
	"github.com/apigo/apigo/policy/jose"
)

const jwtSecret = "an-hs256-secret-of-32-bytes-or-more!"

// jwtFiles is a proxy under /jwt: /token issues an HS256 JWT, /hs/** and
// /rs/** verify one (HS256 with a secret; RS256 against a JWKS by URL),
// /hmac checks a request signature, /jws verifies a detached JWS.
func jwtFiles(target string) map[string]string {
	flow := func(name, cond, steps string) string {
		return `<Flow name="` + name + `"><Condition>` + cond + `</Condition><Request>` + steps + `</Request></Flow>`
	}
	step := func(names ...string) string {
		s := ""
		for _, n := range names {
			s += `<Step><Name>` + n + `</Name></Step>`
		}
		return s
	}
	return map[string]string{
		"apiproxy/proxies/default.xml": proxyXML("default", "/jwt", `<Flows>`+
			flow("token", `proxy.pathsuffix = "/token"`, step("AM-Secret", "GJ-Issue", "AM-Token"))+
			flow("hs", `proxy.pathsuffix MatchesPath "/hs/**"`, step("AM-Secret", "VJ-HS"))+
			flow("rs", `proxy.pathsuffix MatchesPath "/rs/**"`, step("VJ-RS", "AM-Claims"))+
			flow("hmac", `proxy.pathsuffix = "/hmac"`, step("AM-Secret", "HMAC-Check"))+
			flow("jws", `proxy.pathsuffix = "/jws"`, step("AM-Secret", "VJWS"))+
			`</Flows><RouteRule name="none"><Condition>proxy.pathsuffix = "/token"</Condition></RouteRule>
			<RouteRule name="default"><TargetEndpoint>default</TargetEndpoint></RouteRule>`),
		"apiproxy/targets/default.xml": targetXML("default", target, ""),
		"apiproxy/policies/AM-Secret.xml": `<AssignMessage name="AM-Secret"><AssignVariable><Name>private.secret</Name><Value>` +
			jwtSecret + `</Value></AssignVariable></AssignMessage>`,
		"apiproxy/policies/GJ-Issue.xml": `<GenerateJWT name="GJ-Issue"><Algorithm>HS256</Algorithm>
			<SecretKey><Value ref="private.secret"/><Id>k1</Id></SecretKey>
			<Subject ref="request.queryparam.sub"/><Issuer>urn://apigo</Issuer><Audience>orders</Audience>
			<ExpiresIn>30m</ExpiresIn><Id/>
			<AdditionalClaims><Claim name="scope" ref="request.queryparam.scope"/></AdditionalClaims></GenerateJWT>`,
		"apiproxy/policies/AM-Token.xml": `<AssignMessage name="AM-Token"><Set><Payload contentType="application/json">{"access_token":"{jwt.GJ-Issue.generated_jwt}"}</Payload></Set><AssignTo createNew="false" type="response"/></AssignMessage>`,
		"apiproxy/policies/VJ-HS.xml": `<VerifyJWT name="VJ-HS"><Algorithm>HS256</Algorithm>
			<SecretKey><Value ref="private.secret"/></SecretKey>
			<Issuer>urn://apigo</Issuer><Audience>orders</Audience>
			<AdditionalClaims><Claim name="scope">read</Claim></AdditionalClaims></VerifyJWT>`,
		"apiproxy/policies/VJ-RS.xml": `<VerifyJWT name="VJ-RS"><Algorithm>RS256</Algorithm>
			<PublicKey><JWKS uri="https://idp.example.com/.well-known/jwks.json"/></PublicKey>
			<Issuer>https://idp.example.com</Issuer><Audience>orders</Audience><TimeAllowance>60s</TimeAllowance></VerifyJWT>`,
		"apiproxy/policies/AM-Claims.xml": `<AssignMessage name="AM-Claims"><Set><Headers><Header name="X-Sub">{jwt.VJ-RS.claim.subject}</Header></Headers></Set></AssignMessage>`,
		"apiproxy/policies/HMAC-Check.xml": `<HMAC name="HMAC-Check"><Algorithm>SHA-256</Algorithm><SecretKey ref="private.secret"/>
			<Message>{request.verb}:{request.content}</Message>
			<VerificationValue encoding="base16">{request.header.x-signature}</VerificationValue></HMAC>`,
		"apiproxy/policies/VJWS.xml": `<VerifyJWS name="VJWS"><Algorithm>HS256</Algorithm><Source>request.header.x-jws</Source>
			<SecretKey><Value ref="private.secret"/></SecretKey><DetachedContent>request.content</DetachedContent></VerifyJWS>`,
	}
}

type jwtEnv struct {
	url       string
	now       atomic.Int64
	key       *rsa.PrivateKey
	jwksCalls atomic.Int32
}

func (e *jwtEnv) clock() time.Time        { return time.Unix(e.now.Load(), 0) }
func (e *jwtEnv) advance(d time.Duration) { e.now.Add(int64(d / time.Second)) }

func startJWT(t *testing.T) *jwtEnv {
	t.Helper()
	env := &jwtEnv{}
	env.now.Store(time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC).Unix())
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	env.key = k
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		env.jwksCalls.Add(1)
		set := gojose.JSONWebKeySet{Keys: []gojose.JSONWebKey{{Key: &k.PublicKey, KeyID: "idp-1", Algorithm: "RS256", Use: "sig"}}}
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(idp.Close)
	dir := writeFiles(t, jwtFiles(backend(t).URL))
	opts := Options{MapURL: []URLMap{{From: "https://idp.example.com", To: idp.URL}}}
	opts.Policy = policy.Options{Now: env.clock}
	_, srv := startEngine(t, opts, dir)
	env.url = srv.URL + "/jwt"
	return env
}

// rsToken signs claims (iat, exp relative to the clock) with the IdP key.
func (e *jwtEnv) rsToken(t *testing.T, kid string, claims map[string]any) string {
	t.Helper()
	now := e.clock().Unix()
	all := map[string]any{"iss": "https://idp.example.com", "aud": "orders", "sub": "ada", "iat": now, "exp": now + 300}
	for k, v := range claims {
		if v == nil {
			delete(all, k)
			continue
		}
		all[k] = v
	}
	payload, _ := json.Marshal(all)
	a, _ := jose.LookupAlgorithm("RS256")
	tok, err := jose.Sign(a, e.key, payload, jose.SignOptions{Headers: map[string]any{"kid": kid, "typ": "JWT"}})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestJWTIssueAndVerifyOverHTTP(t *testing.T) {
	env := startJWT(t)
	status, _, body := do(t, "GET", env.url+"/token?sub=ada&scope=read", "")
	var issued struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(body), &issued); status != 200 || err != nil || issued.AccessToken == "" {
		t.Fatalf("GET /token = %d %q, want 200 with an access_token", status, body)
	}
	if status, _, body := do(t, "GET", env.url+"/hs/orders", "", "Authorization", "Bearer "+issued.AccessToken); status != 200 || !strings.HasPrefix(body, "backend GET") {
		t.Errorf("GET /hs/orders with the issued token = %d %q, want 200 from the backend", status, body)
	}
	_, _, body = do(t, "GET", env.url+"/token?sub=ada&scope=write", "")
	_ = json.Unmarshal([]byte(body), &issued)
	wantJWTFault(t, env, "/hs/orders", issued.AccessToken, 401, "steps.jwt.InvalidClaim")
	_, _, body = do(t, "GET", env.url+"/token?sub=ada&scope=read", "")
	_ = json.Unmarshal([]byte(body), &issued)
	env.advance(31 * time.Minute)
	wantJWTFault(t, env, "/hs/orders", issued.AccessToken, 401, "steps.jwt.TokenExpired")
}

func TestVerifyJWTFaultsOverHTTP(t *testing.T) {
	env := startJWT(t)
	good := env.rsToken(t, "idp-1", nil)
	parts := strings.Split(good, ".")
	tests := []struct {
		name, token string
		status      int
		code        string
	}{
		{"valid", good, 200, ""},
		{"bad signature", parts[0] + "." + parts[1] + "." + strings.Repeat("Q", len(parts[2])), 401, "steps.jwt.InvalidToken"},
		{"expired", env.rsToken(t, "idp-1", map[string]any{"exp": env.clock().Unix() - 120}), 401, "steps.jwt.TokenExpired"},
		{"expired inside the allowance", env.rsToken(t, "idp-1", map[string]any{"exp": env.clock().Unix() - 30}), 200, ""},
		{"not yet valid", env.rsToken(t, "idp-1", map[string]any{"nbf": env.clock().Unix() + 600}), 401, "steps.jwt.TokenNotYetValid"},
		{"wrong audience", env.rsToken(t, "idp-1", map[string]any{"aud": []string{"billing"}}), 401, "steps.jwt.JwtAudienceMismatch"},
		{"wrong issuer", env.rsToken(t, "idp-1", map[string]any{"iss": "https://evil.example"}), 401, "steps.jwt.JwtIssuerMismatch"},
		{"unknown kid", env.rsToken(t, "idp-2", nil), 401, "steps.jwt.NoMatchingPublicKey"},
		{"missing token", "", 401, "steps.jwt.FailedToResolveVariable"},
		{"garbage token", "not.a.jwt", 401, "steps.jwt.FailedToDecode"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.code == "" {
				status, hdr, body := do(t, "GET", env.url+"/rs/orders", "", "Authorization", "Bearer "+tc.token)
				if status != 200 || hdr.Get("X-Backend-Path") == "" {
					t.Errorf("GET /rs/orders = %d %q, want 200 from the backend", status, body)
				}
				return
			}
			wantJWTFault(t, env, "/rs/orders", tc.token, tc.status, tc.code)
		})
	}
	if n := env.jwksCalls.Load(); n != 1 {
		t.Errorf("JWKS fetched %d times, want 1 (cached)", n)
	}
}

func wantJWTFault(t *testing.T, env *jwtEnv, path, token string, status int, code string) {
	t.Helper()
	hdr := []string{"", ""}
	if token != "" {
		hdr = []string{"Authorization", "Bearer " + token}
	}
	got, _, body := do(t, "GET", env.url+path, "", hdr...)
	fs, ec := faultOf(t, body)
	if got != status || ec != code {
		t.Errorf("GET %s = %d %s (%q), want %d %s", path, got, ec, fs, status, code)
	}
	if token != "" && strings.Contains(body, token) {
		t.Errorf("fault body %q echoes the token", body)
	}
}

func TestHMACAndJWSOverHTTP(t *testing.T) {
	env := startJWT(t)
	m := hmac.New(sha256.New, []byte(jwtSecret))
	m.Write([]byte("POST:hello"))
	sig := hex.EncodeToString(m.Sum(nil))
	if status, _, body := do(t, "POST", env.url+"/hmac", "hello", "X-Signature", sig); status != 200 {
		t.Errorf("POST /hmac with a good signature = %d %q, want 200", status, body)
	}
	status, _, body := do(t, "POST", env.url+"/hmac", "hello!", "X-Signature", sig)
	if _, ec := faultOf(t, body); status != 401 || ec != "steps.hmac.HmacVerificationFailed" {
		t.Errorf("POST /hmac with a bad signature = %d %s, want 401 steps.hmac.HmacVerificationFailed", status, ec)
	}

	a, _ := jose.LookupAlgorithm("HS256")
	jws, err := jose.Sign(a, []byte(jwtSecret), []byte(`{"order":7}`), jose.SignOptions{Detached: true})
	if err != nil {
		t.Fatal(err)
	}
	if status, _, body := do(t, "POST", env.url+"/jws", `{"order":7}`, "X-JWS", jws); status != 200 {
		t.Errorf("POST /jws with its content = %d %q, want 200", status, body)
	}
	status, _, body = do(t, "POST", env.url+"/jws", `{"order":8}`, "X-JWS", jws)
	if _, ec := faultOf(t, body); status != 401 || ec != "steps.jws.InvalidToken" {
		t.Errorf("POST /jws with other content = %d %s, want 401 steps.jws.InvalidToken", status, ec)
	}
}
