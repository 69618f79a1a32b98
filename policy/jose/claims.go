package jose

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseDuration reads Apigee's time spans: a number with a unit ms, s, m,
// h, d (or w); a bare number is seconds [?].
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		d      time.Duration
	}{{"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}, {"d", 24 * time.Hour}, {"w", 7 * 24 * time.Hour}}
	unit := time.Second
	num := s
	for _, u := range units {
		if strings.HasSuffix(strings.ToLower(s), u.suffix) {
			unit, num = u.d, strings.TrimSpace(s[:len(s)-len(u.suffix)])
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > int64(100*365*24*time.Hour/unit) {
		return 0, fmt.Errorf("%q is not a time span like 300s, 30m, 1h, 1d or 1500ms", s)
	}
	return time.Duration(n) * unit, nil
}

// ParseTime reads a NotBefore value: a time span from now (ParseDuration),
// seconds since the epoch when a bare number has ten or more digits, or an
// RFC 3339 time.
func ParseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if len(s) >= 10 {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return time.Unix(n, 0), nil
		}
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := ParseDuration(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a time span, epoch seconds nor an RFC 3339 time", s)
	}
	return now.Add(d), nil
}

// ClaimType is a <Claim type="...">.
type ClaimType string

// The claim types.
const (
	TypeString  ClaimType = "string"
	TypeNumber  ClaimType = "number"
	TypeBoolean ClaimType = "boolean"
	TypeMap     ClaimType = "map"
)

// ParseClaimType validates a type attribute ("" is string).
func ParseClaimType(s string) (ClaimType, error) {
	switch t := ClaimType(strings.ToLower(strings.TrimSpace(s))); t {
	case "":
		return TypeString, nil
	case TypeString, TypeNumber, TypeBoolean, TypeMap:
		return t, nil
	}
	return "", fmt.Errorf("claim type %q is not string, number, boolean or map", s)
}

// ClaimValue converts a claim's value (text, or a flow variable's value)
// to its JSON value. With array, a string is split on commas and each
// item converted; a []string or []any value is taken item by item.
func ClaimValue(v any, t ClaimType, array bool) (any, error) {
	if array {
		var items []any
		switch v := v.(type) {
		case []string:
			for _, s := range v {
				items = append(items, s)
			}
		case []any:
			items = v
		default:
			for _, s := range strings.Split(Stringify(v), ",") {
				items = append(items, strings.TrimSpace(s))
			}
		}
		out := make([]any, 0, len(items))
		for _, it := range items {
			c, err := ClaimValue(it, t, false)
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
		return out, nil
	}
	return scalarClaim(v, t)
}

func scalarClaim(v any, t ClaimType) (any, error) {
	s := strings.TrimSpace(Stringify(v))
	switch t {
	case TypeNumber:
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return nil, fmt.Errorf("%q is not a number", s)
		}
		return json.Number(s), nil
	case TypeBoolean:
		b, err := strconv.ParseBool(strings.ToLower(s))
		if err != nil {
			return nil, fmt.Errorf("%q is not a boolean", s)
		}
		return b, nil
	case TypeMap:
		if m, ok := v.(map[string]any); ok {
			return m, nil
		}
		obj, err := DecodeJSON([]byte(s))
		if _, isMap := obj.(map[string]any); err != nil || !isMap {
			return nil, errors.New("a map claim needs a JSON object")
		}
		return obj, nil
	}
	return Stringify(v), nil
}

// Stringify renders a flow variable value as text.
func Stringify(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	case nil:
		return ""
	case fmt.Stringer:
		return v.String()
	}
	return Text(v)
}

// ClaimMatches reports whether a token's claim value satisfies an expected
// value: equal text, or, when the token holds an array, every expected
// item present in it.
func ClaimMatches(got, want any) bool {
	wantItems, wantArr := want.([]any)
	if gotArr, ok := got.([]any); ok {
		if !wantArr {
			wantItems = []any{want}
		}
		for _, w := range wantItems {
			found := false
			for _, g := range gotArr {
				if Text(g) == Text(w) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	}
	if wantArr {
		return len(wantItems) == 1 && Text(got) == Text(wantItems[0])
	}
	return Text(got) == Text(want)
}
