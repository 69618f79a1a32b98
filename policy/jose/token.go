// Package jose holds what apigo's JWT, JWS and key policies share: parsing
// compact JWS/JWT tokens without trusting them, signing and verifying with
// the HS, RS, PS and ES algorithms (keys and JWK sets through go-jose),
// reading keys from PEM text, certificates and JWKS documents, and fetching
// JWKS documents over HTTP with a cache driven by an injectable clock.
//
// Verification checks the signature itself (stdlib crypto over the signing
// input) rather than through go-jose's Verify, because Apigee lets a policy
// accept "crit" headers it names (KnownHeaders, IgnoreCriticalHeaders) that
// go-jose always rejects; the caller decides about crit.
package jose

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// MaxTokenSize bounds the tokens Parse accepts (1 MiB).
const MaxTokenSize = 1 << 20

// Token is a parsed, unverified compact JWS (a JWT is a JWS whose payload
// is a JSON object of claims).
type Token struct {
	// Header is the decoded protected header (numbers as json.Number).
	Header map[string]any
	// HeaderJSON is the decoded header text.
	HeaderJSON []byte
	// Payload is the decoded payload (the detached content for a detached
	// JWS).
	Payload []byte
	// Claims is Payload as a JSON object, nil when it is not one.
	Claims map[string]any
	// SigningInput is "header.payload" in base64url, as signed.
	SigningInput []byte
	// Signature is the decoded signature.
	Signature []byte
	// Detached reports whether the token's payload part was empty.
	Detached bool
}

// Errors Parse wraps.
var (
	ErrMalformed = errors.New("malformed token")
	ErrTooLarge  = errors.New("token too large")
)

// Parse splits and decodes a compact token "header.payload.signature". An
// empty payload part makes a detached JWS: Payload then stays nil (see
// AttachPayload). A JWE (five parts) is ErrMalformed.
func Parse(compact string) (*Token, error) {
	if len(compact) > MaxTokenSize {
		return nil, ErrTooLarge
	}
	parts := strings.Split(strings.TrimSpace(compact), ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: %d parts, want 3", ErrMalformed, len(parts))
	}
	t := &Token{}
	var err error
	if t.HeaderJSON, err = b64(parts[0]); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	if t.Header, err = decodeObject(t.HeaderJSON); err != nil || t.Header == nil {
		return nil, fmt.Errorf("%w: header is not a JSON object", ErrMalformed)
	}
	if t.Signature, err = b64(parts[2]); err != nil {
		return nil, fmt.Errorf("%w: signature: %v", ErrMalformed, err)
	}
	if parts[1] == "" {
		t.Detached = true
		t.SigningInput = []byte(parts[0] + ".")
		return t, nil
	}
	if t.Payload, err = b64(parts[1]); err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	t.SigningInput = []byte(parts[0] + "." + parts[1])
	t.Claims, _ = decodeObject(t.Payload)
	return t, nil
}

// AttachPayload supplies a detached JWS's content: the signing input
// becomes header.base64url(content), or header.content with "b64": false.
func (t *Token) AttachPayload(content []byte) {
	h, _, _ := bytes.Cut(t.SigningInput, []byte("."))
	enc := string(content)
	if b, ok := t.Header["b64"].(bool); !ok || b {
		enc = base64.RawURLEncoding.EncodeToString(content)
	}
	t.SigningInput = append(append(append([]byte(nil), h...), '.'), enc...)
	t.Payload = content
	t.Claims, _ = decodeObject(content)
}

// Alg is the header's "alg", "" when absent or not a string.
func (t *Token) Alg() string { s, _ := t.Header["alg"].(string); return s }

// Kid is the header's "kid", "" when absent or not a string.
func (t *Token) Kid() string { s, _ := t.Header["kid"].(string); return s }

// Critical lists the header's "crit" names; ok is false when crit is
// present but not an array of strings.
func (t *Token) Critical() (names []string, ok bool) {
	v, present := t.Header["crit"]
	if !present {
		return nil, true
	}
	arr, isArr := v.([]any)
	if !isArr || len(arr) == 0 {
		return nil, false
	}
	for _, e := range arr {
		s, isStr := e.(string)
		if !isStr {
			return nil, false
		}
		names = append(names, s)
	}
	return names, true
}

// SortedKeys returns m's keys in order.
func SortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func b64(s string) ([]byte, error) {
	// Tolerate padding some producers add.
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

func decodeObject(b []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, errors.New("trailing data after JSON object")
	}
	return m, nil
}

// DecodeJSON decodes one JSON value with numbers as json.Number.
func DecodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, errors.New("trailing data after JSON value")
	}
	return v, nil
}
