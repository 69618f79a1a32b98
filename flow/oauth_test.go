package flow

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy"
)

// oauthProxies writes a token server proxy (/oauth) and a protected
// resource proxy (weather-v1 at /weather).
func oauthProxies(t *testing.T) (tokenDir, resourceDir string) {
	flows := func(fs ...[3]string) string {
		var b strings.Builder
		b.WriteString("<Flows>")
		for _, f := range fs {
			b.WriteString(`<Flow name="` + f[0] + `"><Condition>` + f[1] + `</Condition><Request><Step><Name>` + f[2] + `</Name></Step></Request></Flow>`)
		}
		b.WriteString("</Flows>")
		return b.String()
	}
	tokenDir = writeFiles(t, merge(faultNamePolicy, map[string]string{
		"apiproxy/oauth.xml": `<APIProxy name="oauth"/>`,
		"apiproxy/proxies/default.xml": proxyXML("default", "/oauth", faultNameRule+flows(
			[3]string{"token", `proxy.pathsuffix = "/token"`, "OA-Token"},
			[3]string{"authorize", `proxy.pathsuffix = "/authorize"`, "OA-Code"},
			[3]string{"refresh", `proxy.pathsuffix = "/refresh"`, "OA-Refresh"},
			[3]string{"revoke", `proxy.pathsuffix = "/revoke"`, "OA-Invalidate"},
			[3]string{"info", `proxy.pathsuffix = "/info"`, "GI-Token"},
			[3]string{"tag", `proxy.pathsuffix = "/tag"`, "SI-Token"},
			[3]string{"revoke-app", `proxy.pathsuffix = "/revoke-app"`, "RO-App"},
		)+`<PostFlow><Response><Step><Name>AM-Info</Name><Condition>proxy.pathsuffix = "/info"</Condition></Step></Response></PostFlow><RouteRule name="none"/>`),
		"apiproxy/policies/OA-Token.xml": `<OAuthV2 name="OA-Token"><Operation>GenerateAccessToken</Operation>
		  <ExpiresIn>60000</ExpiresIn><RefreshTokenExpiresIn>600000</RefreshTokenExpiresIn>
		  <SupportedGrantTypes><GrantType>client_credentials</GrantType><GrantType>password</GrantType><GrantType>authorization_code</GrantType></SupportedGrantTypes>
		  <GrantType>request.formparam.grant_type</GrantType>
		  <Attributes><Attribute name="channel" ref="request.header.x-channel" display="true">web</Attribute><Attribute name="hidden" display="false">h</Attribute></Attributes>
		  <GenerateResponse enabled="true"/></OAuthV2>`,
		"apiproxy/policies/OA-Code.xml": `<OAuthV2 name="OA-Code"><Operation>GenerateAuthorizationCode</Operation><GenerateResponse enabled="true"/></OAuthV2>`,
		"apiproxy/policies/OA-Refresh.xml": `<OAuthV2 name="OA-Refresh"><Operation>RefreshAccessToken</Operation>
		  <GrantType>request.formparam.grant_type</GrantType><ExpiresIn>60000</ExpiresIn><GenerateResponse enabled="true"/></OAuthV2>`,
		"apiproxy/policies/OA-Invalidate.xml": `<OAuthV2 name="OA-Invalidate"><Operation>InvalidateToken</Operation>
		  <Tokens><Token type="accesstoken" cascade="true">request.formparam.token</Token></Tokens></OAuthV2>`,
		"apiproxy/policies/GI-Token.xml": `<GetOAuthV2Info name="GI-Token"><AccessToken ref="request.formparam.token"/></GetOAuthV2Info>`,
		"apiproxy/policies/SI-Token.xml": `<SetOAuthV2Info name="SI-Token"><AccessToken ref="request.formparam.token"/>
		  <Attributes><Attribute name="channel" ref="request.formparam.channel"/></Attributes></SetOAuthV2Info>`,
		"apiproxy/policies/RO-App.xml": `<RevokeOAuthV2 name="RO-App"><AppId ref="request.formparam.app_id"/></RevokeOAuthV2>`,
		"apiproxy/policies/AM-Info.xml": `<AssignMessage name="AM-Info"><AssignTo createNew="false" type="response"/>
		  <Set><Payload contentType="text/plain">{oauthv2accesstoken.GI-Token.developer.app.name} {oauthv2accesstoken.GI-Token.scope} {oauthv2accesstoken.GI-Token.expires_in}</Payload></Set></AssignMessage>`,
	}))
	resourceDir = writeFiles(t, merge(faultNamePolicy, map[string]string{
		"apiproxy/weather-v1.xml": `<APIProxy name="weather-v1"/>`,
		"apiproxy/proxies/default.xml": proxyXML("default", "/weather", faultNameRule+`<PreFlow><Request>
			<Step><Name>OA-Verify</Name><Condition>request.verb = "GET"</Condition></Step>
			<Step><Name>OA-VerifyWrite</Name><Condition>request.verb = "POST"</Condition></Step>
			</Request><Response><Step><Name>AM-OK</Name></Step></Response></PreFlow><RouteRule name="none"/>`),
		"apiproxy/policies/OA-Verify.xml":      `<OAuthV2 name="OA-Verify"><Operation>VerifyAccessToken</Operation></OAuthV2>`,
		"apiproxy/policies/OA-VerifyWrite.xml": `<OAuthV2 name="OA-VerifyWrite"><Operation>VerifyAccessToken</Operation><Scope>write admin</Scope></OAuthV2>`,
		"apiproxy/policies/AM-OK.xml": `<AssignMessage name="AM-OK"><AssignTo createNew="false" type="response"/>
		  <Set><Payload contentType="text/plain">{developer.app.name} {apiproduct.name} {scope} {accesstoken.channel}</Payload></Set></AssignMessage>`,
	}))
	return tokenDir, resourceDir
}

