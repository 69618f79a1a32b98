package template

import (
	"fmt"
	mrand "math/rand/v2"
	"regexp/syntax"
	"strings"
	"unicode"
)

// xegerMaxLen bounds generated strings so nested repetitions cannot blow up.
const xegerMaxLen = 1 << 16

// xegerUnbounded is how many extra repetitions *, + and {n,} may add.
const xegerUnbounded = 8

func parseXeger(expr string) (*syntax.Regexp, error) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, fmt.Errorf("regex %q is not supported by RE2 (Java-only construct?): %v", expr, err)
	}
	return re, nil
}

var xegerCache = newCache(parseXeger)

// Xeger returns a random string matching the parsed regular expression (anchors and
// word boundaries generate nothing). Exported for mock-data generators.
func Xeger(expr string) (string, error) {
	re, err := xegerCache.get(expr)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	xeger(&b, re)
	return b.String(), nil
}

func compileXeger(args []arg) (evaluator, error) {
	var fixed *syntax.Regexp
	if args[0].lit {
		re, err := parseXeger(args[0].text)
		if err != nil {
			return nil, &argError{0, err.Error()}
		}
		fixed = re
	}
	return func(e *env) (string, bool) {
		s, ok := args[0].eval(e)
		if !ok {
			return "", false
		}
		re := fixed
		if re == nil {
			var err error
			if re, err = xegerCache.get(s); err != nil {
				return "", false
			}
		}
		var b strings.Builder
		xeger(&b, re)
		return b.String(), true
	}, nil
}

// xeger walks the regexp syntax tree, appending a random matching string.
func xeger(b *strings.Builder, re *syntax.Regexp) {
	if b.Len() > xegerMaxLen {
		return
	}
	switch re.Op {
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 && mrand.IntN(2) == 0 {
				r = unicode.SimpleFold(r)
			}
			b.WriteRune(r)
		}
	case syntax.OpCharClass:
		b.WriteRune(pickRune(re.Rune))
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteRune(rune(0x20 + mrand.IntN(0x7f-0x20)))
	case syntax.OpCapture:
		xeger(b, re.Sub[0])
	case syntax.OpStar:
		repeat(b, re.Sub[0], 0, -1)
	case syntax.OpPlus:
		repeat(b, re.Sub[0], 1, -1)
	case syntax.OpQuest:
		repeat(b, re.Sub[0], 0, 1)
	case syntax.OpRepeat:
		repeat(b, re.Sub[0], re.Min, re.Max)
	case syntax.OpConcat:
		for _, s := range re.Sub {
			xeger(b, s)
		}
	case syntax.OpAlternate:
		xeger(b, re.Sub[mrand.IntN(len(re.Sub))])
	}
}

func repeat(b *strings.Builder, re *syntax.Regexp, lo, hi int) {
	if hi < 0 {
		hi = lo + xegerUnbounded
	}
	n := lo + mrand.IntN(hi-lo+1)
	for range n {
		xeger(b, re)
	}
}

// pickRune picks a rune from a class given as [lo, hi] pairs, preferring printable
// ASCII when the class has any, and never a surrogate.
func pickRune(ranges []rune) rune {
	if r, ok := pickIn(ranges, 0x20, 0x7e); ok {
		return r
	}
	if r, ok := pickIn(ranges, 0, 0xd7ff); ok {
		return r
	}
	if r, ok := pickIn(ranges, 0xe000, unicode.MaxRune); ok {
		return r
	}
	return 'x'
}

// pickIn picks uniformly among the class runes within [min, max].
func pickIn(ranges []rune, min, max rune) (rune, bool) {
	total := 0
	for i := 0; i+1 < len(ranges); i += 2 {
		lo, hi := clampRange(ranges[i], ranges[i+1], min, max)
		if lo <= hi {
			total += int(hi-lo) + 1
		}
	}
	if total == 0 {
		return 0, false
	}
	k := mrand.IntN(total)
	for i := 0; i+1 < len(ranges); i += 2 {
		lo, hi := clampRange(ranges[i], ranges[i+1], min, max)
		if lo > hi {
			continue
		}
		if n := int(hi-lo) + 1; k >= n {
			k -= n
			continue
		}
		return lo + rune(k), true
	}
	return 0, false
}

func clampRange(lo, hi, min, max rune) (rune, rune) {
	return maxRune(lo, min), minRune(hi, max)
}

func maxRune(a, b rune) rune {
	if a > b {
		return a
	}
	return b
}

func minRune(a, b rune) rune {
	if a < b {
		return a
	}
	return b
}
