package policy

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/apiproduct"
	"github.com/apigo/apigo/policy/exchange"
)

func init() { Register("OAuthV2", "oauthV2", buildOAuthV2) }

// OAuthV2 is a built <OAuthV2> policy, one Operation per policy:
// GenerateAccessToken, GenerateAuthorizationCode, RefreshAccessToken,
// VerifyAccessToken, InvalidateToken, ValidateToken. Clients are the
// registry's credentials (apiproduct.For(bc.Data)); tokens, refresh tokens
// and authorization codes live in bc.Store, so instances sharing a store
// share them. Tokens and secrets are only ever set with SetSystem, which
// traces do not record.
type OAuthV2 struct {
	Name      string
	Operation string
	// GrantType is the variable holding grant_type; "" reads the form
	// parameter, then the query parameter.
	GrantType string
	// SupportedGrantTypes, empty = the operation's natural ones.
	SupportedGrantTypes []string
	// ExpiresIn is the access token (or code) lifetime: 3600000 ms for
	// tokens, 600000 ms for codes when absent [?]. A ref overrides it.
	ExpiresIn lifetime
	// RefreshTokenExpiresIn: 0 (absent) = never [?].
	RefreshTokenExpiresIn lifetime
	// Scope: for VerifyAccessToken the space-separated scopes of which the
	// token must hold one; otherwise the variable holding the requested
	// scope ("" reads scope from form, then query).
	Scope             string
	Attributes        []tokenAttr
	GenerateResponse  bool
	GenerateErrorBody bool // GenerateErrorResponse, default GenerateResponse [?]
	ReuseRefreshToken bool
	// Tokens are InvalidateToken/ValidateToken's <Tokens>.
	Tokens []tokenSel
	refs   map[string]string // element name -> variable (AccessToken, ClientId, Code, ...)
	reg    *apiproduct.Registry
	tokens tokenStore
}

// lifetime is a duration in ms with an optional ref.
type lifetime struct {
	ms  int64
	ref string
}

func (l lifetime) value(x *exchange.Exchange) int64 {
	if l.ref != "" {
		if s, ok := x.GetString(l.ref); ok {
			if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
				return n
			}
		}
	}
	return l.ms
}

// tokenAttr is one <Attribute name ref display>value</Attribute>.
type tokenAttr struct {
	name, ref, text string
	display         bool
}

func (a tokenAttr) value(x *exchange.Exchange) string {
	if a.ref != "" {
		if s, ok := x.GetString(a.ref); ok {
			return s
		}
	}
	return a.text
}

// tokenSel is one InvalidateToken/ValidateToken <Token type cascade>var.
type tokenSel struct {
	ref     string
	refresh bool
	cascade bool
}

var oauthRefElements = []string{"AccessToken", "ClientId", "ClientSecret", "Code", "RedirectUri", "RefreshToken",
	"ResponseType", "State", "UserName", "PassWord", "AppEndUser"}

var oauthOperations = []string{"GenerateAccessToken", "GenerateAuthorizationCode", "RefreshAccessToken",
	"VerifyAccessToken", "InvalidateToken", "ValidateToken"}

