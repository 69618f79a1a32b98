package jose

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ExpiryFormat is how expiry_formatted and issuedat_formatted print a time
// [?]: Java's yyyy-MM-dd'T'HH:mm:ss.SSSZ in UTC.
const ExpiryFormat = "2006-01-02T15:04:05.000-0700"

// registered maps JWT claim names to the names of their
// jwt.<policy>.claim.<alias> variables.
var registered = map[string]string{
	"iss": "issuer", "sub": "subject", "aud": "audience", "exp": "expiry",
	"iat": "issuedat", "nbf": "notbefore", "jti": "id",
}

// HeaderVars are the variables describing a token's header, named after
// the <prefix>.<policy>. part: decoded.header.<h>, header.<h>,
// header.algorithm, header.json, header.names (the same for decoded.).
func HeaderVars(t *Token) map[string]any {
	out := map[string]any{}
	names := SortedKeys(t.Header)
	for _, h := range names {
		s := Text(t.Header[h])
		out["decoded.header."+h] = s
		out["header."+h] = s
	}
	out["header.algorithm"] = t.Alg()
	out["header.json"] = string(t.HeaderJSON)
	out["decoded.header.json"] = string(t.HeaderJSON)
	out["header.names"] = names
	return out
}

// ClaimVars are the variables describing a JWT's claims at time now:
// decoded.claim.<c>, claim.<c>, claim.issuer/subject/audience/expiry/
// issuedat/notbefore/id, claim.names, claim.json, payload-json,
// payload-claim-names, and for a token with exp: is_expired,
// seconds_remaining, expiry_formatted (issuedat_formatted with iat).
func ClaimVars(t *Token, now time.Time) map[string]any {
	out := map[string]any{}
	if t.Claims == nil {
		return out
	}
	names := SortedKeys(t.Claims)
	for _, c := range names {
		s := Text(t.Claims[c])
		out["decoded.claim."+c] = s
		out["claim."+c] = s
		if alias, ok := registered[c]; ok {
			out["claim."+alias] = s
		}
	}
	if aud, ok := t.Claims["aud"].([]any); ok {
		out["claim.audience"] = joinStrings(aud)
	}
	out["claim.names"] = names
	out["payload-claim-names"] = names
	out["claim.json"] = string(t.Payload)
	out["payload-json"] = string(t.Payload)
	if exp, ok := NumericDate(t.Claims["exp"]); ok {
		left := exp - now.Unix()
		out["is_expired"] = left <= 0
		out["seconds_remaining"] = max(left, 0)
		out["expiry_formatted"] = time.Unix(exp, 0).UTC().Format(ExpiryFormat)
	}
	if iat, ok := NumericDate(t.Claims["iat"]); ok {
		out["issuedat_formatted"] = time.Unix(iat, 0).UTC().Format(ExpiryFormat)
	}
	return out
}

// Text renders a JSON value as a flow variable string: strings as they
// are, numbers as written, booleans true/false, arrays and objects as JSON.
func Text(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	case nil:
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func joinStrings(xs []any) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = Text(x)
	}
	return strings.Join(parts, ",")
}

// NumericDate reads a JWT NumericDate (seconds since the epoch, possibly
// fractional; fractions are dropped).
func NumericDate(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	if i, err := n.Int64(); err == nil {
		return i, true
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e15 {
		return 0, false
	}
	return int64(f), true
}

// Audiences returns the "aud" claim as a list (a string is one audience).
func Audiences(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