type fakeClock struct{ ms atomic.Int64 }

func (c *fakeClock) now() time.Time          { return time.UnixMilli(c.ms.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ms.Add(d.Milliseconds()) }

func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

func form(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v.Encode()
}

const formType = "application/x-www-form-urlencoded"

func TestOAuthV2(t *testing.T) {
	clock := &fakeClock{}
	clock.ms.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
	tokenDir, resourceDir := oauthProxies(t)
	_, srv := startEngine(t, Options{Env: "test", Data: securityData(t), Policy: policy.Options{Now: clock.now}}, tokenDir, resourceDir)

	token := func(t *testing.T, auth, body string, hdr ...string) (int, string, map[string]any) {
		t.Helper()
		status, h, b := do(t, "POST", srv.URL+"/oauth/token", body, append([]string{"Content-Type", formType, "Authorization", auth}, hdr...)...)
		var m map[string]any
		_ = json.Unmarshal([]byte(b), &m)
		return status, h.Get("X-Fault-Name") + "|" + b, m
	}
	get := func(t *testing.T, method, path, tok string) (int, string, string) {
		t.Helper()
		status, h, b := do(t, method, srv.URL+path, "", "Authorization", tok)
		return status, h.Get("X-Fault-Name"), b
	}

	t.Run("client credentials token and protected resource", func(t *testing.T) {
		status, raw, m := token(t, basic("good-key", "good-secret"), form("grant_type", "client_credentials"), "X-Channel", "mobile")
		if status != 200 || m["token_type"] != "BearerToken" || m["expires_in"] != "60" || m["client_id"] != "good-key" ||
			m["scope"] != "read write" || m["channel"] != "mobile" || m["hidden"] != nil || m["refresh_token"] != nil ||
			m["api_product_list"] != "[weather]" || m["developer.email"] != "ada@example.com" {
			t.Fatalf("token response = %d %s", status, raw)
		}
		at := m["access_token"].(string)
		if len(at) != 28 {
			t.Errorf("access token %q has %d characters, want 28", at, len(at))
		}
		status, fault, body := get(t, "GET", "/weather/forecasts", "Bearer "+at)
		if status != 200 || body != "good-app weather read write mobile" {
			t.Errorf("GET with the token = %d %q %s, want 200 and the token's variables", status, fault, body)
		}
		status, fault, body = get(t, "POST", "/weather/forecasts", "Bearer "+at)
		if status != 200 {
			t.Errorf("POST needing scope write = %d %q %s, want 200", status, fault, body)
		}
		clock.advance(61 * time.Second)
		status, fault, body = get(t, "GET", "/weather/forecasts", "Bearer "+at)
		if want := `{"fault":{"faultstring":"Access Token expired","detail":{"errorcode":"keymanagement.service.access_token_expired"}}}`; status != 401 || fault != "access_token_expired" || body != want {
			t.Errorf("expired token = %d %q %s, want 401 access_token_expired %s", status, fault, body, want)
		}
	})

	t.Run("token endpoint faults", func(t *testing.T) {
		cases := []struct {
			name, auth, body string
			status           int
			want             string
		}{
			{"no grant type", basic("good-key", "good-secret"), form("x", "y"), 400,
				`invalid_request|{"ErrorCode" : "invalid_request", "Error" :"Required param : grant_type"}`},
			{"unsupported grant", basic("good-key", "good-secret"), form("grant_type", "implicit"), 400,
				`unsupported_grant_type|{"ErrorCode" : "unsupported_grant_type", "Error" :"Unsupported grant type : implicit"}`},
			{"unknown client", basic("nobody", "x"), form("grant_type", "client_credentials"), 401,
				`invalid_client|{"ErrorCode" : "invalid_client", "Error" :"ClientId is Invalid"}`},
			{"wrong secret", basic("good-key", "bad"), form("grant_type", "client_credentials"), 401,
				`invalid_client|{"ErrorCode" : "invalid_client", "Error" :"ClientId is Invalid"}`},
			{"revoked app", basic("revoked-key", "s"), form("grant_type", "client_credentials"), 401,
				`invalid_client-app_not_approved|{"ErrorCode" : "invalid_client", "Error" :"Application is not approved"}`},
			{"scope not offered", basic("good-key", "good-secret"), form("grant_type", "client_credentials", "scope", "admin"), 400,
				`invalid_scope|{"ErrorCode" : "invalid_scope", "Error" :"Invalid Scope"}`},
			{"password without user", basic("good-key", "good-secret"), form("grant_type", "password", "password", "p"), 400,
				`invalid_request|{"ErrorCode" : "invalid_request", "Error" :"Required param : username"}`},
			{"unknown code", basic("good-key", "good-secret"), form("grant_type", "authorization_code", "code", "nope"), 400,
				`invalid_request-authorization_code_invalid|{"ErrorCode" : "invalid_request", "Error" :"Invalid Authorization Code"}`},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				status, raw, _ := token(t, c.auth, c.body)
				if status != c.status || raw != c.want {
					t.Errorf("POST /token %s = %d %s, want %d %s", c.body, status, raw, c.status, c.want)
				}
			})
		}
	})

	t.Run("verify faults", func(t *testing.T) {
		_, _, m := token(t, basic("narrow-key", "narrow-secret"), form("grant_type", "client_credentials"))
		narrow, _ := m["access_token"].(string)
		cases := []struct {
			name, method, path, auth string
			status                   int
			fault, body              string
		}{
			{"no header", "GET", "/weather/forecasts", "", 401, "InvalidAccessToken",
				`{"fault":{"faultstring":"Invalid access token","detail":{"errorcode":"oauth.v2.InvalidAccessToken"}}}`},
			{"not bearer", "GET", "/weather/forecasts", "Basic abc", 401, "InvalidAccessToken",
				`{"fault":{"faultstring":"Invalid access token","detail":{"errorcode":"oauth.v2.InvalidAccessToken"}}}`},
			{"unknown token", "GET", "/weather/forecasts", "Bearer nope", 401, "invalid_access_token",
				`{"fault":{"faultstring":"Invalid Access Token","detail":{"errorcode":"keymanagement.service.invalid_access_token"}}}`},
			{"no product for the path", "GET", "/weather/alerts", "Bearer " + narrow, 401, "InvalidAPICallAsNoApiProductMatchFound",
				`{"fault":{"faultstring":"Invalid API call as no apiproduct match found","detail":{"errorcode":"keymanagement.service.InvalidAPICallAsNoApiProductMatchFound"}}}`},
			{"wrong scope", "POST", "/weather/forecasts/x", "Bearer " + narrow, 403, "InsufficientScope",
				`{"fault":{"faultstring":"Required scope(s) : write admin","detail":{"errorcode":"steps.oauth.v2.InsufficientScope"}}}`},
			{"narrow token on its path", "GET", "/weather/forecasts/x", "Bearer " + narrow, 200, "", "narrow-app weather-forecasts read web"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				status, fault, body := get(t, c.method, c.path, c.auth)
				if status != c.status || fault != c.fault || body != c.body {
					t.Errorf("%s %s = %d %q %s, want %d %q %s", c.method, c.path, status, fault, body, c.status, c.fault, c.body)
				}
			})
		}
	})

	t.Run("authorization code, refresh, invalidate", func(t *testing.T) {
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := noFollow.Get(srv.URL + "/oauth/authorize?client_id=good-key&response_type=code&state=xyz&scope=read")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		status, h := resp.StatusCode, resp.Header
		loc, err := url.Parse(h.Get("Location"))
		if status != 302 || err != nil || loc.Host != "app.example" || loc.Query().Get("state") != "xyz" || len(loc.Query().Get("code")) != 8 {
			t.Fatalf("authorize = %d Location %q, want 302 to the callback with code and state", status, h.Get("Location"))
		}
		code := loc.Query().Get("code")
		status, raw, m := token(t, basic("good-key", "good-secret"), form("grant_type", "authorization_code", "code", code, "redirect_uri", "https://app.example/cb"))
		if status != 200 || m["scope"] != "read" || m["refresh_token"] == nil || m["refresh_token_expires_in"] != "600" {
			t.Fatalf("code exchange = %d %s", status, raw)
		}
		if status, raw, _ := token(t, basic("good-key", "good-secret"), form("grant_type", "authorization_code", "code", code)); status != 400 {
			t.Errorf("second use of a code = %d %s, want 400", status, raw)
		}
		first := m["access_token"].(string)
		rt := m["refresh_token"].(string)
		status, rh, rb := do(t, "POST", srv.URL+"/oauth/refresh", form("grant_type", "refresh_token", "refresh_token", rt), "Content-Type", formType)
		var r map[string]any
		_ = json.Unmarshal([]byte(rb), &r)
		if status != 200 || r["access_token"] == first || r["refresh_count"] != "1" {
			t.Fatalf("refresh = %d %q %s", status, rh.Get("X-Fault-Name"), rb)
		}
		if status, fault, _ := get(t, "GET", "/weather/forecasts", "Bearer "+first); status != 401 || fault != "access_token_not_approved" {
			t.Errorf("the refreshed-away token = %d %q, want 401 access_token_not_approved", status, fault)
		}
		second := r["access_token"].(string)
		status, _, body := do(t, "POST", srv.URL+"/oauth/info", form("token", second), "Content-Type", formType)
		if status != 200 || body != "good-app read 60" {
			t.Errorf("GetOAuthV2Info = %d %s, want the token's app, scope and lifetime", status, body)
		}
		if status, _, body := do(t, "POST", srv.URL+"/oauth/tag", form("token", second, "channel", "kiosk"), "Content-Type", formType); status != 200 {
			t.Errorf("SetOAuthV2Info = %d %s", status, body)
		}
		if status, _, body := get(t, "GET", "/weather/forecasts", "Bearer "+second); status != 200 || body != "good-app weather read kiosk" {
			t.Errorf("after SetOAuthV2Info = %d %s, want channel kiosk", status, body)
		}
		if status, _, body := do(t, "POST", srv.URL+"/oauth/revoke", form("token", second), "Content-Type", formType); status != 200 {
			t.Fatalf("InvalidateToken = %d %s", status, body)
		}
		if status, fault, _ := get(t, "GET", "/weather/forecasts", "Bearer "+second); status != 401 || fault != "access_token_not_approved" {
			t.Errorf("invalidated token = %d %q, want 401 access_token_not_approved", status, fault)
		}
		status, _, b := do(t, "POST", srv.URL+"/oauth/refresh", form("grant_type", "refresh_token", "refresh_token", r["refresh_token"].(string)), "Content-Type", formType)
		if status != 400 || !strings.Contains(b, "Invalid Refresh Token") {
			t.Errorf("refresh with a cascaded-invalid refresh token = %d %s, want 400 Invalid Refresh Token", status, b)
		}
	})

	t.Run("RevokeOAuthV2 by app", func(t *testing.T) {
		_, _, m := token(t, basic("good-key", "good-secret"), form("grant_type", "client_credentials"))
		at := m["access_token"].(string)
		appID := m["application_name"].(string)
		if status, _, b := do(t, "POST", srv.URL+"/oauth/revoke-app", form("app_id", appID), "Content-Type", formType); status != 200 {
			t.Fatalf("RevokeOAuthV2 = %d %s", status, b)
		}
		if status, fault, _ := get(t, "GET", "/weather/forecasts", "Bearer "+at); status != 401 || fault != "access_token_not_approved" {
			t.Errorf("token of a revoked app = %d %q, want 401 access_token_not_approved", status, fault)
		}
		clock.advance(time.Second)
		_, _, m = token(t, basic("good-key", "good-secret"), form("grant_type", "client_credentials"))
		if status, fault, body := get(t, "GET", "/weather/forecasts", "Bearer "+m["access_token"].(string)); status != 200 {
			t.Errorf("token issued after the revocation = %d %q %s, want 200", status, fault, body)
		}
	})
}

