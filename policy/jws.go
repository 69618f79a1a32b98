package policy

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
	"github.com/apigo/apigo/policy/jose"
	"github.com/apigo/apigo/policy/template"
)

func init() {
	Register("GenerateJWS", "jws", buildGenerateJWS)
	Register("VerifyJWS", "jws", buildVerifyJWS)
	Register("DecodeJWS", "jws", buildDecodeJWS)
}

// joseSigner are a generating policy's SecretKey and PrivateKey.
type joseSigner struct {
	secret, private joseKey
	keys            jose.KeyCache
}

// sign resolves the key and signs payload. Key problems fault with 500.
func (s *joseSigner) sign(x *exchange.Exchange, prefix, name string, a jose.Algorithm, payload []byte,
	headers map[string]any, crit []string, detached, ignoreUnresolved bool) (string, *Fault) {
	spec := s.private
	if a.Family == jose.HMAC {
		spec = s.secret
	}
	text, ok := spec.value.text(x)
	if !ok {
		return "", unresolvedJOSE(prefix, name, spec.value.ref)
	}
	var key any
	var err error
	if a.Family == jose.HMAC {
		key, err = jose.DecodeSecret(text, spec.encoding)
	} else {
		pw, _ := spec.password.text(x)
		key, err = s.keys.PrivateKey(text, pw)
	}
	if err != nil {
		return "", joseFault(prefix, name, "KeyParsingFailed", "Failed to parse key: policy("+name+")", 500, err)
	}
	if kid, ok := spec.id.text(x); ok && kid != "" {
		headers["kid"] = kid
	} else if !ok && !ignoreUnresolved {
		return "", unresolvedJOSE(prefix, name, spec.id.ref)
	}
	token, err := jose.Sign(a, key, payload, jose.SignOptions{Headers: headers, Critical: crit, Detached: detached})
	switch {
	case errors.Is(err, jose.ErrKeyLength):
		return "", joseFault(prefix, name, "InsufficientKeyLength", "Insufficient length for key: policy("+name+")", 500, err)
	case errors.Is(err, jose.ErrKeyType):
		return "", joseFault(prefix, name, "WrongKeyType", "Wrong key type: policy("+name+")", 500, err)
	case err != nil:
		return "", joseFault(prefix, name, "KeyParsingFailed", "Failed to parse key: policy("+name+")", 500, err)
	}
	return token, nil
}

// checkLiteral parses a key written in the policy itself (no ref) at
// build time, so a broken one is a positioned load error.
func (b *joseBuild) checkLiteral(v joseValue, what string, parse func(string) error) {
	if !v.set || v.ref != "" || v.lit == "" {
		return
	}
	if err := parse(v.lit); err != nil {
		b.bc.Problems.Errorf(b.p.Doc.Pos(b.p.Element), "<%s>: %v", what, err)
	}
}

// joseVerifier checks a token's algorithm, critical headers and signature:
// what VerifyJWT and VerifyJWS share.
type joseVerifier struct {
	prefix, name     string
	algs             []jose.Algorithm
	secret, public   joseKey
	jwksURI          *template.Template
	fetcher          *jose.Fetcher
	known            joseValue
	ignoreCrit       bool
	ignoreUnresolved bool
	keys             jose.KeyCache
}

func (b *joseBuild) verifierChild(v *joseVerifier, el *etree.Element) bool {
	switch el.Tag {
	case "Algorithm":
		v.algs = b.algorithms(el, true)
	case "SecretKey":
		v.secret = b.key(el, "Value")
	case "PublicKey":
		v.public = b.key(el, "Value", "Certificate", "JWKS")
		if v.public.jwksURI != "" {
			t, err := template.Parse(v.public.jwksURI)
			if err != nil {
				b.errorf(el, "<JWKS uri>: %v", err)
			}
			v.jwksURI = t
		}
	case "KnownHeaders":
		v.known = b.value(el)
	case "IgnoreCriticalHeaders":
		v.ignoreCrit = boolText(b.bc, b.p.Doc, el)
	case "IgnoreUnresolvedVariables":
		v.ignoreUnresolved = boolText(b.bc, b.p.Doc, el)
	case "Algorithms", "PrivateKey", "PasswordKey":
		b.errorf(el, "<%s>: encrypted tokens (JWE) are not supported", el.Tag)
	default:
		return false
	}
	return true
}

