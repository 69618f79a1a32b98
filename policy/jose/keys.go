package jose

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	gojose "github.com/go-jose/go-jose/v4"
)

// ErrNoMatchingKey is returned by SelectKey when no key of the set fits.
var ErrNoMatchingKey = errors.New("no matching key in the JWKS")

// ParsePublicKey reads a public key from PEM text: a PUBLIC KEY (PKIX), an
// RSA PUBLIC KEY (PKCS#1) or a CERTIFICATE (its key). It also accepts one
// JWK as JSON.
func ParsePublicKey(text string) (any, error) {
	text = strings.TrimSpace(text)
	if strings.HasPrefix(text, "{") {
		var k gojose.JSONWebKey
		if err := k.UnmarshalJSON([]byte(text)); err != nil {
			return nil, fmt.Errorf("JWK: %w", err)
		}
		return publicOf(k.Key)
	}
	block, _ := pem.Decode([]byte(text))
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	switch block.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		return publicOf(k)
	case "RSA PUBLIC KEY":
		return x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		return ParseCertificate(text)
	}
	return nil, fmt.Errorf("PEM block %q is not a public key", block.Type)
}

// ParseCertificate returns the public key of a PEM certificate.
func ParseCertificate(text string) (any, error) {
	block, _ := pem.Decode([]byte(strings.TrimSpace(text)))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM CERTIFICATE block found")
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, err
	}
	return publicOf(c.PublicKey)
}

func publicOf(k any) (any, error) {
	switch k := k.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey:
		return k, nil
	case *rsa.PrivateKey:
		return &k.PublicKey, nil
	case *ecdsa.PrivateKey:
		return &k.PublicKey, nil
	}
	return nil, fmt.Errorf("unsupported key type %T", k)
}

// ParsePrivateKey reads an RSA or EC private key from PEM text: PKCS#1
// (RSA PRIVATE KEY), SEC 1 (EC PRIVATE KEY) or PKCS#8 (PRIVATE KEY). A
// legacy encrypted PEM (Proc-Type: 4,ENCRYPTED) is decrypted with
// password; PKCS#8 ENCRYPTED PRIVATE KEY is not supported.
func ParsePrivateKey(text, password string) (any, error) {
	block, _ := pem.Decode([]byte(strings.TrimSpace(text)))
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	der := block.Bytes
	//lint:ignore SA1019 legacy encrypted PEM is what Apigee's <Password> decrypts
	if x509.IsEncryptedPEMBlock(block) { //nolint:staticcheck
		if password == "" {
			return nil, errors.New("the private key is encrypted and no password was given")
		}
		var err error
		if der, err = x509.DecryptPEMBlock(block, []byte(password)); err != nil { //nolint:staticcheck
			return nil, fmt.Errorf("decrypting the private key: %w", err)
		}
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		return x509.ParsePKCS1PrivateKey(der)
	case "EC PRIVATE KEY":
		return x509.ParseECPrivateKey(der)
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil, err
		}
		switch k.(type) {
		case *rsa.PrivateKey, *ecdsa.PrivateKey:
			return k, nil
		}
		return nil, fmt.Errorf("unsupported private key type %T", k)
	case "ENCRYPTED PRIVATE KEY":
		return nil, errors.New("PKCS#8 encrypted private keys are not supported; use an unencrypted or a legacy encrypted PEM")
	}
	return nil, fmt.Errorf("PEM block %q is not a private key", block.Type)
}

// DecodeSecret decodes a SecretKey value by its encoding attribute: ""
// or "utf-8"/"utf8" (the bytes as written), "base16"/"hex", "base64",
// "base64url".
func DecodeSecret(value, encoding string) ([]byte, error) {
	switch strings.ToLower(encoding) {
	case "", "utf-8", "utf8":
		return []byte(value), nil
	case "base16", "hex":
		return hex.DecodeString(value)
	case "base64":
		return base64.StdEncoding.DecodeString(value)
	case "base64url":
		return base64.RawURLEncoding.DecodeString(strings.TrimRight(value, "="))
	}
	return nil, fmt.Errorf("unknown encoding %q (want base16, hex, base64, base64url or utf-8)", encoding)
}

// ParseJWKS reads a JWK set ({"keys":[...]}) or a single JWK.
func ParseJWKS(data []byte) (*gojose.JSONWebKeySet, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	if _, ok := probe["keys"]; !ok {
		var k gojose.JSONWebKey
		if err := k.UnmarshalJSON(data); err != nil {
			return nil, fmt.Errorf("JWK: %w", err)
		}
		return &gojose.JSONWebKeySet{Keys: []gojose.JSONWebKey{k}}, nil
	}
	var set gojose.JSONWebKeySet
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	return &set, nil
}

// SelectKey picks the public key verifying a token signed with a and kid:
// the key whose kid matches (any key when kid is ""), whose "alg" (when
// present) is a.Name, whose "use" (when present) is "sig", and whose type
// suits a.
func SelectKey(set *gojose.JSONWebKeySet, kid string, a Algorithm) (any, error) {
	for _, k := range set.Keys {
		if kid != "" && k.KeyID != kid {
			continue
		}
		if (k.Algorithm != "" && k.Algorithm != a.Name) || (k.Use != "" && k.Use != "sig") {
			continue
		}
		pub, err := publicOf(k.Key)
		if err != nil {
			if b, ok := k.Key.([]byte); ok && a.Family == HMAC {
				return b, nil
			}
			continue
		}
		if suits(a, pub) {
			return pub, nil
		}
	}
	return nil, ErrNoMatchingKey
}

func suits(a Algorithm, key any) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return a.Family == RSA || a.Family == PSS
	case *ecdsa.PublicKey:
		return a.Family == ECDSA && k.Curve == a.curve
	}
	return false
}

// KeySet is a JWK set.
type KeySet = gojose.JSONWebKeySet