// TestOAuthExample runs the README's client-credentials example
// (testdata/oauth) end to end: a token from the token endpoint opens the
// protected resource, within the scopes of the app's product.
func TestOAuthExample(t *testing.T) {
	data, ps := bundle.LoadData([]string{"../testdata/oauth/data"})
	if ps.HasErrors() {
		t.Fatalf("example data:\n%s", ps.String())
	}
	_, srv := startEngine(t, Options{Data: data}, "../testdata/oauth")
	tokenFor := func(t *testing.T, key, secret string) string {
		t.Helper()
		status, _, body := do(t, "POST", srv.URL+"/oauth/token", "grant_type=client_credentials",
			"Content-Type", formType, "Authorization", basic(key, secret))
		var m struct {
			AccessToken string `json:"access_token"`
		}
		if status != 200 || json.Unmarshal([]byte(body), &m) != nil || m.AccessToken == "" {
			t.Fatalf("token for %s = %d %s", key, status, body)
		}
		return m.AccessToken
	}
	reader := tokenFor(t, "reader-key-0123456789abcdef012345", "reader-secret-01")
	editor := tokenFor(t, "editor-key-0123456789abcdef012345", "editor-secret-01")
	cases := []struct {
		name, method, token string
		status              int
		fault, body         string
	}{
		{"reader reads", "GET", reader, 200, "",
			`{"forecast":"sunny","app":"reader-app","product":"forecasts-read","scope":"read","channel":"api"}`},
		{"reader cannot write", "POST", reader, 403, "InsufficientScope",
			`{"fault":{"faultstring":"Required scope(s) : write","detail":{"errorcode":"steps.oauth.v2.InsufficientScope"}}}`},
		{"editor writes", "POST", editor, 200, "",
			`{"forecast":"sunny","app":"editor-app","product":"forecasts-full","scope":"read write","channel":"api"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, h, body := do(t, c.method, srv.URL+"/oauth/forecasts/paris", "", "Authorization", "Bearer "+c.token)
			if status != c.status || h.Get("X-Fault-Name") != c.fault || body != c.body {
				t.Errorf("%s /forecasts/paris = %d %q %s, want %d %q %s", c.method, status, h.Get("X-Fault-Name"), body, c.status, c.fault, c.body)
			}
		})
	}
}

// TestOAuthSecretsNotTraced: the policies set client secrets and tokens
// without recording them, so trace events never hold them. (The trace's
// request and response summaries are the engine's to mask.)
func TestOAuthSecretsNotTraced(t *testing.T) {
	tokenDir, resourceDir := oauthProxies(t)
	var mu sync.Mutex
	var traces []*Trace
	_, srv := startEngine(t, Options{Env: "test", Data: securityData(t), Trace: func(tr *Trace) {
		mu.Lock()
		traces = append(traces, tr)
		mu.Unlock()
	}}, tokenDir, resourceDir)
	_, _, body := do(t, "POST", srv.URL+"/oauth/token", "grant_type=client_credentials", "Content-Type", formType, "Authorization", basic("good-key", "good-secret"))
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("token body %s: %v", body, err)
	}
	at := m["access_token"].(string)
	if status, _, b := do(t, "GET", srv.URL+"/weather/forecasts/x", "", "Authorization", "Bearer "+at); status != 200 {
		t.Fatalf("GET = %d %s", status, b)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(traces) != 2 {
		t.Fatalf("got %d traces, want 2", len(traces))
	}
	for _, tr := range traces {
		ev, _ := json.Marshal(tr.Events)
		if !strings.Contains(string(ev), `"good-key"`) {
			t.Errorf("trace events of %s do not show client_id being set: %s", tr.Request.URI, ev)
		}
		for _, secret := range []string{"good-secret", at} {
			if strings.Contains(string(ev), secret) {
				t.Errorf("trace events of %s hold a secret %q: %s", tr.Request.URI, secret, ev)
			}
		}
	}
}
