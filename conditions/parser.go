package conditions

import "strings"

// parser is a recursive-descent parser with one token of look-ahead.
// Precedence, loosest first: or, and, not, comparison; and/or are left
// associative. "not" applies to the comparison or group that follows it, so
// `not a = "x"` means not (a = "x").
type parser struct {
	lex   lexer
	tok   token
	vars  []string
	seen  map[string]bool
	depth int // current nesting of parentheses and "not"
	terms int // comparisons and bare operands so far
}

// Limits that keep hostile conditions from exhausting the stack or the
// expr compiler; real bundles stay far below them.
const (
	maxDepth = 100
	maxTerms = 1000
)

// enter counts one level of nesting at pos; leave undoes it.
func (p *parser) enter(pos int) error {
	if p.depth++; p.depth > maxDepth {
		return p.errorf(pos, "condition nested more than %d levels deep", maxDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// parse parses a whole condition.
func parse(src string) (node, []string, error) {
	p := &parser{lex: lexer{src: src}, seen: map[string]bool{}}
	if err := p.advance(); err != nil {
		return nil, nil, err
	}
	n, err := p.parseOr()
	if err != nil {
		return nil, nil, err
	}
	if p.tok.kind != tEOF {
		return nil, nil, p.unexpected()
	}
	return n, p.vars, nil
}

func (p *parser) advance() error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) errorf(pos int, format string, args ...any) error {
	return newSyntaxError(p.lex.src, pos, format, args...)
}

// describe names the current token for error messages.
func (p *parser) describe() string {
	if p.tok.kind == tEOF {
		return "end of condition"
	}
	return "\"" + p.lex.src[p.tok.pos:p.tok.end] + "\""
}

// typos maps lower-cased words that look like operators but are not
// Apigee's to the operator that was probably meant.
var typos = map[string]string{
	"lessthan": "LesserThan", "lessthanorequals": "LesserThanOrEquals",
	"greaterthanorequal": "GreaterThanOrEquals", "lesserthanorequal": "LesserThanOrEquals",
	"equal": "Equals", "notequal": "NotEquals", "notmatches": "not Matches",
	"contains": "Matches \"*text*\"", "startwith": "StartsWith", "regex": "JavaRegex",
}

// unexpected reports a token where the condition should have ended or an
// operator, "and" or "or" should have come.
func (p *parser) unexpected() error {
	if p.tok.kind == tIdent {
		if hint, ok := typos[strings.ToLower(p.tok.text)]; ok {
			return p.errorf(p.tok.pos, "unknown operator %s (did you mean %s?)", p.describe(), hint)
		}
		return p.errorf(p.tok.pos, "expected an operator, \"and\" or \"or\", found %s", p.describe())
	}
	return p.errorf(p.tok.pos, "unexpected %s", p.describe())
}

func (p *parser) parseOr() (node, error) {
	l, err := p.parseAnd()
	for err == nil && p.tok.kind == tOr {
		at := p.tok.pos
		if err = p.advance(); err != nil {
			break
		}
		var r node
		if r, err = p.parseAnd(); err == nil {
			l = &orNode{l: l, r: r, at: at}
		}
	}
	return l, err
}

func (p *parser) parseAnd() (node, error) {
	l, err := p.parseNot()
	for err == nil && p.tok.kind == tAnd {
		at := p.tok.pos
		if err = p.advance(); err != nil {
			break
		}
		var r node
		if r, err = p.parseNot(); err == nil {
			l = &andNode{l: l, r: r, at: at}
		}
	}
	return l, err
}

func (p *parser) parseNot() (node, error) {
	if p.tok.kind != tNot {
		return p.parsePrimary()
	}
	at := p.tok.pos
	if err := p.enter(at); err != nil {
		return nil, err
	}
	defer p.leave()
	if err := p.advance(); err != nil {
		return nil, err
	}
	x, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	return &notNode{x: x, at: at}, nil
}

func (p *parser) parsePrimary() (node, error) {
	if p.tok.kind == tLParen {
		open := p.tok.pos
		if err := p.enter(open); err != nil {
			return nil, err
		}
		defer p.leave()
		if err := p.advance(); err != nil {
			return nil, err
		}
		n, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tRParen {
			if p.tok.kind == tIdent {
				return nil, p.unexpected()
			}
			return nil, p.errorf(p.tok.pos, "expected \")\" to close \"(\" at col %d, found %s",
				newSyntaxError(p.lex.src, open, "").Col, p.describe())
		}
		return n, p.advance()
	}
	return p.parseComparison()
}

// parseComparison parses "operand [OP operand]".
func (p *parser) parseComparison() (node, error) {
	if p.terms++; p.terms > maxTerms {
		return nil, p.errorf(p.tok.pos, "condition has more than %d comparisons", maxTerms)
	}
	l, err := p.parseOperand()
	if err != nil {
		return nil, err
	}
	o, at, ok, err := p.parseOperator()
	if err != nil || !ok {
		return &bareNode{x: l, at: l.pos}, err
	}
	r, err := p.parseOperand()
	if err != nil {
		return nil, err
	}
	if p.tok.kind == tOp {
		return nil, p.errorf(p.tok.pos, "unexpected operator %s: comparisons do not chain, use and/or", p.describe())
	}
	return &cmpNode{op: o, l: l, r: r, at: at}, nil
}

// parseOperator reads a comparison operator, including the negated pattern
// forms "not MatchesPath" and "! Matches". ok is false when none follows.
func (p *parser) parseOperator() (op, int, bool, error) {
	at := p.tok.pos
	switch p.tok.kind {
	case tOp:
		o := p.tok.op
		return o, at, true, p.advance()
	case tNot:
		if err := p.advance(); err != nil {
			return 0, 0, false, err
		}
		if p.tok.kind != tOp {
			return 0, 0, false, p.errorf(p.tok.pos, "expected an operator after \"not\", found %s", p.describe())
		}
		neg, ok := p.tok.op.negated()
		if !ok {
			return 0, 0, false, p.errorf(p.tok.pos,
				"%s cannot be negated with \"not\"; only Matches, JavaRegex, MatchesPath and StartsWith can", p.describe())
		}
		return neg, at, true, p.advance()
	}
	return 0, 0, false, nil
}

// parseOperand reads a variable or a literal.
func (p *parser) parseOperand() (operand, error) {
	t := p.tok
	o := operand{pos: t.pos}
	switch t.kind {
	case tIdent:
		o.isVar, o.name = true, t.text
		if !p.seen[t.text] {
			p.seen[t.text] = true
			p.vars = append(p.vars, t.text)
		}
	case tString:
		o.lit, o.offs = t.text, t.offs
	case tNumber:
		o.lit = t.val
	case tTrue:
		o.lit = true
	case tFalse:
		o.lit = false
	case tNull:
		o.lit = nil
	case tOp:
		return o, p.errorf(t.pos, "expected operand before operator %s", p.describe())
	default:
		return o, p.errorf(t.pos, "expected operand, found %s", p.describe())
	}
	return o, p.advance()
}
