package policy

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"strings"

	"github.com/beevik/etree"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
	"github.com/apigo/apigo/policy/jose"
	"github.com/apigo/apigo/policy/template"
)

func init() { Register("HMAC", "hmac", buildHMAC) }

// hmacAlgorithms are the <Algorithm> names HMAC accepts (case-insensitive,
// with or without the dash).
var hmacAlgorithms = map[string]func() hash.Hash{
	"SHA-1": sha1.New, "SHA-224": sha256.New224, "SHA-256": sha256.New,
	"SHA-384": sha512.New384, "SHA-512": sha512.New, "MD-5": md5.New,
}

// HMAC is a built <HMAC> policy: it computes an HMAC over the rendered
// Message with SecretKey, writes it encoded to hmac.<name>.output and to
// the Output variable, and with a VerificationValue compares (in constant
// time) and faults 401 steps.hmac.HmacVerificationFailed on a mismatch
// [?]. An unresolved variable faults 500 steps.hmac.UnresolvedVariable
// unless IgnoreUnresolvedVariables.
type HMAC struct {
	Name             string
	Algorithm        string
	Secret           joseValue
	Message          *template.Template
	MessageRef       string
	Verify           *template.Template
	VerifyRef        string
	VerifyEncoding   string
	Output           string
	OutputEncoding   string // default base64 [?]
	IgnoreUnresolved bool
	newHash          func() hash.Hash
}

func buildHMAC(bc *BuildContext, p *bundle.Policy) Policy {
	before := countErrors(bc.Problems)
	b := &joseBuild{bc: bc, p: p, prefix: "hmac"}
	h := &HMAC{Name: p.Name, OutputEncoding: "base64", VerifyEncoding: "base64"}
	for _, el := range p.Element.ChildElements() {
		switch el.Tag {
		case "Algorithm":
			h.compileAlgorithm(b, el)
		case "SecretKey":
			h.Secret = b.value(el)
		case "Message":
			h.Message, h.MessageRef = compileHMACText(b, el)
		case "VerificationValue":
			h.Verify, h.VerifyRef = compileHMACText(b, el)
			h.VerifyEncoding = hmacEncoding(b, el, h.VerifyEncoding)
		case "Output":
			h.Output = strings.TrimSpace(el.Text())
			h.OutputEncoding = hmacEncoding(b, el, h.OutputEncoding)
		case "IgnoreUnresolvedVariables":
			h.IgnoreUnresolved = boolText(bc, p.Doc, el)
		default:
			b.warnUnknown(el)
		}
	}
	if h.newHash == nil {
		b.errorf(p.Element, "<HMAC> needs an <Algorithm> (SHA-1, SHA-224, SHA-256, SHA-384, SHA-512 or MD-5)")
	}
	if !h.Secret.set || (h.Secret.ref == "" && h.Secret.lit == "") {
		b.errorf(p.Element, "<HMAC> needs <SecretKey ref=\"...\"/>")
	}
	if h.Message == nil && h.MessageRef == "" {
		b.errorf(p.Element, "<HMAC> needs a <Message>")
	}
	if countErrors(bc.Problems) > before {
		return nil
	}
	return h
}

func (h *HMAC) compileAlgorithm(b *joseBuild, el *etree.Element) {
	name := strings.ToUpper(strings.TrimSpace(el.Text()))
	if !strings.Contains(name, "-") && len(name) > 3 {
		name = name[:len(name)-len(strings.TrimLeft(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"))] + "-" +
			strings.TrimLeft(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
	}
	if f, ok := hmacAlgorithms[name]; ok {
		h.Algorithm, h.newHash = name, f
		return
	}
	b.errorf(el, "<Algorithm>: %q is not SHA-1, SHA-224, SHA-256, SHA-384, SHA-512 or MD-5", strings.TrimSpace(el.Text()))
}

// compileHTMLText reads <Message ref="v"/> or a message template.
func compileHMACText(b *joseBuild, el *etree.Element) (*template.Template, string) {
	if ref := strings.TrimSpace(el.SelectAttrValue("ref", "")); ref != "" {
		return nil, ref
	}
	t, err := template.Parse(el.Text())
	if err != nil {
		b.bc.Problems.Errorf(b.p.Doc.TextPos(el), "<%s>: invalid message template: %v", el.Tag, err)
	}
	return t, ""
}

func hmacEncoding(b *joseBuild, el *etree.Element, def string) string {
	enc := strings.ToLower(strings.TrimSpace(el.SelectAttrValue("encoding", def)))
	switch enc {
	case "base16", "hex", "base64", "base64url":
		return enc
	}
	b.errorf(el, "<%s encoding=%q>: want base16, base64 or base64url", el.Tag, enc)
	return def
}

// Execute computes and checks the HMAC.
func (h *HMAC) Execute(_ context.Context, x *exchange.Exchange) error {
	base := "hmac." + h.Name + "."
	key, ok := h.Secret.text(x)
	if !ok && !h.IgnoreUnresolved {
		return h.unresolved(h.Secret.ref)
	}
	msg, missing := h.render(x, h.Message, h.MessageRef)
	if missing != "" && !h.IgnoreUnresolved {
		return h.unresolved(missing)
	}
	m := hmac.New(h.newHash, []byte(key))
	m.Write([]byte(msg))
	sum := m.Sum(nil)
	out := encodeHMAC(sum, h.OutputEncoding)
	x.SetSystem(base+"output", out)
	if h.Output != "" {
		if err := x.Set(h.Output, out); err != nil {
			return err
		}
	}
	if h.Verify == nil && h.VerifyRef == "" {
		return nil
	}
	want, missing := h.render(x, h.Verify, h.VerifyRef)
	if missing != "" && !h.IgnoreUnresolved {
		return h.unresolved(missing)
	}
	got, err := decodeHMAC(strings.TrimSpace(want), h.VerifyEncoding)
	if err != nil || !hmac.Equal(got, sum) {
		return &Fault{
			Name: "HmacVerificationFailed", Code: "steps.hmac.HmacVerificationFailed",
			FaultString: "HMAC Verification Failed: policy(" + h.Name + ")", Status: 401,
			Source: "policy", Policy: h.Name,
		}
	}
	return nil
}

func (h *HMAC) render(x *exchange.Exchange, t *template.Template, ref string) (string, string) {
	if ref != "" {
		v, ok := x.Lookup(ref)
		if !ok || v == nil {
			return "", ref
		}
		return jose.Stringify(v), ""
	}
	s, missing := t.Execute(x)
	if len(missing) > 0 {
		return s, missing[0]
	}
	return s, ""
}

func (h *HMAC) unresolved(name string) *Fault {
	return &Fault{
		Name: "UnresolvedVariable", Code: "steps.hmac.UnresolvedVariable",
		FaultString: "Unresolved variable : " + name, Status: 500, Source: "policy", Policy: h.Name,
	}
}

func encodeHMAC(b []byte, enc string) string {
	switch enc {
	case "base16", "hex":
		return hex.EncodeToString(b)
	case "base64url":
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func decodeHMAC(s, enc string) ([]byte, error) {
	switch enc {
	case "base16", "hex":
		return hex.DecodeString(s)
	case "base64url":
		return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	}
	return base64.StdEncoding.DecodeString(s)
}
