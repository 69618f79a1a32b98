package jose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rsa"
	_ "crypto/sha256" // hashes the algorithms name
	_ "crypto/sha512"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"

	gojose "github.com/go-jose/go-jose/v4"
)

// Family groups algorithms by the key they need.
type Family byte

// The algorithm families.
const (
	HMAC  Family = 'H' // HS256/384/512: a secret
	RSA   Family = 'R' // RS256/384/512: RSA PKCS#1 v1.5
	PSS   Family = 'P' // PS256/384/512: RSA-PSS
	ECDSA Family = 'E' // ES256/384/512: ECDSA on P-256/384/521
)

// Algorithm describes one JWS "alg".
type Algorithm struct {
	Name   string
	Family Family
	Hash   crypto.Hash
	curve  elliptic.Curve
}

var algorithms = map[string]Algorithm{}

func init() {
	for _, a := range []Algorithm{
		{"HS256", HMAC, crypto.SHA256, nil}, {"HS384", HMAC, crypto.SHA384, nil}, {"HS512", HMAC, crypto.SHA512, nil},
		{"RS256", RSA, crypto.SHA256, nil}, {"RS384", RSA, crypto.SHA384, nil}, {"RS512", RSA, crypto.SHA512, nil},
		{"PS256", PSS, crypto.SHA256, nil}, {"PS384", PSS, crypto.SHA384, nil}, {"PS512", PSS, crypto.SHA512, nil},
		{"ES256", ECDSA, crypto.SHA256, elliptic.P256()}, {"ES384", ECDSA, crypto.SHA384, elliptic.P384()},
		{"ES512", ECDSA, crypto.SHA512, elliptic.P521()},
	} {
		algorithms[a.Name] = a
	}
}

// LookupAlgorithm returns the algorithm named (case-sensitive, as in JWS).
func LookupAlgorithm(name string) (Algorithm, bool) {
	a, ok := algorithms[name]
	return a, ok
}

// Algorithms lists the supported names.
func Algorithms() []string {
	return []string{"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}
}

// Errors Verify and Sign return.
var (
	ErrSignature = errors.New("signature verification failed")
	ErrKeyType   = errors.New("key type does not suit the algorithm")
	ErrKeyLength = errors.New("key too short for the algorithm")
)

// MinSecretLen is the shortest HMAC secret accepted for an algorithm: the
// hash size (RFC 7518 3.2), which go-jose also enforces.
func MinSecretLen(a Algorithm) int { return a.Hash.Size() }

// Verify checks sig over input with key: []byte for HS*, *rsa.PublicKey
// for RS*/PS*, *ecdsa.PublicKey for ES* (its curve must be the
// algorithm's).
func Verify(a Algorithm, key any, input, sig []byte) error {
	switch a.Family {
	case HMAC:
		secret, ok := key.([]byte)
		if !ok {
			return ErrKeyType
		}
		if len(secret) < MinSecretLen(a) {
			return ErrKeyLength
		}
		m := hmac.New(a.Hash.New, secret)
		m.Write(input)
		if !hmac.Equal(m.Sum(nil), sig) {
			return ErrSignature
		}
		return nil
	case RSA, PSS:
		pub, ok := key.(*rsa.PublicKey)
		if !ok {
			return ErrKeyType
		}
		d := digest(a, input)
		var err error
		if a.Family == RSA {
			err = rsa.VerifyPKCS1v15(pub, a.Hash, d, sig)
		} else {
			err = rsa.VerifyPSS(pub, a.Hash, d, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
		}
		if err != nil {
			return ErrSignature
		}
		return nil
	case ECDSA:
		return verifyECDSA(a, key, input, sig)
	}
	return fmt.Errorf("unsupported algorithm %s", a.Name)
}

func verifyECDSA(a Algorithm, key any, input, sig []byte) error {
	pub, ok := key.(*ecdsa.PublicKey)
	if !ok {
		return ErrKeyType
	}
	if pub.Curve != a.curve {
		return fmt.Errorf("%w: %s needs curve %s", ErrKeyType, a.Name, a.curve.Params().Name)
	}
	size := (a.curve.Params().BitSize + 7) / 8
	if len(sig) != 2*size {
		return ErrSignature
	}
	r := new(big.Int).SetBytes(sig[:size])
	s := new(big.Int).SetBytes(sig[size:])
	if !ecdsa.Verify(pub, digest(a, input), r, s) {
		return ErrSignature
	}
	return nil
}

func digest(a Algorithm, input []byte) []byte {
	h := a.Hash.New()
	h.Write(input)
	return h.Sum(nil)
}

// SignOptions are the extra protected headers of Sign.
type SignOptions struct {
	// Headers are added to the protected header (typ, kid, custom ones);
	// "alg" is always the algorithm's, "crit" comes from Critical.
	Headers map[string]any
	// Critical lists header names for "crit"; nil adds none.
	Critical []string
	// Detached leaves the payload out of the compact serialization.
	Detached bool
}

// Sign signs payload with go-jose and returns the compact serialization.
// key is []byte for HS*, *rsa.PrivateKey for RS*/PS*, *ecdsa.PrivateKey
// for ES*.
func Sign(a Algorithm, key any, payload []byte, o SignOptions) (string, error) {
	if err := checkSigningKey(a, key); err != nil {
		return "", err
	}
	so := &gojose.SignerOptions{}
	for k, v := range o.Headers {
		if k == "alg" || k == "crit" {
			continue
		}
		so.WithHeader(gojose.HeaderKey(k), v)
	}
	if len(o.Critical) > 0 {
		so.WithCritical(o.Critical...)
	}
	signer, err := gojose.NewSigner(gojose.SigningKey{Algorithm: gojose.SignatureAlgorithm(a.Name), Key: key}, so)
	if err != nil {
		return "", err
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	if o.Detached {
		return obj.DetachedCompactSerialize()
	}
	return obj.CompactSerialize()
}

func checkSigningKey(a Algorithm, key any) error {
	switch k := key.(type) {
	case []byte:
		if a.Family != HMAC {
			return ErrKeyType
		}
		if len(k) < MinSecretLen(a) {
			return ErrKeyLength
		}
	case *rsa.PrivateKey:
		if a.Family != RSA && a.Family != PSS {
			return ErrKeyType
		}
	case *ecdsa.PrivateKey:
		if a.Family != ECDSA {
			return ErrKeyType
		}
		if k.Curve != a.curve {
			return fmt.Errorf("%w: %s needs curve %s", ErrKeyType, a.Name, a.curve.Params().Name)
		}
	default:
		return ErrKeyType
	}
	return nil
}

// MarshalClaims renders claims as compact JSON with keys in order
// (encoding/json sorts map keys), numbers as given.
func MarshalClaims(claims map[string]any) ([]byte, error) { return json.Marshal(claims) }

// ParseAlgorithmList reads "RS256, PS256" into algorithms; every name must
// be known and of one key kind (secret or public key).
func ParseAlgorithmList(s string) ([]Algorithm, error) {
	var out []Algorithm
	for _, n := range strings.Split(s, ",") {
		n = strings.TrimSpace(n)
		a, ok := LookupAlgorithm(n)
		if !ok {
			return nil, fmt.Errorf("unsupported algorithm %q (supported: %s)", n, strings.Join(Algorithms(), ", "))
		}
		if len(out) > 0 && (out[0].Family == HMAC) != (a.Family == HMAC) {
			return nil, fmt.Errorf("algorithms %s and %s need different kinds of key", out[0].Name, a.Name)
		}
		out = append(out, a)
	}
	return out, nil
}