func (b *joseBuild) finishVerifier(v *joseVerifier) {
	v.prefix, v.name = b.prefix, b.p.Name
	b.checkKeys(v.algs, v.secret, v.public, "PublicKey")
	if v.public.present && !v.public.value.set && !v.public.cert.set && !v.public.jwks.set {
		b.errorf(b.p.Element, "<PublicKey> needs <Value>, <Certificate> or <JWKS>")
	}
	b.checkLiteral(v.public.value, "PublicKey/Value", func(s string) error { _, err := jose.ParsePublicKey(s); return err })
	b.checkLiteral(v.public.cert, "PublicKey/Certificate", func(s string) error { _, err := jose.ParseCertificate(s); return err })
	b.checkLiteral(v.public.jwks, "PublicKey/JWKS", func(s string) error { _, err := jose.ParseJWKS([]byte(s)); return err })
	opts := b.bc.Options
	v.fetcher = &jose.Fetcher{Now: b.bc.Now}
	if opts != nil {
		v.fetcher.Transport, v.fetcher.MapURL = opts.Target.Transport, opts.Target.MapURL
	}
}

func (v *joseVerifier) fault(name, text string, cause error) *Fault {
	return joseFault(v.prefix, v.name, name, text+": policy("+v.name+")", 0, cause)
}

// check verifies t; nil means the signature is good.
func (v *joseVerifier) check(ctx context.Context, x *exchange.Exchange, t *jose.Token) *Fault {
	alg, ok := jose.LookupAlgorithm(t.Alg())
	if t.Alg() == "" {
		return v.fault("AlgorithmInTokenNotPresent", "Algorithm not present in token header", nil)
	}
	if !ok || !v.allows(alg) {
		return v.fault("AlgorithmMismatch", "Algorithm mismatch", nil)
	}
	if f := v.checkCritical(x, t); f != nil {
		return f
	}
	key, f := v.key(ctx, x, t, alg)
	if f != nil {
		return f
	}
	switch err := jose.Verify(alg, key, t.SigningInput, t.Signature); {
	case errors.Is(err, jose.ErrKeyLength):
		return v.fault("InsufficientKeyLength", "Insufficient length for key", err)
	case errors.Is(err, jose.ErrKeyType):
		return v.fault("KeyParsingFailed", "Failed to parse key", err)
	case err != nil:
		return v.fault("InvalidToken", "Invalid token", err)
	}
	return nil
}

func (v *joseVerifier) allows(a jose.Algorithm) bool {
	for _, x := range v.algs {
		if x.Name == a.Name {
			return true
		}
	}
	return false
}

func (v *joseVerifier) checkCritical(x *exchange.Exchange, t *jose.Token) *Fault {
	crit, ok := t.Critical()
	if !ok {
		return v.fault("InvalidToken", "Invalid token", errors.New("crit is not a non-empty array of strings"))
	}
	if v.ignoreCrit || len(crit) == 0 {
		return nil
	}
	known := map[string]bool{"b64": true}
	if v.known.set {
		if val, ok := v.known.resolve(x); ok {
			for _, n := range joseList(val) {
				known[n] = true
			}
		}
	}
	for _, n := range crit {
		if !known[n] {
			return v.fault("UnhandledCriticalHeader", "Critical header "+n+" not handled", nil)
		}
		if _, present := t.Header[n]; !present {
			return v.fault("InvalidToken", "Invalid token", errors.New("critical header "+n+" is missing"))
		}
	}
	return nil
}

