package exchange

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Format renders a typed value the way Apigee prints it into templates and
// string contexts: nil "", strings as is, bool "true"/"false", integers in
// decimal, floating point like Java's Double.toString ("1.0", "2.5E10"),
// []string as a Java collection "[a, b]", a *Message as its content, []byte
// as text, Stringers and errors by their text, anything else by fmt.
func Format(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case bool:
		return strconv.FormatBool(t)
	case int:
		return strconv.Itoa(t)
	case int64:
		return strconv.FormatInt(t, 10)
	case int32:
		return strconv.FormatInt(int64(t), 10)
	case float64:
		return javaDouble(t, 64)
	case float32:
		return javaDouble(float64(t), 32)
	case []string:
		return "[" + strings.Join(t, ", ") + "]"
	case []byte:
		return string(t)
	case *Message:
		if t == nil {
			return ""
		}
		_ = t.Materialize()
		return string(t.Body)
	case fmt.Stringer:
		return t.String()
	case error:
		return t.Error()
	}
	return fmt.Sprint(v)
}

// javaDouble formats like Java's Double.toString / Float.toString: plain
// decimal with at least one fraction digit for 1e-3 <= |f| < 1e7,
// otherwise computerized scientific notation ("1.0E-4", "1.2345678E7").
func javaDouble(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	if a := math.Abs(f); a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, bits)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'E', -1, bits) // "1.2345678E+07"
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	exp = strings.TrimPrefix(exp, "+")
	neg := strings.HasPrefix(exp, "-")
	exp = strings.TrimLeft(strings.TrimPrefix(exp, "-"), "0")
	if neg {
		exp = "-" + exp
	}
	return mant + "E" + exp
}
