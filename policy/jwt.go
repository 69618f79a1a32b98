package policy

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
	"github.com/apigo/apigo/policy/jose"
)

func init() {
	Register("GenerateJWT", "jwt", buildGenerateJWT)
	Register("VerifyJWT", "jwt", buildVerifyJWT)
	Register("DecodeJWT", "jwt", buildDecodeJWT)
}

// joseDecorative are the decorative children every JWT/JWS policy may have.
var joseDecorative = map[string]bool{
	"DisplayName": true, "Description": true, "Properties": true, "FaultRules": true,
}

// joseBuild compiles the children the JWT and JWS policies share. prefix
// is "jwt" or "jws", kind the root element name.
type joseBuild struct {
	bc     *BuildContext
	p      *bundle.Policy
	prefix string
}

func (b *joseBuild) errorf(el *etree.Element, format string, args ...any) {
	b.bc.Problems.Errorf(b.p.Doc.Pos(el), format, args...)
}

func (b *joseBuild) warnUnknown(el *etree.Element) {
	if !joseDecorative[el.Tag] {
		b.bc.Problems.Warnf(b.p.Doc.Pos(el), "unknown element <%s> in <%s>, ignored", el.Tag, b.p.Type)
	}
}

// joseValue is an element whose value is a flow variable (ref attribute)
// or its literal text.
type joseValue struct {
	ref, lit string
	set      bool
}

func (b *joseBuild) value(el *etree.Element) joseValue {
	return joseValue{ref: strings.TrimSpace(el.SelectAttrValue("ref", "")), lit: strings.TrimSpace(el.Text()), set: true}
}

// resolve returns the value; ok is false when the ref is unresolved (the
// literal, when both are given, is then the fallback).
func (v joseValue) resolve(x *exchange.Exchange) (val any, ok bool) {
	if v.ref != "" {
		if got, found := x.Lookup(v.ref); found && got != nil {
			return got, true
		}
		if v.lit != "" {
			return v.lit, true
		}
		return nil, false
	}
	return v.lit, true
}

func (v joseValue) text(x *exchange.Exchange) (string, bool) {
	val, ok := v.resolve(x)
	return strings.TrimSpace(jose.Stringify(val)), ok
}

// joseKey is a SecretKey, PrivateKey or PublicKey element.
type joseKey struct {
	value, id, password, cert, jwks joseValue
	encoding                        string
	jwksURI                         string // JWKS uri attribute
	present                         bool
}

func (b *joseBuild) key(el *etree.Element, allowed ...string) joseKey {
	k := joseKey{present: true, encoding: strings.TrimSpace(el.SelectAttrValue("encoding", ""))}
	if k.encoding != "" {
		if _, err := jose.DecodeSecret("", k.encoding); err != nil {
			b.errorf(el, "<%s encoding=%q>: %v", el.Tag, k.encoding, err)
		}
	}
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	for _, ch := range el.ChildElements() {
		if !ok[ch.Tag] {
			b.bc.Problems.Warnf(b.p.Doc.Pos(ch), "unknown element <%s> in <%s>, ignored", ch.Tag, el.Tag)
			continue
		}
		switch ch.Tag {
		case "Value":
			k.value = b.value(ch)
		case "Id":
			k.id = b.value(ch)
		case "Password":
			k.password = b.value(ch)
		case "Certificate":
			k.cert = b.value(ch)
		case "JWKS":
			k.jwks = b.value(ch)
			k.jwksURI = strings.TrimSpace(ch.SelectAttrValue("uri", ""))
			if r := strings.TrimSpace(ch.SelectAttrValue("uriRef", "")); r != "" {
				k.jwksURI = "{" + r + "}" // the URI is that variable's value
			}
			if k.jwksURI != "" {
				k.jwks = joseValue{set: true}
			}
		}
	}
	return k
}