func buildOAuthV2(bc *BuildContext, p *bundle.Policy) Policy {
	before := countErrors(bc.Problems)
	o := &OAuthV2{Name: p.Name, refs: map[string]string{}, reg: apiproduct.For(bc.Data), tokens: tokenStore{bc.Store, bc.Now}}
	errorBody := -1
	for _, el := range p.Element.ChildElements() {
		text := strings.TrimSpace(el.Text())
		switch el.Tag {
		case "Operation":
			o.Operation = text
		case "GrantType":
			o.GrantType = text
		case "SupportedGrantTypes":
			for _, g := range el.SelectElements("GrantType") {
				o.SupportedGrantTypes = append(o.SupportedGrantTypes, strings.TrimSpace(g.Text()))
			}
		case "ExpiresIn":
			o.ExpiresIn = parseLifetime(bc, p, el)
		case "RefreshTokenExpiresIn":
			o.RefreshTokenExpiresIn = parseLifetime(bc, p, el)
		case "Scope":
			o.Scope = text
		case "Attributes":
			o.Attributes = attrsOf(bc, p, el)
		case "GenerateResponse":
			o.GenerateResponse = enabledAttr(bc, p, el)
		case "GenerateErrorResponse":
			errorBody = 0
			if enabledAttr(bc, p, el) {
				errorBody = 1
			}
		case "ReuseRefreshToken":
			o.ReuseRefreshToken = boolText(bc, p.Doc, el)
		case "Tokens":
			o.Tokens = tokenSels(el)
		case "DisplayName", "Description", "Properties", "FaultRules", "ExternalAuthorization", "StoreToken":
		default:
			if slices.Contains(oauthRefElements, el.Tag) {
				o.refs[el.Tag] = orString(strings.TrimSpace(el.SelectAttrValue("ref", "")), text)
				continue
			}
			bc.Problems.Warnf(p.Doc.Pos(el), "unknown or unsupported element <%s> in <OAuthV2>, ignored", el.Tag)
		}
	}
	o.GenerateErrorBody = errorBody == 1 || errorBody == -1 && o.GenerateResponse
	o.defaults()
	if !slices.Contains(oauthOperations, o.Operation) {
		// Apigee has more operations (GenerateJWTAccessToken,
		// GenerateAccessTokenImplicitGrant, ...): say so at load, fault when
		// the step runs, and let the rest of the bundle serve.
		bc.Problems.Warnf(p.Doc.Pos(p.Element), "<OAuthV2> Operation %q is not supported by apigo (supported: %s); the step faults with steps.oauth.v2.NotSupported when it runs", o.Operation, strings.Join(oauthOperations, ", "))
	}
	if (o.Operation == "InvalidateToken" || o.Operation == "ValidateToken") && len(o.Tokens) == 0 {
		bc.Problems.Errorf(p.Doc.Pos(p.Element), "<OAuthV2> %s needs <Tokens><Token type=\"accesstoken\">variable</Token></Tokens>", o.Operation)
	}
	if countErrors(bc.Problems) > before {
		return nil
	}
	return o
}

func (o *OAuthV2) defaults() {
	if o.ExpiresIn.ms == 0 && o.ExpiresIn.ref == "" {
		o.ExpiresIn.ms = 3600000
		if o.Operation == "GenerateAuthorizationCode" {
			o.ExpiresIn.ms = 600000
		}
	}
	if len(o.SupportedGrantTypes) == 0 {
		switch o.Operation {
		case "GenerateAccessToken":
			o.SupportedGrantTypes = []string{"client_credentials", "password", "authorization_code", "refresh_token"}
		case "RefreshAccessToken":
			o.SupportedGrantTypes = []string{"refresh_token"}
		}
	}
}

func parseLifetime(bc *BuildContext, p *bundle.Policy, el *etree.Element) lifetime {
	l := lifetime{ref: strings.TrimSpace(el.SelectAttrValue("ref", ""))}
	if t := strings.TrimSpace(el.Text()); t != "" {
		n, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			bc.Problems.Errorf(p.Doc.Pos(el), "<%s> %q is not a number of milliseconds", el.Tag, t)
		}
		l.ms = n
	}
	return l
}

func enabledAttr(bc *BuildContext, p *bundle.Policy, el *etree.Element) bool {
	a := el.SelectAttr("enabled")
	if a == nil {
		return true
	}
	return parseBoolAttr(bc, p, el, a)
}

func attrsOf(bc *BuildContext, p *bundle.Policy, el *etree.Element) []tokenAttr {
	var out []tokenAttr
	for _, a := range el.SelectElements("Attribute") {
		ta := tokenAttr{name: a.SelectAttrValue("name", ""), ref: a.SelectAttrValue("ref", ""), text: strings.TrimSpace(a.Text())}
		if d := a.SelectAttr("display"); d != nil {
			ta.display = parseBoolAttr(bc, p, a, d)
		}
		if ta.name == "" {
			bc.Problems.Errorf(p.Doc.Pos(a), "<Attribute> needs a name")
			continue
		}
		out = append(out, ta)
	}
	return out
}

func parseTokenAttrs(bc *BuildContext, p *bundle.Policy) []tokenAttr {
	if el := p.Element.SelectElement("Attributes"); el != nil {
		return attrsOf(bc, p, el)
	}
	return nil
}

