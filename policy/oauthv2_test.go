package policy

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
	"github.com/apigo/apigo/store"
)

// TestOAuthV2UnsupportedOperation: an operation apigo lacks loads with a
// warning and faults when it runs, so the rest of the bundle serves.
func TestOAuthV2UnsupportedOperation(t *testing.T) {
	pol, probs := buildXML(t, `<OAuthV2 name="O"><Operation>GenerateJWTAccessToken</Operation></OAuthV2>`, &BuildContext{Data: &bundle.Data{}})
	if pol == nil || probs.HasErrors() || !strings.Contains(probs.String(), `warning: <OAuthV2> Operation "GenerateJWTAccessToken" is not supported`) {
		t.Fatalf("build = %v, problems %q; want a policy and a warning", pol, probs.String())
	}
	err := pol.Execute(context.Background(), exchange.New())
	var f *Fault
	if !errors.As(err, &f) || f.Code != "steps.oauth.v2.NotSupported" || f.Policy != "O" {
		t.Errorf("Execute = %v, want steps.oauth.v2.NotSupported", err)
	}
}

func TestSecurityPolicyBuildProblems(t *testing.T) {
	tests := []struct {
		name, xml, contains string
	}{
		{"VerifyAPIKey without APIKey", `<VerifyAPIKey name="VA"/>`, `<VerifyAPIKey> needs <APIKey ref="..."/>`},
		{"APIKey without ref", `<VerifyAPIKey name="VA"><APIKey/></VerifyAPIKey>`, "<APIKey> needs a ref attribute"},
		{"InvalidateToken without tokens", `<OAuthV2 name="O"><Operation>InvalidateToken</Operation></OAuthV2>`, "InvalidateToken needs <Tokens>"},
		{"ExpiresIn not a number", `<OAuthV2 name="O"><Operation>GenerateAccessToken</Operation><ExpiresIn>soon</ExpiresIn></OAuthV2>`, `<ExpiresIn> "soon" is not a number`},
		{"attribute without name", `<OAuthV2 name="O"><Operation>GenerateAccessToken</Operation><Attributes><Attribute>v</Attribute></Attributes></OAuthV2>`, "<Attribute> needs a name"},
		{"GetOAuthV2Info without input", `<GetOAuthV2Info name="G"/>`, "needs one of <AccessToken>"},
		{"SetOAuthV2Info without token", `<SetOAuthV2Info name="S"/>`, "needs <AccessToken"},
		{"RevokeOAuthV2 without ids", `<RevokeOAuthV2 name="R"/>`, "needs <AppId> or <EndUserId>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pol, probs := buildXML(t, tc.xml, &BuildContext{Data: &bundle.Data{}})
			if pol != nil {
				t.Errorf("build returned %v, want nil", pol)
			}
			if out := probs.String(); !strings.Contains(out, tc.contains) {
				t.Errorf("problems = %q, want one containing %q", out, tc.contains)
			}
		})
	}
}

// brokenStore fails every cache call, as an unreachable Redis does.
type brokenStore struct{ store.Store }

var errDown = errors.New("connection refused")

func (brokenStore) Get(context.Context, string) ([]byte, bool, error) { return nil, false, errDown }
func (brokenStore) Set(context.Context, string, []byte, time.Duration) error {
	return errDown
}

func TestOAuthV2StoreUnavailable(t *testing.T) {
	bc := &BuildContext{Store: brokenStore{}, Data: &bundle.Data{}}
	pol := mustBuild(t, `<OAuthV2 name="O"><Operation>VerifyAccessToken</Operation></OAuthV2>`, bc)
	x := exchange.New()
	x.Request().Header.Set("Authorization", "Bearer abc")
	var f *Fault
	if err := execute(t, pol, x); !errors.As(err, &f) || f.Name != "ExecutionFailed" || f.HTTPStatus() != 500 || !errors.Is(err, errDown) {
		t.Errorf("VerifyAccessToken with the store down = %v, want a 500 ExecutionFailed wrapping the store error", err)
	}
}

func TestOAuthV2Defaults(t *testing.T) {
	bc := &BuildContext{Data: &bundle.Data{}}
	cases := []struct {
		xml       string
		expiresIn int64
		grants    string
		errorBody bool
	}{
		{`<OAuthV2 name="O"><Operation>GenerateAccessToken</Operation></OAuthV2>`, 3600000, "client_credentials password authorization_code refresh_token", false},
		{`<OAuthV2 name="O"><Operation>GenerateAuthorizationCode</Operation><GenerateResponse/></OAuthV2>`, 600000, "", true},
		{`<OAuthV2 name="O"><Operation>RefreshAccessToken</Operation><GenerateResponse enabled="true"/><GenerateErrorResponse enabled="false"/></OAuthV2>`, 3600000, "refresh_token", false},
		{`<OAuthV2 name="O"><Operation>GenerateAccessToken</Operation><ExpiresIn ref="flow.ttl">5000</ExpiresIn><SupportedGrantTypes><GrantType>password</GrantType></SupportedGrantTypes></OAuthV2>`, 5000, "password", false},
	}
	for _, c := range cases {
		o := mustBuild(t, c.xml, bc).(*OAuthV2)
		if o.ExpiresIn.ms != c.expiresIn || strings.Join(o.SupportedGrantTypes, " ") != c.grants || o.GenerateErrorBody != c.errorBody {
			t.Errorf("build(%q) = ExpiresIn %d grants %v error body %v, want %d %q %v", c.xml, o.ExpiresIn.ms, o.SupportedGrantTypes, o.GenerateErrorBody, c.expiresIn, c.grants, c.errorBody)
		}
	}
}