// algorithms reads <Algorithm> (a comma-separated list when many is true).
func (b *joseBuild) algorithms(el *etree.Element, many bool) []jose.Algorithm {
	algs, err := jose.ParseAlgorithmList(strings.TrimSpace(el.Text()))
	switch {
	case err != nil:
		b.errorf(el, "<Algorithm>: %v", err)
		return nil
	case !many && len(algs) > 1:
		b.errorf(el, "<Algorithm>: %s signs with one algorithm", b.p.Type)
		return nil
	}
	return algs
}

// checkKeys reports a missing or unsuitable key element for algs: HS*
// need SecretKey, the others PrivateKey (to sign) or PublicKey (to
// verify).
func (b *joseBuild) checkKeys(algs []jose.Algorithm, secret, asym joseKey, asymTag string) {
	if len(algs) == 0 {
		b.errorf(b.p.Element, "<%s> needs an <Algorithm>", b.p.Type)
		return
	}
	if algs[0].Family == jose.HMAC {
		if !secret.present || !secret.value.set {
			b.errorf(b.p.Element, "<%s> with %s needs <SecretKey><Value ref=\"...\"/></SecretKey>", b.p.Type, algs[0].Name)
		}
		return
	}
	if !asym.present {
		b.errorf(b.p.Element, "<%s> with %s needs <%s>", b.p.Type, algs[0].Name, asymTag)
	}
}

// joseClaim is one <Claim> of AdditionalClaims or AdditionalHeaders.
type joseClaim struct {
	name  string
	value joseValue
	typ   jose.ClaimType
	array bool
}

// joseClaims is an AdditionalClaims or AdditionalHeaders element.
type joseClaims struct {
	claims []joseClaim
	ref    string // the element's ref: a map or JSON object of claims
}

func (b *joseBuild) claims(el *etree.Element) joseClaims {
	cs := joseClaims{ref: strings.TrimSpace(el.SelectAttrValue("ref", ""))}
	for _, ch := range el.ChildElements() {
		if ch.Tag != "Claim" {
			b.bc.Problems.Warnf(b.p.Doc.Pos(ch), "unknown element <%s> in <%s>, ignored", ch.Tag, el.Tag)
			continue
		}
		c := joseClaim{name: strings.TrimSpace(ch.SelectAttrValue("name", "")), value: b.value(ch)}
		if c.name == "" {
			b.errorf(ch, "<Claim> needs a name attribute")
			continue
		}
		t, err := jose.ParseClaimType(ch.SelectAttrValue("type", ""))
		if err != nil {
			b.errorf(ch, "<Claim name=%q>: %v", c.name, err)
		}
		c.typ = t
		if a := ch.SelectAttr("array"); a != nil {
			c.array = parseBoolAttr(b.bc, b.p, ch, a)
		}
		cs.claims = append(cs.claims, c)
	}
	return cs
}

// resolveClaims evaluates the claims; unresolved lists the variables that
// did not resolve (their claims are left out).
func (cs joseClaims) resolve(x *exchange.Exchange) (map[string]any, []string, error) {
	out := map[string]any{}
	var unresolved []string
	if cs.ref != "" {
		v, ok := x.Lookup(cs.ref)
		if !ok || v == nil {
			unresolved = append(unresolved, cs.ref)
		} else if err := mergeJoseClaims(out, v); err != nil {
			return nil, nil, err
		}
	}
	for _, c := range cs.claims {
		v, ok := c.value.resolve(x)
		if !ok {
			unresolved = append(unresolved, c.value.ref)
			continue
		}
		cv, err := jose.ClaimValue(v, c.typ, c.array)
		if err != nil {
			return nil, nil, &joseClaimError{name: c.name, err: err}
		}
		out[c.name] = cv
	}
	return out, unresolved, nil
}

type joseClaimError struct {
	name string
	err  error
}

func (e *joseClaimError) Error() string { return "claim " + e.name + ": " + e.err.Error() }