func tokenSels(el *etree.Element) []tokenSel {
	var out []tokenSel
	for _, t := range el.SelectElements("Token") {
		out = append(out, tokenSel{ref: strings.TrimSpace(t.Text()),
			refresh: strings.EqualFold(t.SelectAttrValue("type", "accesstoken"), "refreshtoken"),
			cascade: !strings.EqualFold(t.SelectAttrValue("cascade", "true"), "false")})
	}
	return out
}

// Execute runs the operation.
func (o *OAuthV2) Execute(ctx context.Context, x *exchange.Exchange) error {
	var err error
	switch o.Operation {
	case "VerifyAccessToken":
		err = o.verify(ctx, x)
	case "GenerateAccessToken":
		err = o.generate(ctx, x)
	case "RefreshAccessToken":
		err = o.refresh(ctx, x)
	case "GenerateAuthorizationCode":
		err = o.authorize(ctx, x)
	case "InvalidateToken", "ValidateToken":
		err = o.setStatus(ctx, x)
	default:
		err = &Fault{Name: "NotSupported", Code: "steps.oauth.v2.NotSupported", Status: http.StatusInternalServerError,
			FaultString: "OAuthV2 operation " + o.Operation + " is not supported by apigo"}
	}
	if f, ok := err.(*Fault); ok {
		f.Source, f.Policy = "policy", o.Name
	}
	return err
}

// oauthFault is an OAuthV2 failure. errorCode/errorText are the OAuth
// error pair of the token endpoint's {"ErrorCode","Error"} body, used when
// GenerateErrorResponse applies; "" for VerifyAccessToken faults.
func (o *OAuthV2) fault(status int, name, code, faultString, errorCode string) *Fault {
	f := &Fault{Name: name, Code: code, FaultString: faultString, Status: status}
	if errorCode != "" && o.GenerateErrorBody {
		resp := exchange.NewResponse()
		resp.Status, resp.Reason = status, http.StatusText(status)
		resp.Header.Set("Content-Type", "application/json")
		resp.Body = []byte(`{"ErrorCode" : ` + jsonString(errorCode) + `, "Error" :` + jsonString(faultString) + `}`)
		f.Response = resp
	}
	return f
}

// verify is VerifyAccessToken (§8.10).
func (o *OAuthV2) verify(ctx context.Context, x *exchange.Exchange) error {
	tok, f := o.presentedToken(x)
	if f != nil {
		return f
	}
	r, err := o.tokens.get(ctx, x, kindAccess, tok)
	switch {
	case errors.Is(err, errNoToken):
		return o.fault(401, "invalid_access_token", "keymanagement.service.invalid_access_token", "Invalid Access Token", "")
	case err != nil:
		return storeFault(o.Name, err)
	case o.tokens.revoked(ctx, x, r):
		return o.fault(401, "access_token_not_approved", "keymanagement.service.access_token_not_approved", "Access Token not approved", "")
	case r.expired(o.tokens.now()):
		return o.fault(401, "access_token_expired", "keymanagement.service.access_token_expired", "Access Token expired", "")
	}
	cred, ok := o.reg.Credential(r.ClientID)
	if !ok {
		return o.fault(401, "invalid_access_token", "keymanagement.service.invalid_access_token", "Invalid Access Token", "")
	}
	if err := cred.Check(o.tokens.now()); err != nil {
		return credentialFault(err)
	}
	m, ok := apiproduct.MatchProducts(tokenProducts(cred, r), callOf(x))
	if !ok {
		return o.fault(401, "InvalidAPICallAsNoApiProductMatchFound", "keymanagement.service.InvalidAPICallAsNoApiProductMatchFound",
			"Invalid API call as no apiproduct match found", "")
	}
	if want := strings.Fields(o.Scope); len(want) > 0 && !anyScope(want, strings.Fields(r.Scope)) {
		return o.fault(403, "InsufficientScope", "steps.oauth.v2.InsufficientScope", "Required scope(s) : "+strings.Join(want, " "), "")
	}
	setTokenVars(x, "", kindAccess, tok, r, o.tokens.now())
	setOut(x, "grant_type", r.GrantType)
	setOut(x, "token_type", "BearerToken")
	setOut(x, "organization_name", orgOf(x))
	setOut(x, "app.name", r.AppName)
	setOut(x, "app.id", r.AppID)
	setOut(x, "developer.app.id", r.AppID)
	setAttrs(x, "apiproduct.", m.Attributes)
	setProductVars(x, cred, cred.App, m)
	return nil
}

