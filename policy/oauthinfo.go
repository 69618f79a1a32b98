package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/apiproduct"
	"github.com/apigo/apigo/policy/exchange"
	"github.com/apigo/apigo/store"
)

func init() {
	Register("GetOAuthV2Info", "getoauthv2info", buildGetOAuthV2Info)
	Register("SetOAuthV2Info", "setoauthv2info", buildSetOAuthV2Info)
	Register("RevokeOAuthV2", "revokeoauthv2", buildRevokeOAuthV2)
}

// Token kinds, as the store keys spell them.
const (
	kindAccess  = "at"
	kindRefresh = "rt"
	kindCode    = "code"
)

// expiredGrace is how long an expired token or code stays in the store, so
// that using it reports "expired" rather than "invalid" [?].
const expiredGrace = time.Hour

// tokenRecord is what the store keeps per access token, refresh token or
// authorization code (JSON), shared by every apigo instance on the store.
type tokenRecord struct {
	ClientID       string     `json:"client_id"`
	AppID          string     `json:"app_id"`
	AppName        string     `json:"app_name"`
	DeveloperEmail string     `json:"developer_email"`
	DeveloperID    string     `json:"developer_id"`
	Products       []string   `json:"products"`
	Scope          string     `json:"scope"`
	GrantType      string     `json:"grant_type,omitempty"`
	IssuedAt       int64      `json:"issued_at"`  // epoch ms
	ExpiresAt      int64      `json:"expires_at"` // epoch ms; 0 never
	Status         string     `json:"status"`     // approved | revoked
	Attributes     []kvString `json:"attributes,omitempty"`
	AppEndUser     string     `json:"app_enduser,omitempty"`
	// Access tokens: their refresh token and its expiry; refresh tokens:
	// their access token.
	RefreshToken     string `json:"refresh_token,omitempty"`
	RefreshExpiresAt int64  `json:"refresh_expires_at,omitempty"`
	RefreshIssuedAt  int64  `json:"refresh_issued_at,omitempty"`
	AccessToken      string `json:"access_token,omitempty"`
	RefreshCount     int    `json:"refresh_count,omitempty"`
	// Authorization codes.
	RedirectURI string `json:"redirect_uri,omitempty"`
	State       string `json:"state,omitempty"`
}

type kvString struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	Display bool   `json:"display,omitempty"`
}

func (r *tokenRecord) expired(now time.Time) bool {
	return r.ExpiresAt > 0 && now.UnixMilli() >= r.ExpiresAt
}

// attr returns a custom attribute's value.
func (r *tokenRecord) attr(name string) (string, bool) {
	for _, a := range r.Attributes {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

// tokenStore keeps token records in the store's cache, under
// oauthv2:<org>:<kind>:<token>.
type tokenStore struct {
	st  store.Store
	now func() time.Time
}

func tokenKey(x *exchange.Exchange, kind, token string) string {
	org, _ := x.GetString("organization.name")
	return "oauthv2:" + org + ":" + kind + ":" + token
}

var errNoToken = errors.New("no such token")

func (ts tokenStore) get(ctx context.Context, x *exchange.Exchange, kind, token string) (*tokenRecord, error) {
	if token == "" {
		return nil, errNoToken
	}
	b, ok, err := ts.st.Get(ctx, tokenKey(x, kind, token))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errNoToken
	}
	var r tokenRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, errNoToken
	}
	return &r, nil
}

// put stores r until it has been expired for expiredGrace (forever when it
// never expires).
func (ts tokenStore) put(ctx context.Context, x *exchange.Exchange, kind, token string, r *tokenRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	var ttl time.Duration
	if r.ExpiresAt > 0 {
		ttl = time.UnixMilli(r.ExpiresAt).Sub(ts.now()) + expiredGrace
		if ttl <= 0 {
			ttl = time.Millisecond
		}
	}
	return ts.st.Set(ctx, tokenKey(x, kind, token), b, ttl)
}

// revokedBefore returns the RevokeOAuthV2 cut-off (epoch ms) of an app or
// end user, 0 when none.
func (ts tokenStore) revokedBefore(ctx context.Context, x *exchange.Exchange, what, id string) int64 {
	if id == "" {
		return 0
	}
	b, ok, err := ts.st.Get(ctx, tokenKey(x, "revoked-"+what, id))
	if err != nil || !ok {
		return 0
	}
	n, _ := strconv.ParseInt(string(b), 10, 64)
	return n
}