func mergeJoseClaims(out map[string]any, v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		obj, err := jose.DecodeJSON([]byte(jose.Stringify(v)))
		if m, ok = obj.(map[string]any); err != nil || !ok {
			return &joseClaimError{name: "(ref)", err: errJoseNotObject}
		}
	}
	for k, val := range m {
		out[k] = val
	}
	return nil
}

var errJoseNotObject = &joseNotObjectError{}

type joseNotObjectError struct{}

func (*joseNotObjectError) Error() string { return "the referenced variable is not a JSON object" }

// joseFault is a JWT/JWS fault: steps.<prefix>.<name>, 401 unless status
// says otherwise.
func joseFault(prefix, policyName, name, text string, status int, cause error) *Fault {
	if status == 0 {
		status = http.StatusUnauthorized
	}
	return &Fault{
		Name: name, Code: "steps." + prefix + "." + name, FaultString: text,
		Status: status, Source: "policy", Policy: policyName, Cause: cause,
	}
}

// setJoseVars writes vars under <prefix>.<policy>. (policy-owned names, so
// the write cannot be refused).
func setJoseVars(x *exchange.Exchange, base string, vars map[string]any) {
	for k, v := range vars {
		x.SetSystem(base+k, v)
	}
}

// joseSource reads the token from a Source variable ("" means
// request.header.authorization), dropping a "Bearer " prefix.
type joseSource struct {
	variable string
}

func (b *joseBuild) source(el *etree.Element) joseSource {
	name := strings.TrimSpace(el.Text())
	if name == "" {
		b.errorf(el, "empty <Source>: name the variable holding the token, or leave <Source> out for the Authorization header")
	}
	return joseSource{variable: name}
}

func (s joseSource) name() string {
	if s.variable == "" {
		return "request.header.authorization"
	}
	return s.variable
}

// read returns the token text; ok is false when the variable is unset or
// empty.
func (s joseSource) read(x *exchange.Exchange) (string, bool) {
	v, ok := x.Lookup(s.name())
	if !ok || v == nil {
		return "", false
	}
	t := strings.TrimSpace(jose.Stringify(v))
	if len(t) > 7 && strings.EqualFold(t[:7], "bearer ") {
		t = strings.TrimSpace(t[7:])
	}
	return t, t != ""
}

// clock returns the build context's clock as a function kept by a policy.
func joseClock(bc *BuildContext) func() time.Time { return bc.Now }

// DecodeJWT is a built <DecodeJWT>: it decodes a JWT without verifying it
// and sets jwt.<name>.decoded.*, .header.*, .claim.* and the expiry
// variables. Faults (401): steps.jwt.FailedToResolveVariable when the
// source is unset, steps.jwt.FailedToDecode ("Failed to Decode Token:
// policy(<name>)") when it is not a JWT.
type DecodeJWT struct {
	Name   string
	Source joseSource
	now    func() time.Time
}

func buildDecodeJWT(bc *BuildContext, p *bundle.Policy) Policy {
	src, ok := (&joseBuild{bc: bc, p: p, prefix: "jwt"}).decodeSource()
	if !ok {
		return nil
	}
	return &DecodeJWT{Name: p.Name, Source: src, now: joseClock(bc)}
}

// decodeSource reads what DecodeJWT and DecodeJWS take: a Source and
// IgnoreUnresolvedVariables. ok is false when the element had errors.
func (b *joseBuild) decodeSource() (src joseSource, ok bool) {
	before := countErrors(b.bc.Problems)
	for _, el := range b.p.Element.ChildElements() {
		switch el.Tag {
		case "Source":
			src = b.source(el)
		case "IgnoreUnresolvedVariables":
			boolText(b.bc, b.p.Doc, el)
		default:
			b.warnUnknown(el)
		}
	}
	return src, countErrors(b.bc.Problems) == before
}

