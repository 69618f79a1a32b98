package flow

import (
	"encoding/json"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/apiproduct"
)

// securityData writes the emulator-format test data shared by the API key
// and OAuth tests and loads it.
func securityData(t *testing.T) *bundle.Data {
	t.Helper()
	dir := writeFiles(t, map[string]string{
		"data/products.json": `[
		  {"name": "weather", "approvalType": "auto", "proxies": ["weather-v1"], "environments": ["test"],
		   "apiResources": ["/forecasts/**", "/"], "scopes": ["read", "write"],
		   "quota": "100", "quotaInterval": "1", "quotaTimeUnit": "minute",
		   "attributes": [{"name": "access", "value": "public"}]},
		  {"name": "weather-forecasts", "proxies": ["weather-v1"], "apiResources": ["/forecasts/**"], "scopes": ["read"]},
		  {"name": "prod-only", "proxies": ["weather-v1"], "environments": ["prod"]}
		]`,
		"data/developers.json": `[
		  {"email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace", "userName": "ada",
		   "attributes": [{"name": "team", "value": "analytics"}]},
		  {"email": "bob@example.com", "firstName": "Bob", "lastName": "Inactive", "userName": "bob"}
		]`,
		"data/developerapps.json": `[
		  {"name": "good-app", "developerEmail": "ada@example.com", "callbackUrl": "https://app.example/cb",
		   "attributes": [{"name": "tier", "value": "gold"}],
		   "credentials": [{"consumerKey": "good-key", "consumerSecret": "good-secret",
		                    "apiProducts": [{"apiproduct": "weather", "status": "approved"}]}]},
		  {"name": "narrow-app", "developerEmail": "ada@example.com",
		   "credentials": [{"consumerKey": "narrow-key", "consumerSecret": "narrow-secret", "apiProducts": ["weather-forecasts"]}]},
		  {"name": "revoked-app", "developerEmail": "ada@example.com", "status": "revoked",
		   "credentials": [{"consumerKey": "revoked-key", "consumerSecret": "s", "apiProducts": ["weather"]}]},
		  {"name": "old-app", "developerEmail": "ada@example.com",
		   "credentials": [{"consumerKey": "expired-key", "consumerSecret": "s", "expiresAt": 1000, "apiProducts": ["weather"]}]},
		  {"name": "pending-app", "developerEmail": "ada@example.com",
		   "credentials": [{"consumerKey": "pending-key", "consumerSecret": "s", "apiProducts": [{"apiproduct": "weather", "status": "pending"}]}]},
		  {"name": "prod-app", "developerEmail": "ada@example.com",
		   "credentials": [{"consumerKey": "prod-key", "consumerSecret": "s", "apiProducts": ["prod-only"]}]},
		  {"name": "bob-app", "developerEmail": "bob@example.com",
		   "credentials": [{"consumerKey": "bob-key", "consumerSecret": "bob-secret", "apiProducts": ["weather"]}]},
		  {"name": "generated-app", "developerEmail": "ada@example.com", "apiProducts": ["weather"]}
		]`,
	})
	data, ps := bundle.LoadData([]string{filepath.Join(dir, "data")})
	if ps.HasErrors() {
		t.Fatalf("test data problems:\n%s", ps.String())
	}
	// developers.json has no status field in the emulator's format; the
	// registry is shared per *bundle.Data, so this reaches the policies.
	apiproduct.For(data).Developer("bob@example.com").Status = "inactive"
	return data
}

// faultNameRule copies fault.name into a response header on every fault.
const faultNameRule = `<DefaultFaultRule name="dfr"><AlwaysEnforce>true</AlwaysEnforce><Step><Name>AM-FaultName</Name></Step></DefaultFaultRule>`

var faultNamePolicy = map[string]string{
	"apiproxy/policies/AM-FaultName.xml": `<AssignMessage name="AM-FaultName"><AssignTo createNew="false" type="response"/>
	  <Set><Headers><Header name="X-Fault-Name">{fault.name}</Header></Headers></Set></AssignMessage>`,
}