// key resolves the verification key for a.
func (v *joseVerifier) key(ctx context.Context, x *exchange.Exchange, t *jose.Token, a jose.Algorithm) (any, *Fault) {
	if a.Family == jose.HMAC {
		text, ok := v.secret.value.text(x)
		if !ok {
			return nil, joseUnresolved401(v, v.secret.value.ref)
		}
		k, err := jose.DecodeSecret(text, v.secret.encoding)
		if err != nil {
			return nil, v.fault("KeyParsingFailed", "Failed to parse key", err)
		}
		return k, nil
	}
	p := v.public
	switch {
	case p.value.set || p.cert.set:
		spec, parse := p.value, v.keys.PublicKey
		if !p.value.set {
			spec, parse = p.cert, v.keys.Certificate
		}
		text, ok := spec.text(x)
		if !ok {
			return nil, joseUnresolved401(v, spec.ref)
		}
		k, err := parse(text)
		if err != nil {
			return nil, v.fault("KeyParsingFailed", "Failed to parse key", err)
		}
		return k, nil
	}
	return v.jwksKey(ctx, x, t, a)
}

func (v *joseVerifier) jwksKey(ctx context.Context, x *exchange.Exchange, t *jose.Token, a jose.Algorithm) (any, *Fault) {
	if t.Kid() == "" {
		return nil, v.fault("KeyIdMissing", "Key Id is missing in the token header", nil)
	}
	var set *jose.KeySet
	var err error
	if v.jwksURI != nil {
		set, err = v.fetcher.Get(ctx, v.jwksURI.Render(x))
	} else {
		text, ok := v.public.jwks.text(x)
		if !ok {
			return nil, joseUnresolved401(v, v.public.jwks.ref)
		}
		set, err = v.keys.JWKS(text)
	}
	if err != nil {
		return nil, v.fault("KeyParsingFailed", "Failed to parse key", err)
	}
	k, err := jose.SelectKey(set, t.Kid(), a)
	if err != nil {
		return nil, v.fault("NoMatchingPublicKey", "No matching public key found", err)
	}
	return k, nil
}

func joseUnresolved401(v *joseVerifier, variable string) *Fault {
	f := unresolvedJOSE(v.prefix, v.name, variable)
	f.Status = 401
	return f
}

// publishJoseResult sets <prefix>.<name>.valid and .error.
func publishJoseResult(x *exchange.Exchange, base string, f *Fault) error {
	x.SetSystem(base+"valid", f == nil)
	if f != nil {
		msg := f.FaultString
		if f.Cause != nil {
			msg += ": " + f.Cause.Error()
		}
		x.SetSystem(base+"error", msg)
		return f
	}
	return nil
}

// GenerateJWS is a built <GenerateJWS>: it signs a payload (attached, or
// detached with DetachContent) and writes the JWS to OutputVariable
// (default jws.<name>.generated_jws).
type GenerateJWS struct {
	Name             string
	Algorithm        jose.Algorithm
	Payload          joseValue
	Detach           bool
	Headers          joseClaims
	Critical         joseValue
	Output           string
	IgnoreUnresolved bool
	signer           joseSigner
}

func buildGenerateJWS(bc *BuildContext, p *bundle.Policy) Policy {
	before := countErrors(bc.Problems)
	b := &joseBuild{bc: bc, p: p, prefix: "jws"}
	g := &GenerateJWS{Name: p.Name, Output: "jws." + p.Name + ".generated_jws"}
	var algs []jose.Algorithm
	for _, el := range p.Element.ChildElements() {
		switch el.Tag {
		case "Algorithm":
			algs = b.algorithms(el, false)
		case "SecretKey":
			g.signer.secret = b.key(el, "Value", "Id")
		case "PrivateKey":
			g.signer.private = b.key(el, "Value", "Id", "Password")
		case "Payload":
			g.Payload = b.value(el)
		case "DetachContent":
			g.Detach = boolText(bc, p.Doc, el)
		case "AdditionalHeaders":
			g.Headers = b.claims(el)
		case "CriticalHeaders":
			g.Critical = b.value(el)
		case "OutputVariable":
			g.Output = strings.TrimSpace(el.Text())
		case "IgnoreUnresolvedVariables":
			g.IgnoreUnresolved = boolText(bc, p.Doc, el)
		default:
			b.warnUnknown(el)
		}
	}
	b.checkKeys(algs, g.signer.secret, g.signer.private, "PrivateKey")
	if !g.Payload.set {
		b.errorf(p.Element, "<GenerateJWS> needs a <Payload>")
	}
	if countErrors(bc.Problems) > before {
		return nil
	}
	g.Algorithm = algs[0]
	return g
}