// Execute decodes the token.
func (d *DecodeJWT) Execute(_ context.Context, x *exchange.Exchange) error {
	if _, f := decodeJoseToken(x, d.Source, "jwt", d.Name, d.now()); f != nil {
		return f
	}
	return nil
}

// decodeJoseToken reads, parses and publishes a token (JWT when prefix is
// "jwt": claims too).
func decodeJoseToken(x *exchange.Exchange, src joseSource, prefix, name string, now time.Time) (*jose.Token, *Fault) {
	base := prefix + "." + name + "."
	raw, ok := src.read(x)
	if !ok {
		return nil, joseFault(prefix, name, "FailedToResolveVariable",
			"Failed to Resolve Variable : policy("+name+") variable("+src.name()+")", 0, nil)
	}
	t, err := jose.Parse(raw)
	if err == nil && prefix == "jwt" && t.Claims == nil {
		err = jose.ErrMalformed
	}
	if err != nil {
		x.SetSystem(base+"error", "Failed to Decode Token")
		return nil, joseFault(prefix, name, "FailedToDecode", "Failed to Decode Token: policy("+name+")", 0, err)
	}
	setJoseVars(x, base, jose.HeaderVars(t))
	if prefix == "jwt" {
		setJoseVars(x, base, jose.ClaimVars(t, now))
	}
	return t, nil
}

// GenerateJWT is a built <GenerateJWT>: it signs a JWT with iss, sub, aud,
// iat, exp, nbf, jti and additional claims and headers, and writes it to
// OutputVariable (default jwt.<name>.generated_jwt). Faults (500):
// steps.jwt.FailedToResolveVariable, steps.jwt.KeyParsingFailed,
// steps.jwt.InvalidClaim, steps.jwt.InsufficientKeyLength.
type GenerateJWT struct {
	Name      string
	Algorithm jose.Algorithm
	Output    string
	// ExpiresIn is the lifetime; zero leaves exp out.
	ExpiresIn                        joseValue
	NotBefore                        joseValue
	Subject, Issuer, Audience, JWTID joseValue
	Claims, Headers                  joseClaims
	Critical                         joseValue
	IgnoreUnresolved                 bool
	signer                           joseSigner
	now                              func() time.Time
}

func buildGenerateJWT(bc *BuildContext, p *bundle.Policy) Policy {
	before := countErrors(bc.Problems)
	b := &joseBuild{bc: bc, p: p, prefix: "jwt"}
	g := &GenerateJWT{Name: p.Name, Output: "jwt." + p.Name + ".generated_jwt", now: joseClock(bc)}
	var algs []jose.Algorithm
	for _, el := range p.Element.ChildElements() {
		switch el.Tag {
		case "Algorithm":
			algs = b.algorithms(el, false)
		case "SecretKey":
			g.signer.secret = b.key(el, "Value", "Id")
		case "PrivateKey":
			g.signer.private = b.key(el, "Value", "Id", "Password")
		case "Subject":
			g.Subject = b.value(el)
		case "Issuer":
			g.Issuer = b.value(el)
		case "Audience":
			g.Audience = b.value(el)
		case "Id":
			g.JWTID = b.value(el)
		case "ExpiresIn":
			g.ExpiresIn = b.durationValue(el)
		case "NotBefore":
			g.NotBefore = b.value(el)
		case "AdditionalClaims":
			g.Claims = b.claims(el)
		case "AdditionalHeaders":
			g.Headers = b.claims(el)
		case "CriticalHeaders":
			g.Critical = b.value(el)
		case "OutputVariable":
			g.Output = strings.TrimSpace(el.Text())
		case "IgnoreUnresolvedVariables":
			g.IgnoreUnresolved = boolText(bc, p.Doc, el)
		case "Algorithms", "Compress", "EncryptionKey":
			b.errorf(el, "<%s>: encrypted JWTs (JWE) are not supported", el.Tag)
		default:
			b.warnUnknown(el)
		}
	}
	b.checkKeys(algs, g.signer.secret, g.signer.private, "PrivateKey")
	if countErrors(bc.Problems) > before {
		return nil
	}
	g.Algorithm = algs[0]
	return g
}

