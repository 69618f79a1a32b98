package conditions

import (
	"fmt"
	"testing"
)

// TestNullTable checks the "Null operands" table of the Apigee X conditions
// reference, row by row, with the operator written in its symbol form.
func TestNullTable(t *testing.T) {
	rows := []struct {
		op               string
		lhs, rhs, both   bool
		rhsNotApplicable bool
	}{
		{op: "=", lhs: false, rhs: false, both: true},
		{op: "==", lhs: false, rhs: false, both: true},
		{op: ":=", lhs: false, rhs: false, both: true},
		{op: "=|", lhs: false, rhs: false, both: false},
		{op: "!=", lhs: true, rhs: true, both: false},
		{op: ">", lhs: true, rhs: false, both: false},
		{op: ">=", lhs: false, rhs: true, both: true},
		{op: "<", lhs: true, rhs: false, both: false},
		{op: "<=", lhs: true, rhs: false, both: true},
		{op: "~", lhs: false, rhs: false, both: false},
		{op: "~~", lhs: false, rhs: false, both: false},
		{op: "~/", lhs: false, rhs: false, both: false},
		{op: "!~", lhs: true, rhs: false, both: false},
	}
	v := mapVars{"set": "x", "nil": nil}
	for _, r := range rows {
		for _, tc := range []struct {
			src  string
			want bool
		}{
			{fmt.Sprintf(`unset %s set`, r.op), r.lhs},
			{fmt.Sprintf(`nil %s set`, r.op), r.lhs},
			{fmt.Sprintf(`null %s set`, r.op), r.lhs},
			{fmt.Sprintf(`set %s unset`, r.op), r.rhs},
			{fmt.Sprintf(`set %s null`, r.op), r.rhs},
			{fmt.Sprintf(`unset %s other`, r.op), r.both},
			{fmt.Sprintf(`unset %s null`, r.op), r.both},
			{fmt.Sprintf(`nil %s unset`, r.op), r.both},
		} {
			if got := MustCompile(tc.src).Eval(v); got != tc.want {
				t.Errorf("Eval(%q) = %v, want %v", tc.src, got, tc.want)
			}
		}
	}
}

func TestNullIdioms(t *testing.T) {
	v := mapVars{"empty": "", "host": "h", "obj": struct{}{}}
	runEvalCases(t, []evalCase{
		{`request.header.host is null`, v, true},
		{`host is null`, v, false},
		{`request.queryparam.country IsNot null`, v, false},
		{`host IsNot null`, v, true},
		{`flow.custom_error_text NotEquals null`, v, false},
		{`empty = null`, v, false}, // an empty string is not null
		{`empty = ""`, v, true},
		{`empty != null`, v, true},
		{`obj != null`, v, true},
		{`obj = null`, v, false},
		{`unknown = "x"`, v, false},
		{`unknown`, v, false},
		{`not unknown`, v, true},
	})
}

// TestPromotion checks the promotion matrix: String wins, numbers compare in
// the wider type, Booleans compare with Booleans and as 1/0 with numbers,
// opaque objects never compare.
func TestPromotion(t *testing.T) {
	v := mapVars{
		"s10": "10", "s404": "404", "strue": "true", "s2.5": "2.5", "s1.0": "1.0",
		"i404": 404, "i10": 10, "i1": 1, "i32": int32(10), "l10": int64(10),
		"f2.5": float32(2.5), "f0.1": float32(0.1), "d2.5": 2.5, "d0.1": 0.1, "d1": 1.0, "d1e10": 1e10,
		"bt": true, "bf": false,
		"obj": struct{ x int }{1}, "coll": []string{"a"},
	}
	runEvalCases(t, []evalCase{
		// anything × String → String
		{`s10 > 5`, v, false}, // "10" vs "5" lexicographic
		{`s10 < 5`, v, true},
		{`s10 = 10`, v, true},
		{`s404 = i404`, v, true},
		{`i10 > "5"`, v, false},
		{`strue = true`, v, true},
		{`bt = "true"`, v, true},
		{`bt = "TRUE"`, v, false},
		{`bt := "TRUE"`, v, true},
		{`s2.5 = f2.5`, v, true},
		{`s1.0 = d1`, v, true},        // Double.toString(1.0) = "1.0"
		{`d1e10 = "1.0E10"`, v, true}, // Double.toString(1.0E10)
		{`s10 = 10L`, v, true},
		// numeric × numeric
		{`i10 > 5`, v, true},
		{`i10 = i32`, v, true},
		{`i10 = l10`, v, true},
		{`l10 >= 10`, v, true},
		{`i10 = 10.0`, v, true},
		{`d2.5 = f2.5`, v, true},
		{`f2.5 > 2`, v, true},
		{`f0.1 = d0.1`, v, false}, // (double)0.1f != 0.1
		{`f0.1 = 0.1f`, v, true},
		{`i404 = 404`, v, true},
		{`i404 = "404"`, v, true},
		{`i404 > 399`, v, true},
		{`i404 GreaterThan 500`, v, false},
		// Boolean × Boolean, Boolean × Integer
		{`bt = true`, v, true},
		{`bt = false`, v, false},
		{`bt > bf`, v, true},
		{`bf < bt`, v, true},
		{`bt = 1`, v, true},
		{`bt = i1`, v, true},
		{`bf = 0`, v, true},
		{`bt = 1.0`, v, true},
		// opaque objects and collections never compare
		{`obj = obj`, v, false},
		{`obj != "x"`, v, false},
		{`obj ~ "*"`, v, false},
		{`coll = "a"`, v, false},
		{`coll != null`, v, true},
	})
}

func TestJavaFloatString(t *testing.T) {
	cases := []struct {
		v    any
		want string
	}{
		{1.0, "1.0"}, {2.5, "2.5"}, {0.001, "0.001"}, {0.0001, "1.0E-4"}, {1e7, "1.0E7"},
		{1234567.0, "1234567.0"}, {1.5e10, "1.5E10"}, {-2.0, "-2.0"}, {0.0, "0.0"},
		{float32(0.1), "0.1"}, {float32(2.5), "2.5"}, {float32(1e10), "1.0E10"},
		{404, "404"}, {int64(-7), "-7"}, {int32(3), "3"}, {true, "true"},
	}
	for _, tc := range cases {
		if got := javaString(tc.v); got != tc.want {
			t.Errorf("javaString(%T %v) = %q, want %q", tc.v, tc.v, got, tc.want)
		}
	}
}
