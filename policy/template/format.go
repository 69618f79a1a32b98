package template

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Format renders a flow-variable value as Apigee prints it in a template (Java's
// String.valueOf on the stored object):
//   - nil → "", string as is, bool → "true"/"false", integers in decimal;
//   - float64 and float32 like Java's Double.toString / Float.toString: always a
//     fractional part ("1.0", "0.5"), scientific form outside [1e-3, 1e7) ("1.0E7",
//     "1.5E-4"), "NaN", "Infinity". A whole number stored as float64 therefore prints
//     "5.0", as a java.lang.Double does; callers holding integers must store int/int64.
//   - []string and []any → Java collection form "[a, b]";
//   - []byte as text; fmt.Stringer → String(); error → Error(); others fmt.Sprint.
func Format(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int16:
		return strconv.FormatInt(int64(x), 10)
	case int8:
		return strconv.FormatInt(int64(x), 10)
	case uint:
		return strconv.FormatUint(uint64(x), 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case uint32:
		return strconv.FormatUint(uint64(x), 10)
	case uint16:
		return strconv.FormatUint(uint64(x), 10)
	case uint8:
		return strconv.FormatUint(uint64(x), 10)
	case float64:
		return javaDouble(x, 64)
	case float32:
		return javaDouble(float64(x), 32)
	case []string:
		return "[" + strings.Join(x, ", ") + "]"
	case []any:
		return formatList(x)
	case []byte:
		return string(x)
	case fmt.Stringer:
		return x.String()
	case error:
		return x.Error()
	}
	return fmt.Sprint(v)
}

func formatList(xs []any) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, x := range xs {
		if i > 0 {
			b.WriteString(", ")
		}
		if x == nil {
			b.WriteString("null")
			continue
		}
		b.WriteString(Format(x))
	}
	b.WriteByte(']')
	return b.String()
}

// javaDouble formats f as Java's Double.toString (bits=64) or Float.toString (bits=32),
// using the shortest digits that round-trip.
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
	s := strconv.FormatFloat(f, 'e', -1, bits)
	mant, exp, _ := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	neg := strings.HasPrefix(exp, "-")
	exp = strings.TrimLeft(exp, "+-0")
	if neg {
		exp = "-" + exp
	}
	return mant + "E" + exp
}