// durationValue reads ExpiresIn/TimeAllowance, checking a literal at
// build time.
func (b *joseBuild) durationValue(el *etree.Element) joseValue {
	v := b.value(el)
	if v.ref == "" && v.lit != "" {
		if _, err := jose.ParseDuration(v.lit); err != nil {
			b.errorf(el, "<%s>: %v", el.Tag, err)
		}
	}
	return v
}

// Execute signs the token.
func (g *GenerateJWT) Execute(_ context.Context, x *exchange.Exchange) error {
	now := g.now()
	claims, err := g.claims(x, now)
	if err != nil {
		return err
	}
	headers := map[string]any{"typ": "JWT"}
	if err := g.additional(x, g.Headers, headers); err != nil {
		return err
	}
	payload, merr := jose.MarshalClaims(claims)
	if merr != nil {
		return joseFault("jwt", g.Name, "InvalidClaim", "Invalid Claim: policy("+g.Name+")", 500, merr)
	}
	token, f := g.signer.sign(x, "jwt", g.Name, g.Algorithm, payload, headers, joseCriticalList(x, g.Critical), false, g.IgnoreUnresolved)
	if f != nil {
		return f
	}
	return x.Set(g.Output, token)
}

func (g *GenerateJWT) claims(x *exchange.Exchange, now time.Time) (map[string]any, error) {
	claims := map[string]any{"iat": now.Unix()}
	if err := g.additional(x, g.Claims, claims); err != nil {
		return nil, err
	}
	for _, c := range []struct {
		name string
		v    joseValue
	}{{"iss", g.Issuer}, {"sub", g.Subject}} {
		if s, ok, f := g.text(x, c.v); f != nil {
			return nil, f
		} else if ok && s != "" {
			claims[c.name] = s
		}
	}
	if aud, ok, f := g.list(x, g.Audience); f != nil {
		return nil, f
	} else if ok && len(aud) == 1 {
		claims["aud"] = aud[0]
	} else if ok && len(aud) > 1 {
		claims["aud"] = aud
	}
	if g.JWTID.set {
		id, _, f := g.text(x, g.JWTID)
		if f != nil {
			return nil, f
		}
		if id == "" {
			id = newJTI()
		}
		claims["jti"] = id
	}
	return claims, g.times(x, now, claims)
}

func (g *GenerateJWT) times(x *exchange.Exchange, now time.Time, claims map[string]any) error {
	if s, ok, f := g.text(x, g.ExpiresIn); f != nil {
		return f
	} else if ok && s != "" {
		d, err := jose.ParseDuration(s)
		if err != nil {
			return joseFault("jwt", g.Name, "InvalidExpiresIn", "Invalid ExpiresIn: policy("+g.Name+")", 500, err)
		}
		claims["exp"] = now.Add(d).Unix()
	}
	if g.NotBefore.set {
		s, _, f := g.text(x, g.NotBefore)
		if f != nil {
			return f
		}
		nbf := now
		if s != "" {
			t, err := jose.ParseTime(s, now)
			if err != nil {
				return joseFault("jwt", g.Name, "InvalidNotBefore", "Invalid NotBefore: policy("+g.Name+")", 500, err)
			}
			nbf = t
		}
		claims["nbf"] = nbf.Unix()
	}
	return nil
}

// text resolves v; an unresolved ref faults unless IgnoreUnresolved.
func (g *GenerateJWT) text(x *exchange.Exchange, v joseValue) (string, bool, *Fault) {
	if !v.set {
		return "", false, nil
	}
	s, ok := v.text(x)
	if !ok && !g.IgnoreUnresolved {
		return "", false, unresolvedJOSE("jwt", g.Name, v.ref)
	}
	return s, ok, nil
}