func TestVerifyAPIKey(t *testing.T) {
	data := securityData(t)
	dir := writeFiles(t, merge(faultNamePolicy, map[string]string{
		"apiproxy/weather-v1.xml": `<APIProxy name="weather-v1"/>`,
		"apiproxy/proxies/default.xml": proxyXML("default", "/weather",
			faultNameRule+`<PreFlow><Request><Step><Name>VA-1</Name></Step></Request>
			<Response><Step><Name>AM-OK</Name></Step></Response></PreFlow><RouteRule name="none"/>`),
		"apiproxy/policies/VA-1.xml": `<VerifyAPIKey name="VA-1"><APIKey ref="request.queryparam.apikey"/></VerifyAPIKey>`,
		"apiproxy/policies/AM-OK.xml": `<AssignMessage name="AM-OK"><AssignTo createNew="false" type="response"/>
		  <Set><Payload contentType="application/json">{"email":"{verifyapikey.VA-1.developer.email}","first":"{verifyapikey.VA-1.developer.firstName}",` +
			`"team":"{verifyapikey.VA-1.developer.team}","app":"{verifyapikey.VA-1.app.name}","tier":"{verifyapikey.VA-1.app.tier}",` +
			`"product":"{verifyapikey.VA-1.apiproduct.name}","access":"{verifyapikey.VA-1.apiproduct.access}","limit":"{verifyapikey.VA-1.apiproduct.developer.quota.limit}",` +
			`"unit":"{verifyapikey.VA-1.apiproduct.developer.quota.timeunit}","client_id":"{client_id}","plain_app":"{developer.app.name}","plain_product":"{apiproduct.name}",` +
			`"redirect":"{verifyapikey.VA-1.redirection_uris}","status":"{verifyapikey.VA-1.status}","secret_len":"{verifyapikey.VA-1.client_secret}"}</Payload></Set></AssignMessage>`,
	}))
	_, srv := startEngine(t, Options{Env: "test", Data: data}, dir)

	cases := []struct {
		name, path  string
		status      int
		fault, body string
	}{
		{"missing key", "/weather/forecasts/paris", 401, "FailedToResolveAPIKey",
			`{"fault":{"faultstring":"Failed to resolve API Key variable request.queryparam.apikey","detail":{"errorcode":"steps.oauth.v2.FailedToResolveAPIKey"}}}`},
		{"unknown key", "/weather/forecasts/paris?apikey=nope", 401, "InvalidApiKey",
			`{"fault":{"faultstring":"Invalid ApiKey","detail":{"errorcode":"oauth.v2.InvalidApiKey"}}}`},
		{"revoked app", "/weather/forecasts/paris?apikey=revoked-key", 401, "invalid_client-app_not_approved",
			`{"fault":{"faultstring":"Application is not approved","detail":{"errorcode":"keymanagement.service.invalid_client-app_not_approved"}}}`},
		{"expired key", "/weather/forecasts/paris?apikey=expired-key", 401, "consumer_key_expired",
			`{"fault":{"faultstring":"Consumer Key expired","detail":{"errorcode":"keymanagement.service.consumer_key_expired"}}}`},
		{"inactive developer", "/weather/forecasts/paris?apikey=bob-key", 401, "DeveloperStatusNotActive",
			`{"fault":{"faultstring":"Developer Status is not Active","detail":{"errorcode":"keymanagement.service.DeveloperStatusNotActive"}}}`},
		{"pending product", "/weather/forecasts/paris?apikey=pending-key", 401, "InvalidApiKeyForGivenResource",
			`{"fault":{"faultstring":"Invalid ApiKey for given resource","detail":{"errorcode":"oauth.v2.InvalidApiKeyForGivenResource"}}}`},
		{"product of another environment", "/weather/forecasts/paris?apikey=prod-key", 401, "InvalidApiKeyForGivenResource",
			`{"fault":{"faultstring":"Invalid ApiKey for given resource","detail":{"errorcode":"oauth.v2.InvalidApiKeyForGivenResource"}}}`},
		{"path outside the product", "/weather/alerts?apikey=narrow-key", 401, "InvalidApiKeyForGivenResource",
			`{"fault":{"faultstring":"Invalid ApiKey for given resource","detail":{"errorcode":"oauth.v2.InvalidApiKeyForGivenResource"}}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, hdr, body := do(t, "GET", srv.URL+c.path, "")
			if status != c.status || hdr.Get("X-Fault-Name") != c.fault || body != c.body {
				t.Errorf("GET %s = %d fault %q body %s, want %d fault %q body %s", c.path, status, hdr.Get("X-Fault-Name"), body, c.status, c.fault, c.body)
			}
		})
	}

	t.Run("valid key sets the variables", func(t *testing.T) {
		status, _, body := do(t, "GET", srv.URL+"/weather/forecasts/paris?apikey=good-key", "")
		if status != 200 {
			t.Fatalf("GET with a good key = %d %s", status, body)
		}
		var got map[string]string
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("body %s: %v", body, err)
		}
		want := map[string]string{"email": "ada@example.com", "first": "Ada", "team": "analytics", "app": "good-app", "tier": "gold",
			"product": "weather", "access": "public", "limit": "100", "unit": "minute", "client_id": "good-key",
			"plain_app": "good-app", "plain_product": "weather", "redirect": "https://app.example/cb", "status": "approved",
			"secret_len": "good-secret"}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %q, want %q (body %s)", k, got[k], v, body)
			}
		}
	})

	t.Run("generated key works", func(t *testing.T) {
		var key string
		for _, l := range apiproduct.For(data).Credentials() {
			if l.App == "generated-app" {
				key = l.ConsumerKey
			}
		}
		if len(key) != 32 {
			t.Fatalf("generated key %q, want 32 characters", key)
		}
		status, _, body := do(t, "GET", srv.URL+"/weather/forecasts?apikey="+url.QueryEscape(key), "")
		if status != 200 || !strings.Contains(body, `"app":"generated-app"`) {
			t.Errorf("GET with the generated key = %d %s", status, body)
		}
	})
}
