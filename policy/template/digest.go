package template

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
)

var digests = map[string]func() hash.Hash{
	"md5": md5.New, "sha1": sha1.New, "sha224": sha256.New224,
	"sha256": sha256.New, "sha384": sha512.New384, "sha512": sha512.New,
}

// digestFuncs returns sha1Hex, sha1Base64, ..., md5Base64: digests of the UTF-8 text.
func digestFuncs() map[string]funcDef {
	out := map[string]funcDef{}
	for _, name := range []string{"md5", "sha1", "sha256", "sha384", "sha512"} {
		h := digests[name]
		out[name+"Hex"] = unary(func(s string) string { return hex.EncodeToString(sum(h, s)) })
		out[name+"Base64"] = unary(func(s string) string { return base64.StdEncoding.EncodeToString(sum(h, s)) })
	}
	return out
}

func sum(h func() hash.Hash, s string) []byte {
	d := h()
	d.Write([]byte(s))
	return d.Sum(nil)
}

// hmacFuncs returns hmacMd5 ... hmacSha512(key, value[, keyEncoding[, outputEncoding]]).
func hmacFuncs() map[string]funcDef {
	names := map[string]string{
		"hmacMd5": "md5", "hmacSha1": "sha1", "hmacSha224": "sha224",
		"hmacSha256": "sha256", "hmacSha384": "sha384", "hmacSha512": "sha512",
	}
	out := map[string]funcDef{}
	for fn, alg := range names {
		h := digests[alg]
		out[fn] = funcDef{2, 4, func(args []arg) (evaluator, error) { return compileHMAC(h, args) }}
	}
	return out
}

func compileHMAC(h func() hash.Hash, args []arg) (evaluator, error) {
	if len(args) > 2 && args[2].lit {
		if _, err := decodeKey("", args[2].text); err != nil {
			return nil, &argError{2, err.Error()}
		}
	}
	if len(args) > 3 && args[3].lit {
		if _, err := encodeOutput(nil, args[3].text); err != nil {
			return nil, &argError{3, err.Error()}
		}
	}
	return func(e *env) (string, bool) {
		vals, ok := evalAll(e, args)
		if !ok {
			return "", false
		}
		keyEnc, outEnc := "utf-8", "base64"
		if len(vals) > 2 {
			keyEnc = vals[2]
		}
		if len(vals) > 3 {
			outEnc = vals[3]
		}
		key, err := decodeKey(vals[0], keyEnc)
		if err != nil {
			return "", false
		}
		m := hmac.New(h, key)
		m.Write([]byte(vals[1]))
		s, err := encodeOutput(m.Sum(nil), outEnc)
		return s, err == nil
	}, nil
}

// evalAll evaluates every argument; ok=false when one is null.
func evalAll(e *env, args []arg) ([]string, bool) {
	vals := make([]string, len(args))
	ok := true
	for i := range args {
		var good bool
		vals[i], good = args[i].eval(e)
		ok = ok && good
	}
	return vals, ok
}

func decodeKey(key, enc string) ([]byte, error) {
	switch strings.ToLower(enc) {
	case "hex", "base16":
		return hex.DecodeString(key)
	case "base64":
		return base64.StdEncoding.DecodeString(key)
	case "utf-8", "utf8":
		return []byte(key), nil
	}
	return nil, fmt.Errorf("unknown key encoding %q (want hex, base16, base64 or utf-8)", enc)
}

func encodeOutput(b []byte, enc string) (string, error) {
	switch strings.ToLower(enc) {
	case "hex", "base16":
		return hex.EncodeToString(b), nil
	case "base64":
		return base64.StdEncoding.EncodeToString(b), nil
	}
	return "", fmt.Errorf("unknown output encoding %q (want hex, base16 or base64)", enc)
}

func encodeBase64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// compileDecodeBase64: standard Base64 (padding optional); Base64URL input gives "".
func compileDecodeBase64(args []arg) (evaluator, error) {
	a := args[0]
	return func(e *env) (string, bool) {
		s, ok := a.eval(e)
		if !ok {
			return "", false
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			if b, err = base64.RawStdEncoding.DecodeString(s); err != nil {
				return "", true
			}
		}
		return string(b), true
	}, nil
}
