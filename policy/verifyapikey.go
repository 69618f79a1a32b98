package policy

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/apiproduct"
	"github.com/apigo/apigo/policy/exchange"
)

func init() { Register("VerifyAPIKey", "verifyapikey", buildVerifyAPIKey) }

// VerifyAPIKey is a built <VerifyAPIKey> policy. It checks the key against
// the registry of the test data (apiproduct.For(bc.Data)): the key must
// exist, its credential, app and developer be approved and active and not
// expired, and one of its approved products cover this environment, proxy
// and path suffix. On success it sets verifyapikey.<name>.* and the
// unprefixed client_id, developer.app.name and apiproduct.name.
//
// The consumer secret (verifyapikey.<name>.client_secret) is set with
// SetSystem, so traces never record it.
type VerifyAPIKey struct {
	Name string
	// Ref is APIKey/@ref, the variable holding the key.
	Ref string
	reg *apiproduct.Registry
	now func() time.Time
}

func buildVerifyAPIKey(bc *BuildContext, p *bundle.Policy) Policy {
	v := &VerifyAPIKey{Name: p.Name, reg: apiproduct.For(bc.Data), now: bc.Now}
	for _, el := range p.Element.ChildElements() {
		switch el.Tag {
		case "APIKey":
			v.Ref = strings.TrimSpace(el.SelectAttrValue("ref", ""))
			if v.Ref == "" {
				v.Ref = strings.TrimSpace(el.Text())
			}
			if v.Ref == "" {
				bc.Problems.Errorf(p.Doc.Pos(el), "<APIKey> needs a ref attribute naming the variable that holds the key")
				return nil
			}
		case "DisplayName", "Description", "Properties", "FaultRules":
		default:
			bc.Problems.Warnf(p.Doc.Pos(el), "unknown element <%s> in <VerifyAPIKey>, ignored", el.Tag)
		}
	}
	if v.Ref == "" {
		bc.Problems.Errorf(p.Doc.Pos(p.Element), "<VerifyAPIKey> needs <APIKey ref=\"...\"/>")
		return nil
	}
	return v
}

// Execute verifies the key.
func (v *VerifyAPIKey) Execute(_ context.Context, x *exchange.Exchange) error {
	key, ok := x.GetString(v.Ref)
	if !ok || key == "" {
		return v.fail(x, &Fault{Name: "FailedToResolveAPIKey", Code: "steps.oauth.v2.FailedToResolveAPIKey",
			FaultString: "Failed to resolve API Key variable " + v.Ref, Status: http.StatusUnauthorized})
	}
	cred, ok := v.reg.Credential(key)
	if !ok {
		return v.fail(x, &Fault{Name: "InvalidApiKey", Code: "oauth.v2.InvalidApiKey",
			FaultString: "Invalid ApiKey", Status: http.StatusUnauthorized})
	}
	if err := cred.Check(v.now()); err != nil {
		return v.fail(x, credentialFault(err))
	}
	m, ok := cred.Match(callOf(x))
	if !ok {
		return v.fail(x, &Fault{Name: "InvalidApiKeyForGivenResource", Code: "oauth.v2.InvalidApiKeyForGivenResource",
			FaultString: "Invalid ApiKey for given resource", Status: http.StatusUnauthorized})
	}
	v.setOutputs(x, cred, m)
	return nil
}

func (v *VerifyAPIKey) fail(x *exchange.Exchange, f *Fault) error {
	f.Source, f.Policy = "policy", v.Name
	// The engine sets verifyapikey.<name>.failed; Apigee's documented flag
	// is this one (sic).
	x.SetSystem("oauthV2."+v.Name+".failed", true)
	return f
}

