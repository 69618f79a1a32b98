package conditions

import (
	"math"
	"strconv"
	"strings"
)

// jtype is the Java type a Go value stands for, in promotion order for the
// numeric types (Integer < Long < Float < Double).
type jtype uint8

const (
	jNull jtype = iota
	jBoolean
	jInteger
	jLong
	jFloat
	jDouble
	jString
	jObject // anything else, including []string collections: never compared
)

// typeOf classifies a flow variable value.
func typeOf(v any) jtype {
	switch v.(type) {
	case nil:
		return jNull
	case string:
		return jString
	case bool:
		return jBoolean
	case int, int32:
		return jInteger
	case int64:
		return jLong
	case float32:
		return jFloat
	case float64:
		return jDouble
	}
	return jObject
}

// nullRule is one row of the null-operand table: the result when the left
// side, the right side, or both sides are null.
type nullRule struct{ lhs, rhs, both bool }

// nullTable is the "Null operands" table of the Apigee X conditions
// reference, indexed by operator. The pattern operators' RHS-null cell is
// "n/a" in the reference; it is false here. The negated pattern operators
// follow the reference's "!~" row.
var nullTable = [opCount]nullRule{
	opEq:         {lhs: false, rhs: false, both: true},
	opEqCI:       {lhs: false, rhs: false, both: true},
	opNe:         {lhs: true, rhs: true, both: false},
	opStarts:     {lhs: false, rhs: false, both: false},
	opGt:         {lhs: true, rhs: false, both: false},
	opGe:         {lhs: false, rhs: true, both: true},
	opLt:         {lhs: true, rhs: false, both: false},
	opLe:         {lhs: true, rhs: false, both: true},
	opMatches:    {lhs: false, rhs: false, both: false},
	opRegex:      {lhs: false, rhs: false, both: false},
	opPath:       {lhs: false, rhs: false, both: false},
	opNotMatches: {lhs: true, rhs: false, both: false},
	opNotRegex:   {lhs: true, rhs: false, both: false},
	opNotPath:    {lhs: true, rhs: false, both: false},
	opNotStarts:  {lhs: true, rhs: false, both: false},
}

// nullResult applies the null table; ok is false when neither side is null.
func nullResult(o op, lt, rt jtype) (result, ok bool) {
	switch {
	case lt == jNull && rt == jNull:
		return nullTable[o].both, true
	case lt == jNull:
		return nullTable[o].lhs, true
	case rt == jNull:
		return nullTable[o].rhs, true
	}
	return false, false
}

// compareValues evaluates a non-pattern comparison with Apigee's promotion
// matrix: a String on either side compares strings, numbers (and Booleans
// against numbers, as Integer 1/0) compare numerically in the wider type,
// Booleans compare as Booleans, and opaque objects never compare.
func compareValues(o op, l, r any) bool {
	lt, rt := typeOf(l), typeOf(r)
	if res, ok := nullResult(o, lt, rt); ok {
		return res
	}
	if lt == jObject || rt == jObject {
		return false
	}
	var c int
	switch {
	case lt == jString || rt == jString:
		ls, rs := javaString(l), javaString(r)
		if o == opEqCI {
			return strings.EqualFold(ls, rs)
		}
		c = strings.Compare(ls, rs)
	case lt == jBoolean && rt == jBoolean:
		c = boolCompare(l.(bool), r.(bool))
	default:
		var comparable bool
		if c, comparable = numCompare(max(lt, rt, jInteger), l, r); !comparable {
			return o == opNe
		}
	}
	return ordered(o, c)
}

// ordered turns a three-way comparison into the operator's result.
func ordered(o op, c int) bool {
	switch o {
	case opEq, opEqCI:
		return c == 0
	case opNe:
		return c != 0
	case opGt:
		return c > 0
	case opGe:
		return c >= 0
	case opLt:
		return c < 0
	case opLe:
		return c <= 0
	}
	return false
}

func boolCompare(a, b bool) int {
	switch {
	case a == b:
		return 0
	case b:
		return -1
	}
	return 1
}

// numCompare compares two numbers (or Booleans as 1/0) in type t. The result
// is not comparable when a NaN is involved, as Java's == and < are false.
func numCompare(t jtype, a, b any) (int, bool) {
	switch t {
	case jInteger, jLong:
		x, y := asInt64(a), asInt64(b)
		return cmp3(x, y), true
	case jFloat:
		x, y := float32(asFloat64(a)), float32(asFloat64(b))
		if x != x || y != y {
			return 0, false
		}
		return cmp3(x, y), true
	}
	x, y := asFloat64(a), asFloat64(b)
	if math.IsNaN(x) || math.IsNaN(y) {
		return 0, false
	}
	return cmp3(x, y), true
}

func cmp3[T int64 | float32 | float64](x, y T) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func asInt64(v any) int64 {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case int64:
		return x
	case bool:
		if x {
			return 1
		}
	}
	return 0
}

func asFloat64(v any) float64 {
	switch x := v.(type) {
	case float32:
		return float64(x)
	case float64:
		return x
	}
	return float64(asInt64(v))
}

// javaString renders a value as Java's String.valueOf would.
func javaString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case float32:
		return javaFloatString(float64(x), 32)
	case float64:
		return javaFloatString(x, 64)
	}
	return ""
}

// javaFloatString formats like Java's Float/Double.toString: plain decimal
// with at least one fraction digit for 1e-3 <= |x| < 1e7, otherwise
// computerized scientific notation ("1.0E10").
func javaFloatString(x float64, bits int) string {
	switch {
	case math.IsNaN(x):
		return "NaN"
	case math.IsInf(x, 1):
		return "Infinity"
	case math.IsInf(x, -1):
		return "-Infinity"
	}
	abs := math.Abs(x)
	if abs == 0 || abs >= 1e-3 && abs < 1e7 {
		s := strconv.FormatFloat(x, 'f', -1, bits)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		if x == 0 && math.Signbit(x) {
			return "-0.0"
		}
		return s
	}
	s := strconv.FormatFloat(x, 'e', -1, bits) // e.g. 1.5e+10
	mant, exp, _ := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}

// truthy decides a bare operand for the configured mode.
func truthy(mode BareMode, v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		switch mode {
		case BareTrue:
			return strings.EqualFold(x, "true")
		case BareNotEmpty:
			return x != "" && !strings.EqualFold(x, "false")
		}
		return false
	case nil:
		return false
	}
	if mode != BareNotEmpty {
		return false
	}
	switch t := typeOf(v); t {
	case jInteger, jLong, jFloat, jDouble:
		return asFloat64(v) != 0
	}
	return true
}
