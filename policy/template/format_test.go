package template

import (
	"errors"
	"math"
	"testing"
	"time"
)

type stringer struct{}

func (stringer) String() string { return "S!" }

func TestFormat(t *testing.T) {
	cases := []struct {
		in   any
		want string
	}{
		{nil, ""},
		{"s", "s"},
		{true, "true"},
		{false, "false"},
		{42, "42"},
		{int32(-7), "-7"},
		{int64(1700000000123), "1700000000123"},
		{uint8(255), "255"},
		{1.0, "1.0"},
		{0.5, "0.5"},
		{100.0, "100.0"},
		{-2.25, "-2.25"},
		{0.001, "0.001"},
		{0.0001, "1.0E-4"},
		{1.5e-4, "1.5E-4"},
		{9999999.0, "9999999.0"},
		{1e7, "1.0E7"},
		{123456789.0, "1.23456789E8"},
		{1e21, "1.0E21"},
		{float32(0.1), "0.1"},
		{float32(1e10), "1.0E10"},
		{math.NaN(), "NaN"},
		{math.Inf(1), "Infinity"},
		{math.Inf(-1), "-Infinity"},
		{0.0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{[]string{"a", "b"}, "[a, b]"},
		{[]string{}, "[]"},
		{[]any{1, "x", nil, 2.5}, "[1, x, null, 2.5]"},
		{[]byte("raw"), "raw"},
		{stringer{}, "S!"},
		{errors.New("boom"), "boom"},
		{time.Duration(1500) * time.Millisecond, "1.5s"},
		{struct{ A int }{3}, "{3}"},
	}
	for _, tc := range cases {
		if got := Format(tc.in); got != tc.want {
			t.Errorf("Format(%#v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