// presentedToken reads AccessToken's variable, or the Authorization
// header's Bearer token.
func (o *OAuthV2) presentedToken(x *exchange.Exchange) (string, *Fault) {
	if ref := o.refs["AccessToken"]; ref != "" {
		tok, ok := x.GetString(ref)
		if !ok || tok == "" {
			return "", o.fault(401, "InvalidAccessToken", "oauth.v2.InvalidAccessToken", "Invalid access token", "")
		}
		return strings.TrimSpace(strings.TrimPrefix(tok, "Bearer ")), nil
	}
	h, _ := x.GetString("request.header.Authorization")
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", o.fault(401, "InvalidAccessToken", "oauth.v2.InvalidAccessToken", "Invalid access token", "")
	}
	return tok, nil
}

// tokenProducts are the credential's currently approved products that the
// token was issued for.
func tokenProducts(c *apiproduct.Credential, r *tokenRecord) []*apiproduct.Product {
	var out []*apiproduct.Product
	for _, p := range c.ApprovedProducts() {
		if slices.Contains(r.Products, p.Name) {
			out = append(out, p)
		}
	}
	return out
}

func anyScope(want, have []string) bool {
	for _, w := range want {
		if slices.Contains(have, w) {
			return true
		}
	}
	return false
}

func orgOf(x *exchange.Exchange) string {
	s, _ := x.GetString("organization.name")
	return s
}

// param reads the variable named by element tag when the policy has it,
// else the form parameter, else the query parameter name.
func (o *OAuthV2) param(x *exchange.Exchange, tag, name string) string {
	if ref := o.refs[tag]; ref != "" {
		s, _ := x.GetString(ref)
		return s
	}
	return formOrQuery(x, name)
}

func formOrQuery(x *exchange.Exchange, name string) string {
	if s, ok := x.GetString("request.formparam." + name); ok && s != "" {
		return s
	}
	s, _ := x.GetString("request.queryparam." + name)
	return s
}

// client authenticates the calling app: ClientId/ClientSecret variables,
// else HTTP Basic, else client_id/client_secret parameters.
func (o *OAuthV2) client(x *exchange.Exchange, needSecret bool) (*apiproduct.Credential, *Fault) {
	id, secret := o.param(x, "ClientId", "client_id"), o.param(x, "ClientSecret", "client_secret")
	if u, p, ok := basicAuth(x); ok && o.refs["ClientId"] == "" {
		id, secret = u, p
	}
	if id == "" {
		return nil, o.fault(401, "invalid_client", "steps.oauth.v2.invalid_client", "Client identifier is required", "invalid_client")
	}
	c, err := o.reg.Authenticate(id, secret)
	if errors.Is(err, apiproduct.ErrUnknownKey) || (needSecret && err != nil) {
		return nil, o.fault(401, "invalid_client", "steps.oauth.v2.invalid_client", "ClientId is Invalid", "invalid_client")
	}
	if err := c.Check(o.tokens.now()); err != nil {
		f := credentialFault(err)
		return nil, o.fault(401, f.Name, f.Code, f.FaultString, "invalid_client")
	}
	return c, nil
}