// Execute signs the payload.
func (g *GenerateJWS) Execute(_ context.Context, x *exchange.Exchange) error {
	payload, ok := g.Payload.resolve(x)
	if !ok && !g.IgnoreUnresolved {
		return unresolvedJOSE("jws", g.Name, g.Payload.ref)
	}
	headers := map[string]any{}
	m, unresolved, err := g.Headers.resolve(x)
	if err != nil {
		return joseFault("jws", g.Name, "InvalidClaim", "Invalid Claim: policy("+g.Name+")", 500, err)
	}
	if len(unresolved) > 0 && !g.IgnoreUnresolved {
		return unresolvedJOSE("jws", g.Name, unresolved[0])
	}
	for k, v := range m {
		headers[k] = v
	}
	var body []byte
	if b, isBytes := payload.([]byte); isBytes {
		body = b
	} else {
		body = []byte(jose.Stringify(payload))
	}
	token, f := g.signer.sign(x, "jws", g.Name, g.Algorithm, body, headers, joseCriticalList(x, g.Critical), g.Detach, g.IgnoreUnresolved)
	if f != nil {
		return f
	}
	return x.Set(g.Output, token)
}

// VerifyJWS is a built <VerifyJWS>: it checks a JWS's algorithm, critical
// headers and signature (DetachedContent names the variable holding a
// detached payload) and sets jws.<name>.valid, .header.*, .payload.
type VerifyJWS struct {
	Name     string
	Source   joseSource
	Detached joseValue
	v        joseVerifier
}

func buildVerifyJWS(bc *BuildContext, p *bundle.Policy) Policy {
	before := countErrors(bc.Problems)
	b := &joseBuild{bc: bc, p: p, prefix: "jws"}
	vj := &VerifyJWS{Name: p.Name}
	for _, el := range p.Element.ChildElements() {
		switch {
		case b.verifierChild(&vj.v, el):
		case el.Tag == "Source":
			vj.Source = b.source(el)
		case el.Tag == "DetachedContent":
			vj.Detached = b.value(el)
			if vj.Detached.ref == "" {
				vj.Detached.ref, vj.Detached.lit = vj.Detached.lit, ""
			}
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

// Execute verifies the JWS.
func (vj *VerifyJWS) Execute(ctx context.Context, x *exchange.Exchange) error {
	base := "jws." + vj.Name + "."
	t, f := decodeJoseToken(x, vj.Source, "jws", vj.Name, time.Time{})
	if f != nil {
		return publishJoseResult(x, base, f)
	}
	if vj.Detached.set {
		content, ok := vj.Detached.text(x)
		if !ok {
			return publishJoseResult(x, base, joseUnresolved401(&vj.v, vj.Detached.ref))
		}
		t.AttachPayload([]byte(content))
	} else if t.Detached {
		return publishJoseResult(x, base, vj.v.fault("InvalidToken", "Invalid token", errors.New("detached JWS without <DetachedContent>")))
	}
	if f := vj.v.check(ctx, x, t); f != nil {
		return publishJoseResult(x, base, f)
	}
	x.SetSystem(base+"payload", string(t.Payload))
	return publishJoseResult(x, base, nil)
}

// DecodeJWS is a built <DecodeJWS>: it decodes a JWS's header without
// verifying it (jws.<name>.header.*, .decoded.header.*).
type DecodeJWS struct {
	Name   string
	Source joseSource
}

func buildDecodeJWS(bc *BuildContext, p *bundle.Policy) Policy {
	src, ok := (&joseBuild{bc: bc, p: p, prefix: "jws"}).decodeSource()
	if !ok {
		return nil
	}
	return &DecodeJWS{Name: p.Name, Source: src}
}

// Execute decodes the JWS.
func (d *DecodeJWS) Execute(_ context.Context, x *exchange.Exchange) error {
	t, f := decodeJoseToken(x, d.Source, "jws", d.Name, time.Time{})
	if f != nil {
		return f
	}
	if !t.Detached {
		x.SetSystem("jws."+d.Name+".payload", string(t.Payload))
	}
	return nil
}