// revoked reports whether RevokeOAuthV2 revoked r's app or end user after
// r was issued.
func (ts tokenStore) revoked(ctx context.Context, x *exchange.Exchange, r *tokenRecord) bool {
	if r.Status != "approved" {
		return true
	}
	return r.IssuedAt < ts.revokedBefore(ctx, x, "app", r.AppID) || r.IssuedAt < ts.revokedBefore(ctx, x, "user", r.AppEndUser)
}

// storeFault is the 500 fault of a store that cannot be reached.
func storeFault(policyName string, err error) *Fault {
	return &Fault{Name: "ExecutionFailed", Code: "steps.oauth.v2.ExecutionFailed", Status: http.StatusInternalServerError,
		FaultString: "Execution of " + policyName + " failed: token store unavailable", Source: "policy", Policy: policyName, Cause: err}
}

// infoRefs are the <AccessToken>, <ClientId>, <AuthorizationCode> and
// <RefreshToken> elements of GetOAuthV2Info/SetOAuthV2Info: each names its
// variable with ref=, or holds the value as text.
type infoRefs struct {
	accessToken, clientID, code, refreshToken *valueRef
}

// valueRef is an element whose value is a variable (ref=) or its text.
type valueRef struct {
	ref, text string
}

func (v *valueRef) value(x *exchange.Exchange) (string, bool) {
	if v.ref != "" {
		if s, ok := x.GetString(v.ref); ok && s != "" {
			return s, true
		}
		if v.text == "" {
			return "", false
		}
	}
	return v.text, v.text != ""
}

func (v *valueRef) String() string { return orString(v.ref, v.text) }

func parseValueRef(bc *BuildContext, p *bundle.Policy, tag string) *valueRef {
	el := p.Element.SelectElement(tag)
	if el == nil {
		return nil
	}
	v := &valueRef{ref: strings.TrimSpace(el.SelectAttrValue("ref", "")), text: strings.TrimSpace(el.Text())}
	if v.ref == "" && v.text == "" {
		bc.Problems.Errorf(p.Doc.Pos(el), "<%s> needs a ref attribute or a value", tag)
		return nil
	}
	return v
}

func parseInfoRefs(bc *BuildContext, p *bundle.Policy) infoRefs {
	return infoRefs{accessToken: parseValueRef(bc, p, "AccessToken"), clientID: parseValueRef(bc, p, "ClientId"),
		code: parseValueRef(bc, p, "AuthorizationCode"), refreshToken: parseValueRef(bc, p, "RefreshToken")}
}

// GetOAuthV2Info is a built <GetOAuthV2Info>: it looks up one access token,
// refresh token, authorization code or client ID and sets
// oauthv2accesstoken.<name>.*, oauthv2refreshtoken.<name>.*,
// oauthv2authcode.<name>.* or oauthv2client.<name>.*. Failures are 500
// faults as Apigee's policy reference lists them.
type GetOAuthV2Info struct {
	Name   string
	refs   infoRefs
	tokens tokenStore
	reg    *apiproduct.Registry
}

func buildGetOAuthV2Info(bc *BuildContext, p *bundle.Policy) Policy {
	before := countErrors(bc.Problems)
	g := &GetOAuthV2Info{Name: p.Name, refs: parseInfoRefs(bc, p), tokens: tokenStore{bc.Store, bc.Now}, reg: apiproduct.For(bc.Data)}
	if countErrors(bc.Problems) > before {
		return nil
	}
	if g.refs == (infoRefs{}) {
		bc.Problems.Errorf(p.Doc.Pos(p.Element), "<GetOAuthV2Info> needs one of <AccessToken>, <ClientId>, <AuthorizationCode>, <RefreshToken>")
		return nil
	}
	return g
}

// Execute looks the token up and sets its variables.
func (g *GetOAuthV2Info) Execute(ctx context.Context, x *exchange.Exchange) error {
	switch {
	case g.refs.accessToken != nil:
		return g.token(ctx, x, kindAccess, g.refs.accessToken, "oauthv2accesstoken.")
	case g.refs.refreshToken != nil:
		return g.token(ctx, x, kindRefresh, g.refs.refreshToken, "oauthv2refreshtoken.")
	case g.refs.code != nil:
		return g.token(ctx, x, kindCode, g.refs.code, "oauthv2authcode.")
	}
	id, ok := g.refs.clientID.value(x)
	c, known := g.reg.Credential(id)
	if !ok || !known {
		return infoFault(g.Name, "invalid_client-invalid_client_id", "Invalid Client Id")
	}
	p := "oauthv2client." + g.Name + "."
	setOut(x, p+"client_id", c.ConsumerKey)
	x.SetSystem(p+"client_secret", c.ConsumerSecret)
	setOut(x, p+"redirection_uris", c.App.CallbackURL)
	setOut(x, p+"developer.email", c.App.Developer.Email)
	setOut(x, p+"developer.id", c.App.Developer.ID)
	setOut(x, p+"developer.app.name", c.App.Name)
	setAttrs(x, p, c.App.Attributes)
	return nil
}

