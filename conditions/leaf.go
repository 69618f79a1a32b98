package conditions

import "strings"

// leaf is one comparison or bare operand, evaluated in Go and called from
// the expr program. Operands are fetched through pre-built accessors and a
// literal pattern is compiled once, at Compile time.
type leaf struct {
	op      op // 0 for a bare operand
	l, r    operand
	pattern matcher // compiled right-hand pattern when it is a literal
	cfg     *config
}

// value fetches an operand: a literal, or a variable (unset is null).
func (o *operand) value(v Vars) any {
	if !o.isVar {
		return o.lit
	}
	if v == nil {
		return nil
	}
	x, ok := v.Lookup(o.name)
	if !ok {
		return nil
	}
	return x
}

func (lf *leaf) eval(v Vars) bool {
	l := lf.l.value(v)
	if lf.op == 0 {
		return truthy(lf.cfg.bare, l)
	}
	r := lf.r.value(v)
	if ls, ok := l.(string); ok {
		if rs, ok := r.(string); ok {
			return lf.strings(ls, rs)
		}
	}
	if !lf.op.isPattern() {
		return compareValues(lf.op, l, r)
	}
	lt, rt := typeOf(l), typeOf(r)
	if res, ok := nullResult(lf.op, lt, rt); ok {
		return res
	}
	if lt == jObject || rt == jObject {
		return false
	}
	m := lf.pattern
	if m == nil {
		if m = dynamicPatterns.get(lf.op, javaString(r), lf.cfg); m == nil {
			return false
		}
	}
	matched := m.match(javaString(l))
	if lf.op != positive(lf.op) {
		return !matched
	}
	return matched
}

// strings is the common case of two strings, decided without the
// promotion matrix.
func (lf *leaf) strings(l, r string) bool {
	switch lf.op {
	case opEq:
		return l == r
	case opNe:
		return l != r
	case opStarts:
		return strings.HasPrefix(l, r)
	case opNotStarts:
		return !strings.HasPrefix(l, r)
	}
	if !lf.op.isPattern() {
		return compareValues(lf.op, l, r)
	}
	m := lf.pattern
	if m == nil {
		if m = dynamicPatterns.get(lf.op, r, lf.cfg); m == nil {
			return false
		}
	}
	return m.match(l) == (lf.op == positive(lf.op))
}