func basicAuth(x *exchange.Exchange) (user, pass string, ok bool) {
	h, _ := x.GetString("request.header.Authorization")
	scheme, enc, found := strings.Cut(strings.TrimSpace(h), " ")
	if !found || !strings.EqualFold(scheme, "Basic") {
		return "", "", false
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
	if err != nil {
		return "", "", false
	}
	return strings.Cut(string(b), ":")
}

// grantedScope checks a requested scope against the scopes of the
// credential's approved products: none requested grants them all; a
// requested scope no product offers is invalid_scope [?].
func (o *OAuthV2) grantedScope(x *exchange.Exchange, c *apiproduct.Credential, requested string) (string, *Fault) {
	var offered []string
	for _, p := range c.ApprovedProducts() {
		for _, s := range p.Scopes {
			if !slices.Contains(offered, s) {
				offered = append(offered, s)
			}
		}
	}
	for _, s := range c.Scopes {
		if !slices.Contains(offered, s) {
			offered = append(offered, s)
		}
	}
	req := strings.Fields(requested)
	if len(req) == 0 {
		return strings.Join(offered, " "), nil
	}
	for _, s := range req {
		if !slices.Contains(offered, s) {
			return "", o.fault(400, "invalid_scope", "steps.oauth.v2.invalid_scope", "Invalid Scope", "invalid_scope")
		}
	}
	return strings.Join(req, " "), nil
}

func (o *OAuthV2) requestedScope(x *exchange.Exchange) string {
	if o.Scope != "" {
		s, _ := x.GetString(o.Scope)
		return s
	}
	return formOrQuery(x, "scope")
}

func (o *OAuthV2) now() time.Time { return o.tokens.now() }

// grantType resolves the request's grant type and checks it is supported.
func (o *OAuthV2) grantType(x *exchange.Exchange) (string, *Fault) {
	var g string
	if o.GrantType != "" {
		g, _ = x.GetString(o.GrantType)
	} else {
		g = formOrQuery(x, "grant_type")
	}
	if g == "" {
		return "", o.fault(400, "invalid_request", "steps.oauth.v2.invalid_request", "Required param : grant_type", "invalid_request")
	}
	if !slices.Contains(o.SupportedGrantTypes, g) {
		return "", o.fault(400, "unsupported_grant_type", "steps.oauth.v2.unsupported_grant_type", "Unsupported grant type : "+g, "unsupported_grant_type")
	}
	return g, nil
}

// generate is GenerateAccessToken.
func (o *OAuthV2) generate(ctx context.Context, x *exchange.Exchange) error {
	g, f := o.grantType(x)
	if f != nil {
		return f
	}
	if g == "refresh_token" {
		return o.refreshWith(ctx, x)
	}
	c, f := o.client(x, true)
	if f != nil {
		return f
	}
	scope, f := o.grantedScope(x, c, o.requestedScope(x))
	if f != nil {
		return f
	}
	rec := o.newRecord(x, c, g, scope)
	switch g {
	case "password":
		user, pass := o.param(x, "UserName", "username"), o.param(x, "PassWord", "password")
		if user == "" || pass == "" {
			missing := map[bool]string{true: "username", false: "password"}[user == ""]
			return o.fault(400, "invalid_request", "steps.oauth.v2.invalid_request", "Required param : "+missing, "invalid_request")
		}
		if rec.AppEndUser == "" {
			rec.AppEndUser = user
		}
	case "authorization_code":
		if f := o.redeemCode(ctx, x, c, rec); f != nil {
			return f
		}
	}
	return o.issue(ctx, x, rec, g != "client_credentials")
}

func (o *OAuthV2) newRecord(x *exchange.Exchange, c *apiproduct.Credential, grant, scope string) *tokenRecord {
	rec := &tokenRecord{ClientID: c.ConsumerKey, AppID: c.App.ID, AppName: c.App.Name, DeveloperEmail: c.App.Developer.Email,
		DeveloperID: c.App.Developer.ID, Scope: scope, GrantType: grant, Status: "approved", IssuedAt: o.now().UnixMilli()}
	for _, p := range c.ApprovedProducts() {
		rec.Products = append(rec.Products, p.Name)
	}
	if ref := o.refs["AppEndUser"]; ref != "" {
		rec.AppEndUser, _ = x.GetString(ref)
	}
	for _, a := range o.Attributes {
		rec.Attributes = append(rec.Attributes, kvString{Name: a.name, Value: a.value(x), Display: a.display})
	}
	return rec
}

// redeemCode checks and consumes an authorization code for c.
func (o *OAuthV2) redeemCode(ctx context.Context, x *exchange.Exchange, c *apiproduct.Credential, rec *tokenRecord) *Fault {
	code := o.param(x, "Code", "code")
	invalid := o.fault(400, "invalid_request-authorization_code_invalid", "keymanagement.service.invalid_request-authorization_code_invalid",
		"Invalid Authorization Code", "invalid_request")
	cr, err := o.tokens.get(ctx, x, kindCode, code)
	if err != nil && !errors.Is(err, errNoToken) {
		return storeFault(o.Name, err)
	}
	if cr == nil || cr.ClientID != c.ConsumerKey || cr.Status != "approved" {
		return invalid
	}
	if cr.expired(o.now()) {
		return o.fault(400, "invalid_request-authorization_code_expired", "keymanagement.service.invalid_request-authorization_code_expired",
			"Authorization Code expired", "invalid_request")
	}
	if redirect := o.param(x, "RedirectUri", "redirect_uri"); cr.RedirectURI != "" && redirect != cr.RedirectURI {
		return o.fault(400, "invalid_request-redirect_uri_mismatch", "steps.oauth.v2.invalid_request", "Redirection URI mismatch", "invalid_request")
	}
	if cr.Scope != "" {
		rec.Scope = cr.Scope
	}
	if rec.AppEndUser == "" {
		rec.AppEndUser = cr.AppEndUser
	}
	cr.Status = "revoked" // a code is used once
	if err := o.tokens.put(ctx, x, kindCode, code, cr); err != nil {
		return storeFault(o.Name, err)
	}
	return nil
}

// issue stores a new access token (and refresh token) for rec and
// publishes it.
func (o *OAuthV2) issue(ctx context.Context, x *exchange.Exchange, rec *tokenRecord, withRefresh bool) error {
	tok := apiproduct.RandomString(28)
	if exp := o.ExpiresIn.value(x); exp > 0 {
		rec.ExpiresAt = rec.IssuedAt + exp
	}
	if withRefresh {
		if rec.RefreshToken == "" {
			rec.RefreshToken = apiproduct.RandomString(32)
			rec.RefreshIssuedAt = rec.IssuedAt
			if exp := o.RefreshTokenExpiresIn.value(x); exp > 0 {
				rec.RefreshExpiresAt = rec.IssuedAt + exp
			}
		}
		rt := *rec
		rt.AccessToken, rt.RefreshToken, rt.ExpiresAt, rt.IssuedAt = tok, "", rec.RefreshExpiresAt, rec.RefreshIssuedAt
		if err := o.tokens.put(ctx, x, kindRefresh, rec.RefreshToken, &rt); err != nil {
			return storeFault(o.Name, err)
		}
	}
	if err := o.tokens.put(ctx, x, kindAccess, tok, rec); err != nil {
		return storeFault(o.Name, err)
	}
	o.publish(x, tok, rec)
	return nil
}

// publish sets oauthv2accesstoken.<name>.* and, with GenerateResponse,
// the response.
func (o *OAuthV2) publish(x *exchange.Exchange, tok string, rec *tokenRecord) {
	// Lifetimes count from the issue instant, so a fresh token reads its
	// full ExpiresIn.
	issued := time.UnixMilli(rec.IssuedAt)
	setTokenVars(x, "oauthv2accesstoken."+o.Name+".", kindAccess, tok, rec, issued)
	setOut(x, "oauthv2accesstoken."+o.Name+".token_type", "BearerToken")
	if !o.GenerateResponse {
		return
	}
	b := newJSONObject()
	b.add("refresh_token_expires_in", strconv.FormatInt(secondsLeft(rec.RefreshExpiresAt, issued)*boolInt(rec.RefreshToken != ""), 10))
	b.add("refresh_token_status", map[bool]string{true: "approved"}[rec.RefreshToken != ""])
	b.add("api_product_list", "["+strings.Join(rec.Products, ", ")+"]")
	b.addRaw("api_product_list_json", jsonStrings(rec.Products))
	b.add("organization_name", orgOf(x))
	b.add("developer.email", rec.DeveloperEmail)
	b.add("token_type", "BearerToken")
	b.add("issued_at", itoa64(rec.IssuedAt))
	b.add("client_id", rec.ClientID)
	b.add("access_token", tok)
	if rec.RefreshToken != "" {
		b.add("refresh_token", rec.RefreshToken)
		b.add("refresh_token_issued_at", itoa64(rec.RefreshIssuedAt))
	}
	b.add("application_name", rec.AppID)
	b.add("scope", rec.Scope)
	b.add("expires_in", strconv.FormatInt(secondsLeft(rec.ExpiresAt, issued), 10))
	b.add("refresh_count", strconv.Itoa(rec.RefreshCount))
	b.add("status", rec.Status)
	for _, a := range rec.Attributes {
		if a.Display {
			b.add(a.Name, a.Value)
		}
	}
	respond(x, http.StatusOK, "application/json", b.bytes())
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// respond makes the response message status/body (GenerateResponse).
func respond(x *exchange.Exchange, status int, contentType string, body []byte) *exchange.Message {
	resp := x.Response()
	if resp == nil {
		resp = exchange.NewResponse()
		x.SetResponse(resp)
	}
	resp.Stream = nil
	resp.Status, resp.Reason = status, http.StatusText(status)
	if contentType != "" {
		resp.Header.Set("Content-Type", contentType)
	}
	resp.Body = body
	return resp
}

// refresh is RefreshAccessToken.
func (o *OAuthV2) refresh(ctx context.Context, x *exchange.Exchange) error {
	if _, f := o.grantType(x); f != nil {
		return f
	}
	return o.refreshWith(ctx, x)
}

// refreshWith exchanges a refresh token for a new access token; the old
// access token is revoked [?], the refresh token kept with
// ReuseRefreshToken, else replaced.
func (o *OAuthV2) refreshWith(ctx context.Context, x *exchange.Exchange) error {
	rt := o.param(x, "RefreshToken", "refresh_token")
	invalid := o.fault(400, "invalid_refresh_token", "keymanagement.service.invalid_refresh_token", "Invalid Refresh Token", "invalid_grant")
	r, err := o.tokens.get(ctx, x, kindRefresh, rt)
	if err != nil && !errors.Is(err, errNoToken) {
		return storeFault(o.Name, err)
	}
	if r == nil || o.tokens.revoked(ctx, x, r) {
		return invalid
	}
	if r.expired(o.now()) {
		return o.fault(400, "refresh_token_expired", "keymanagement.service.refresh_token_expired", "Refresh Token expired", "invalid_grant")
	}
	if id, _, ok := basicAuth(x); ok && id != r.ClientID {
		return invalid
	}
	c, f := o.clientByID(r.ClientID)
	if f != nil {
		return f
	}
	if old, err := o.tokens.get(ctx, x, kindAccess, r.AccessToken); err == nil {
		old.Status = "revoked"
		_ = o.tokens.put(ctx, x, kindAccess, r.AccessToken, old)
	}
	rec := o.newRecord(x, c, r.GrantType, r.Scope)
	rec.Attributes, rec.AppEndUser, rec.RefreshCount = r.Attributes, r.AppEndUser, r.RefreshCount+1
	if o.ReuseRefreshToken {
		rec.RefreshToken, rec.RefreshIssuedAt, rec.RefreshExpiresAt = rt, r.IssuedAt, r.ExpiresAt
	} else {
		r.Status = "revoked"
		if err := o.tokens.put(ctx, x, kindRefresh, rt, r); err != nil {
			return storeFault(o.Name, err)
		}
	}
	return o.issue(ctx, x, rec, true)
}

func (o *OAuthV2) clientByID(id string) (*apiproduct.Credential, *Fault) {
	c, ok := o.reg.Credential(id)
	if !ok {
		return nil, o.fault(401, "invalid_client", "steps.oauth.v2.invalid_client", "ClientId is Invalid", "invalid_client")
	}
	if err := c.Check(o.now()); err != nil {
		f := credentialFault(err)
		return nil, o.fault(401, f.Name, f.Code, f.FaultString, "invalid_client")
	}
	return c, nil
}

// authorize is GenerateAuthorizationCode: client_id, response_type=code,
// redirect_uri (the app's callback URL when absent), scope and state; with
// GenerateResponse a 302 to the redirect URI with code and state.
func (o *OAuthV2) authorize(ctx context.Context, x *exchange.Exchange) error {
	id := o.param(x, "ClientId", "client_id")
	if id == "" {
		return o.fault(400, "invalid_request", "steps.oauth.v2.invalid_request", "Required param : client_id", "invalid_request")
	}
	if rt := o.param(x, "ResponseType", "response_type"); rt != "code" {
		return o.fault(400, "unsupported_response_type", "steps.oauth.v2.unsupported_response_type", "Unsupported response type : "+rt, "unsupported_response_type")
	}
	c, f := o.clientByID(id)
	if f != nil {
		return f
	}
	redirect := o.param(x, "RedirectUri", "redirect_uri")
	if redirect == "" {
		redirect = c.App.CallbackURL
	} else if c.App.CallbackURL != "" && redirect != c.App.CallbackURL {
		return o.fault(400, "invalid_request-redirect_uri_mismatch", "steps.oauth.v2.invalid_request", "Redirection URI mismatch", "invalid_request")
	}
	scope, f := o.grantedScope(x, c, o.requestedScope(x))
	if f != nil {
		return f
	}
	rec := o.newRecord(x, c, "authorization_code", scope)
	rec.RedirectURI, rec.State = redirect, o.param(x, "State", "state")
	rec.ExpiresAt = rec.IssuedAt + o.ExpiresIn.value(x)
	code := apiproduct.RandomString(8)
	if err := o.tokens.put(ctx, x, kindCode, code, rec); err != nil {
		return storeFault(o.Name, err)
	}
	setTokenVars(x, "oauthv2authcode."+o.Name+".", kindCode, code, rec, o.now())
	if o.GenerateResponse {
		loc := redirect + map[bool]string{true: "&", false: "?"}[strings.Contains(redirect, "?")] + "code=" + code
		if rec.State != "" {
			loc += "&state=" + urlQueryEscape(rec.State)
		}
		respond(x, http.StatusFound, "", nil).Header.Set("Location", loc)
	}
	return nil
}

// setStatus is InvalidateToken (revoke) and ValidateToken (approve again);
// cascade extends it to the paired access or refresh token.
func (o *OAuthV2) setStatus(ctx context.Context, x *exchange.Exchange) error {
	status := map[bool]string{true: "revoked", false: "approved"}[o.Operation == "InvalidateToken"]
	for _, t := range o.Tokens {
		tok, _ := x.GetString(t.ref)
		kind, pairKind := kindAccess, kindRefresh
		if t.refresh {
			kind, pairKind = kindRefresh, kindAccess
		}
		r, err := o.tokens.get(ctx, x, kind, tok)
		if errors.Is(err, errNoToken) {
			if t.refresh {
				return o.fault(401, "invalid_refresh_token", "keymanagement.service.invalid_refresh_token", "Invalid Refresh Token", "")
			}
			return o.fault(401, "invalid_access_token", "keymanagement.service.invalid_access_token", "Invalid Access Token", "")
		}
		if err != nil {
			return storeFault(o.Name, err)
		}
		r.Status = status
		if err := o.tokens.put(ctx, x, kind, tok, r); err != nil {
			return storeFault(o.Name, err)
		}
		pair := map[bool]string{true: r.AccessToken, false: r.RefreshToken}[t.refresh]
		if t.cascade && pair != "" {
			if pr, err := o.tokens.get(ctx, x, pairKind, pair); err == nil {
				pr.Status = status
				_ = o.tokens.put(ctx, x, pairKind, pair, pr)
			}
		}
	}
	return nil
}

// jsonObject writes Apigee's token response: keys in a fixed order, string
// values, laid out as Apigee prints it ("key" : "value").
type jsonObject struct{ buf []byte }

func newJSONObject() *jsonObject { return &jsonObject{buf: []byte("{\n")} }

func (j *jsonObject) add(key, value string) {
	j.addRaw(key, jsonString(value))
}

func (j *jsonObject) addRaw(key, raw string) {
	if len(j.buf) > 2 {
		j.buf = append(j.buf, ",\n"...)
	}
	j.buf = append(j.buf, "  "...)
	j.buf = append(j.buf, jsonString(key)...)
	j.buf = append(j.buf, " : "...)
	j.buf = append(j.buf, raw...)
}

func (j *jsonObject) bytes() []byte { return append(j.buf, "\n}"...) }

func jsonStrings(ss []string) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = jsonString(s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// jsonString is s as a JSON string literal.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