func (g *GetOAuthV2Info) token(ctx context.Context, x *exchange.Exchange, kind string, ref *valueRef, prefix string) error {
	tok, _ := ref.value(x)
	r, err := g.tokens.get(ctx, x, kind, tok)
	if err != nil && !errors.Is(err, errNoToken) {
		return storeFault(g.Name, err)
	}
	names := map[string][2]string{
		kindAccess:  {"invalid_access_token", "Invalid Access Token"},
		kindRefresh: {"invalid_refresh_token", "Invalid Refresh Token"},
		kindCode:    {"invalid_request-authorization_code_invalid", "Invalid Authorization Code"},
	}
	if r == nil || g.tokens.revoked(ctx, x, r) && kind != kindAccess {
		return infoFault(g.Name, names[kind][0], names[kind][1])
	}
	if r.expired(g.tokens.now()) {
		expired := map[string][2]string{
			kindAccess:  {"access_token_expired", "Access Token expired"},
			kindRefresh: {"refresh_token_expired", "Refresh Token expired"},
			kindCode:    {"invalid_request-authorization_code_expired", "Authorization Code expired"},
		}
		return infoFault(g.Name, expired[kind][0], expired[kind][1])
	}
	setTokenVars(x, prefix+g.Name+".", kind, tok, r, g.tokens.now())
	return nil
}

// infoFault is a GetOAuthV2Info/SetOAuthV2Info failure: 500 with
// steps.oauth.v2.<name> (Apigee's policy reference).
func infoFault(policyName, name, faultString string) *Fault {
	return &Fault{Name: name, Code: "steps.oauth.v2." + name, FaultString: faultString,
		Status: http.StatusInternalServerError, Source: "policy", Policy: policyName}
}

// setTokenVars sets a token record's variables under prefix (the token
// itself through SetSystem: traces never show it).
func setTokenVars(x *exchange.Exchange, prefix, kind, tok string, r *tokenRecord, now time.Time) {
	switch kind {
	case kindAccess:
		x.SetSystem(prefix+"access_token", tok)
		x.SetSystem(prefix+"refresh_token", r.RefreshToken)
	case kindRefresh:
		x.SetSystem(prefix+"refresh_token", tok)
	case kindCode:
		x.SetSystem(prefix+"code", tok)
		setOut(x, prefix+"redirect_uri", r.RedirectURI)
		setOut(x, prefix+"state", r.State)
	}
	setOut(x, prefix+"client_id", r.ClientID)
	setOut(x, prefix+"developer.email", r.DeveloperEmail)
	setOut(x, prefix+"developer.id", r.DeveloperID)
	setOut(x, prefix+"developer.app.name", r.AppName)
	setOut(x, prefix+"scope", r.Scope)
	setOut(x, prefix+"status", r.Status)
	setOut(x, prefix+"issued_at", itoa64(r.IssuedAt))
	setOut(x, prefix+"expires_in", strconv.FormatInt(secondsLeft(r.ExpiresAt, now), 10))
	setOut(x, prefix+"api_product_list", "["+strings.Join(r.Products, ", ")+"]")
	setOut(x, prefix+"refresh_count", strconv.Itoa(r.RefreshCount))
	for _, a := range r.Attributes {
		setOut(x, prefix+"accesstoken."+a.Name, a.Value)
	}
}

// secondsLeft is the lifetime left in whole seconds; -1 for never.
func secondsLeft(expiresAt int64, now time.Time) int64 {
	if expiresAt <= 0 {
		return -1
	}
	if left := (expiresAt - now.UnixMilli()) / 1000; left > 0 {
		return left
	}
	return 0
}

// SetOAuthV2Info is a built <SetOAuthV2Info>: it adds or replaces custom
// attributes of an access token (<Attributes><Attribute name ref>value).
type SetOAuthV2Info struct {
	Name        string
	accessToken *valueRef
	attrs       []tokenAttr
	tokens      tokenStore
}