// credentialFault maps apiproduct.Credential.Check's errors to Apigee's
// faults. The faultstrings are apigo's [?]: Apigee's are undocumented.
func credentialFault(err error) *Fault {
	f := &Fault{Status: http.StatusUnauthorized, Source: "policy"}
	switch {
	case errors.Is(err, apiproduct.ErrDeveloperInactive):
		f.Name, f.FaultString = "DeveloperStatusNotActive", "Developer Status is not Active"
	case errors.Is(err, apiproduct.ErrKeyExpired):
		f.Name, f.FaultString = "consumer_key_expired", "Consumer Key expired"
	default:
		f.Name, f.FaultString = "invalid_client-app_not_approved", "Application is not approved"
	}
	f.Code = "keymanagement.service." + f.Name
	return f
}

// callOf describes the current request for product matching.
func callOf(x *exchange.Exchange) apiproduct.Call {
	s := func(n string) string { v, _ := x.GetString(n); return v }
	return apiproduct.Call{Env: s("environment.name"), Proxy: s("apiproxy.name"),
		PathSuffix: s("proxy.pathsuffix"), Verb: s("request.verb")}
}

// setOutputs sets verifyapikey.<name>.* (§8.9).
func (v *VerifyAPIKey) setOutputs(x *exchange.Exchange, c *apiproduct.Credential, m apiproduct.Match) {
	p := "verifyapikey." + v.Name + "."
	app, dev := c.App, c.App.Developer
	setAttrs(x, p+"developer.", dev.Attributes)
	setAttrs(x, p+"app.", app.Attributes)
	setAttrs(x, p+"apiproduct.", m.Attributes)
	setAttrs(x, "apiproduct.", m.Attributes)
	vars := [][2]string{
		{"client_id", c.ConsumerKey}, {"redirection_uris", app.CallbackURL},
		{"developer.app.name", app.Name}, {"developer.app.id", app.ID}, {"app.name", app.Name}, {"app.id", app.ID},
		{"developer.id", dev.ID}, {"developer.email", dev.Email}, {"developer.firstName", dev.FirstName},
		{"developer.lastName", dev.LastName}, {"developer.userName", dev.UserName}, {"developer.status", dev.Status},
		{"apiproduct.name", m.Product.Name},
		{"apiproduct.developer.quota.limit", m.Quota.Limit}, {"apiproduct.developer.quota.interval", m.Quota.Interval},
		{"apiproduct.developer.quota.timeunit", m.Quota.TimeUnit},
		{"issued_at", itoa64(c.IssuedAt)}, {"expires_at", itoa64(c.ExpiresAt)}, {"status", c.Status},
		{"DisplayName", orString(app.DisplayName, app.Name)},
	}
	for _, kv := range vars {
		setOut(x, p+kv[0], kv[1])
	}
	x.SetSystem(p+"client_secret", c.ConsumerSecret)
	setProductVars(x, c, app, m)
}

// setProductVars sets the unprefixed analytics variables VerifyAPIKey and
// VerifyAccessToken share.
func setProductVars(x *exchange.Exchange, c *apiproduct.Credential, app *apiproduct.App, m apiproduct.Match) {
	setOut(x, "client_id", c.ConsumerKey)
	setOut(x, "developer.app.name", app.Name)
	setOut(x, "developer.id", app.Developer.ID)
	setOut(x, "developer.email", app.Developer.Email)
	setOut(x, "apiproduct.name", m.Product.Name)
	setOut(x, "apiproduct.developer.quota.limit", m.Quota.Limit)
	setOut(x, "apiproduct.developer.quota.interval", m.Quota.Interval)
	setOut(x, "apiproduct.developer.quota.timeunit", m.Quota.TimeUnit)
}

// setOut sets a policy output the trace may show. A name the dotted tree
// would drop (below a scalar) is forced: it is the policy's own output.
func setOut(x *exchange.Exchange, name, value string) {
	if err := x.Set(name, value); err != nil {
		x.SetSystem(name, value)
	}
}

func setAttrs(x *exchange.Exchange, prefix string, attrs []bundle.Attribute) {
	for _, a := range attrs {
		if a.Name != "" {
			setOut(x, prefix+a.Name, a.Value)
		}
	}
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

func orString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