func (g *GenerateJWT) list(x *exchange.Exchange, v joseValue) ([]string, bool, *Fault) {
	if !v.set {
		return nil, false, nil
	}
	val, ok := v.resolve(x)
	if !ok {
		if g.IgnoreUnresolved {
			return nil, false, nil
		}
		return nil, false, unresolvedJOSE("jwt", g.Name, v.ref)
	}
	return joseList(val), true, nil
}

func (g *GenerateJWT) additional(x *exchange.Exchange, cs joseClaims, into map[string]any) error {
	m, unresolved, err := cs.resolve(x)
	if err != nil {
		return joseFault("jwt", g.Name, "InvalidClaim", "Invalid Claim: policy("+g.Name+")", 500, err)
	}
	if len(unresolved) > 0 && !g.IgnoreUnresolved {
		return unresolvedJOSE("jwt", g.Name, unresolved[0])
	}
	for k, v := range m {
		into[k] = v
	}
	return nil
}

// joseList reads a list value: a collection, or text split on commas.
func joseList(v any) []string {
	var out []string
	switch v := v.(type) {
	case []string:
		out = append(out, v...)
	case []any:
		for _, e := range v {
			out = append(out, jose.Stringify(e))
		}
	default:
		for _, s := range strings.Split(jose.Stringify(v), ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func joseCriticalList(x *exchange.Exchange, v joseValue) []string {
	if !v.set {
		return nil
	}
	val, ok := v.resolve(x)
	if !ok {
		return nil
	}
	return joseList(val)
}

func unresolvedJOSE(prefix, name, variable string) *Fault {
	return joseFault(prefix, name, "FailedToResolveVariable",
		"Failed to Resolve Variable : policy("+name+") variable("+variable+")", 500, nil)
}

func newJTI() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// VerifyJWT is a built <VerifyJWT>: it decodes a JWT (publishing the
// jwt.<name>.* variables), checks its algorithm, critical headers,
// signature, times (exp, nbf, iat with TimeAllowance) and claims (Issuer,
// Audience, Subject, AdditionalClaims), and sets jwt.<name>.valid and
// .error. Faults are 401 with errorcode steps.jwt.<Name>.
type VerifyJWT struct {
	Name                      string
	Source                    joseSource
	Issuer, Audience, Subject joseValue
	Claims                    joseClaims
	TimeAllowance             joseValue
	IgnoreIssuedAt            bool
	v                         joseVerifier
	now                       func() time.Time
}

func buildVerifyJWT(bc *BuildContext, p *bundle.Policy) Policy {
	before := countErrors(bc.Problems)
	b := &joseBuild{bc: bc, p: p, prefix: "jwt"}
	vj := &VerifyJWT{Name: p.Name, now: joseClock(bc)}
	for _, el := range p.Element.ChildElements() {
		switch {
		case b.verifierChild(&vj.v, el):
		case el.Tag == "Source":
			vj.Source = b.source(el)
		case el.Tag == "Issuer":
			vj.Issuer = b.value(el)
		case el.Tag == "Audience":
			vj.Audience = b.value(el)
		case el.Tag == "Subject":
			vj.Subject = b.value(el)
		case el.Tag == "AdditionalClaims":
			vj.Claims = b.claims(el)
		case el.Tag == "TimeAllowance":
			vj.TimeAllowance = b.durationValue(el)
		case el.Tag == "IgnoreIssuedAt":
			vj.IgnoreIssuedAt = boolText(bc, p.Doc, el)
		default:
			b.warnUnknown(el)
		}
	}
	b.finishVerifier(&vj.v)
	if countErrors(bc.Problems) > before {
		return nil
	}
	return vj
}

// Execute verifies the token.
func (vj *VerifyJWT) Execute(ctx context.Context, x *exchange.Exchange) error {
	base := "jwt." + vj.Name + "."
	now := vj.now()
	t, f := decodeJoseToken(x, vj.Source, "jwt", vj.Name, now)
	if f != nil {
		f.Status = 401
		return publishJoseResult(x, base, f)
	}
	if f := vj.v.check(ctx, x, t); f != nil {
		return publishJoseResult(x, base, f)
	}
	if f := vj.checkTimes(x, t, now); f != nil {
		return publishJoseResult(x, base, f)
	}
	return publishJoseResult(x, base, vj.checkClaims(x, t))
}

func (vj *VerifyJWT) checkTimes(x *exchange.Exchange, t *jose.Token, now time.Time) *Fault {
	var allow time.Duration
	if s, ok := vj.TimeAllowance.text(x); ok && s != "" {
		d, err := jose.ParseDuration(s)
		if err != nil {
			return vj.v.fault("InvalidTimeAllowance", "Invalid TimeAllowance", err)
		}
		allow = d
	}
	sec := now.Unix()
	a := int64(allow / time.Second)
	for _, c := range []string{"exp", "nbf", "iat"} {
		if v, present := t.Claims[c]; present {
			if _, ok := jose.NumericDate(v); !ok {
				return vj.v.fault("InvalidClaim", "Invalid Claim "+c, nil)
			}
		}
	}
	if exp, ok := jose.NumericDate(t.Claims["exp"]); ok && sec >= exp+a {
		return vj.v.fault("TokenExpired", "The Token has expired", nil)
	}
	if nbf, ok := jose.NumericDate(t.Claims["nbf"]); ok && sec+a < nbf {
		return vj.v.fault("TokenNotYetValid", "The Token is not yet valid", nil)
	}
	if iat, ok := jose.NumericDate(t.Claims["iat"]); ok && !vj.IgnoreIssuedAt && sec+a < iat {
		return vj.v.fault("TokenNotYetValid", "The Token is not yet valid (issued in the future)", nil)
	}
	return nil
}

func (vj *VerifyJWT) checkClaims(x *exchange.Exchange, t *jose.Token) *Fault {
	checks := []struct {
		spec  joseValue
		claim string
		fault string
		text  string
	}{
		{vj.Issuer, "iss", "JwtIssuerMismatch", "Issuer mismatch"},
		{vj.Subject, "sub", "JwtSubjectMismatch", "Subject mismatch"},
		{vj.Audience, "aud", "JwtAudienceMismatch", "Audience mismatch"},
	}
	for _, c := range checks {
		if !c.spec.set {
			continue
		}
		want, ok := c.spec.resolve(x)
		if !ok {
			if vj.v.ignoreUnresolved {
				continue
			}
			return joseUnresolved401(&vj.v, c.spec.ref)
		}
		if !jwtClaimIn(c.claim, t.Claims[c.claim], joseList(want)) {
			return vj.v.fault(c.fault, c.text, nil)
		}
	}
	want, unresolved, err := vj.Claims.resolve(x)
	if err != nil {
		return vj.v.fault("InvalidClaim", "Invalid Claim", err)
	}
	if len(unresolved) > 0 && !vj.v.ignoreUnresolved {
		return joseUnresolved401(&vj.v, unresolved[0])
	}
	for _, name := range jose.SortedKeys(want) {
		got, present := t.Claims[name]
		if !present || !jose.ClaimMatches(got, want[name]) {
			return vj.v.fault("InvalidClaim", "Invalid Claim "+name, nil)
		}
	}
	return nil
}

// jwtClaimIn reports whether a token's iss/sub equals one of wants, or, for
// aud, whether any of the token's audiences is one of wants.
func jwtClaimIn(claim string, got any, wants []string) bool {
	var have []string
	if claim == "aud" {
		have = jose.Audiences(got)
	} else if s, ok := got.(string); ok {
		have = []string{s}
	}
	for _, h := range have {
		for _, w := range wants {
			if h == w {
				return true
			}
		}
	}
	return false
}