func buildSetOAuthV2Info(bc *BuildContext, p *bundle.Policy) Policy {
	before := countErrors(bc.Problems)
	s := &SetOAuthV2Info{Name: p.Name, accessToken: parseValueRef(bc, p, "AccessToken"), tokens: tokenStore{bc.Store, bc.Now}}
	s.attrs = parseTokenAttrs(bc, p)
	if s.accessToken == nil && countErrors(bc.Problems) == before {
		bc.Problems.Errorf(p.Doc.Pos(p.Element), "<SetOAuthV2Info> needs <AccessToken ref=\"...\"/>")
	}
	if countErrors(bc.Problems) > before {
		return nil
	}
	return s
}

// Execute updates the token's attributes in the store.
func (s *SetOAuthV2Info) Execute(ctx context.Context, x *exchange.Exchange) error {
	tok, _ := s.accessToken.value(x)
	r, err := s.tokens.get(ctx, x, kindAccess, tok)
	if err != nil && !errors.Is(err, errNoToken) {
		return storeFault(s.Name, err)
	}
	if r == nil {
		return infoFault(s.Name, "invalid_access_token", "Invalid Access Token")
	}
	if r.expired(s.tokens.now()) {
		return infoFault(s.Name, "access_token_expired", "Access Token expired")
	}
	for _, a := range s.attrs {
		v := a.value(x)
		replaced := false
		for i := range r.Attributes {
			if r.Attributes[i].Name == a.name {
				r.Attributes[i].Value, replaced = v, true
			}
		}
		if !replaced {
			r.Attributes = append(r.Attributes, kvString{Name: a.name, Value: v, Display: a.display})
		}
	}
	if err := s.tokens.put(ctx, x, kindAccess, tok, r); err != nil {
		return storeFault(s.Name, err)
	}
	setTokenVars(x, "oauthv2accesstoken."+s.Name+".", kindAccess, tok, r, s.tokens.now())
	return nil
}

// RevokeOAuthV2 is a built <RevokeOAuthV2> (Apigee X): it revokes every
// token issued to an app (<AppId>) and/or an end user (<EndUserId>) before
// now (or <RevokeBeforeTimestamp>, epoch ms). The cut-off is kept in the
// store; VerifyAccessToken then answers access_token_not_approved.
type RevokeOAuthV2 struct {
	Name                   string
	appID, endUser, before *valueRef
	tokens                 tokenStore
}

func buildRevokeOAuthV2(bc *BuildContext, p *bundle.Policy) Policy {
	before := countErrors(bc.Problems)
	r := &RevokeOAuthV2{Name: p.Name, appID: parseValueRef(bc, p, "AppId"), endUser: parseValueRef(bc, p, "EndUserId"),
		before: parseValueRef(bc, p, "RevokeBeforeTimestamp"), tokens: tokenStore{bc.Store, bc.Now}}
	if r.appID == nil && r.endUser == nil && countErrors(bc.Problems) == before {
		bc.Problems.Errorf(p.Doc.Pos(p.Element), "<RevokeOAuthV2> needs <AppId> or <EndUserId>")
	}
	if countErrors(bc.Problems) > before {
		return nil
	}
	return r
}

// Execute records the cut-off.
func (r *RevokeOAuthV2) Execute(ctx context.Context, x *exchange.Exchange) error {
	cut := r.tokens.now().UnixMilli() + 1
	if r.before != nil {
		if s, ok := r.before.value(x); ok {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return &Fault{Name: "InvalidInput", Code: "steps.oauth.v2.InvalidInput", Status: http.StatusInternalServerError,
					FaultString: fmt.Sprintf("RevokeBeforeTimestamp %q is not epoch milliseconds", s), Source: "policy", Policy: r.Name}
			}
			cut = n
		}
	}
	done := false
	for what, ref := range map[string]*valueRef{"app": r.appID, "user": r.endUser} {
		if ref == nil {
			continue
		}
		id, ok := ref.value(x)
		if !ok {
			continue
		}
		if err := r.tokens.st.Set(ctx, tokenKey(x, "revoked-"+what, id), []byte(strconv.FormatInt(cut, 10)), 0); err != nil {
			return storeFault(r.Name, err)
		}
		done = true
	}
	if !done {
		return &Fault{Name: "InvalidInput", Code: "steps.oauth.v2.InvalidInput", Status: http.StatusInternalServerError,
			FaultString: "Neither AppId nor EndUserId resolved", Source: "policy", Policy: r.Name}
	}
	return nil
}
