package jsmodel

import (
	"testing"
	"time"
)

func TestSimpleDateFormat(t *testing.T) {
	at := time.Date(2024, time.March, 5, 14, 7, 9, 45*int(time.Millisecond), time.UTC)
	cases := []struct{ pattern, want string }{
		{"yyyy-MM-dd HH:mm:ss.SSS", "2024-03-05 14:07:09.045"},
		{"yy/M/d h:mm a", "24/3/5 2:07 PM"},
		{"EEE, dd MMM yyyy HH:mm:ss z", "Tue, 05 Mar 2024 14:07:09 UTC"},
		{"EEEE MMMM D", "Tuesday March 65"},
		{"yyyy-MM-dd'T'HH:mm:ssXXX", "2024-03-05T14:07:09Z"},
		{"'o''clock' K k Z", "o'clock 2 14 +0000"},
	}
	for _, c := range cases {
		if got := SimpleDateFormat(c.pattern, at); got != c.want {
			t.Errorf("SimpleDateFormat(%q) = %q, want %q", c.pattern, got, c.want)
		}
	}
}

func TestNumberConversion(t *testing.T) {
	cases := []struct {
		in   float64
		want any
	}{{42, 42}, {-3, -3}, {0.5, 0.5}, {1 << 60, float64(1 << 60)}}
	for _, c := range cases {
		if got := number(c.in); got != c.want {
			t.Errorf("number(%v) = %#v, want %#v", c.in, got, c.want)
		}
	}
}

func TestIsolation(t *testing.T) {
	cases := []struct {
		src     string
		isolate bool
	}{
		{"var a = 1; function f() {}", false},
		{"function f() { let a = 1; const b = 2; return a + b; }", false},
		{"const a = 1;", true},
		{"class A {}", true},
		{"String.prototype.x = function () {};", true},
		{"Object.defineProperty(Array.prototype, 'y', {value: 1});", true},
		{"var o = {}; o.prototype = 1;", false},
	}
	for _, c := range cases {
		p, issues := Compile(Config{Policy: "P", Scripts: []Script{{Name: "a.js", Source: c.src}}})
		if p == nil {
			t.Fatalf("Compile(%q): %v", c.src, issues)
		}
		if p.isolate != c.isolate {
			t.Errorf("Compile(%q).isolate = %v, want %v", c.src, p.isolate, c.isolate)
		}
		p.Close()
	}
}
