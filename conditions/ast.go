package conditions

// op is a comparison operator, after aliases are resolved.
type op uint8

const (
	opEq op = iota + 1
	opNe
	opEqCI
	opGt
	opGe
	opLt
	opLe
	opMatches
	opNotMatches
	opRegex
	opNotRegex
	opPath
	opNotPath
	opStarts
	opNotStarts
	opCount
)

var opNames = [opCount]string{
	opEq: "Equals", opNe: "NotEquals", opEqCI: "EqualsCaseInsensitive",
	opGt: "GreaterThan", opGe: "GreaterThanOrEquals", opLt: "LesserThan", opLe: "LesserThanOrEquals",
	opMatches: "Matches", opNotMatches: "NotMatches", opRegex: "JavaRegex", opNotRegex: "NotJavaRegex",
	opPath: "MatchesPath", opNotPath: "NotMatchesPath", opStarts: "StartsWith", opNotStarts: "NotStartsWith",
}

func (o op) String() string { return opNames[o] }

// negated returns the negated form of a pattern operator, for
// "a not MatchesPath b"; ok is false for operators that have none.
func (o op) negated() (op, bool) {
	switch o {
	case opMatches:
		return opNotMatches, true
	case opRegex:
		return opNotRegex, true
	case opPath:
		return opNotPath, true
	case opStarts:
		return opNotStarts, true
	}
	return 0, false
}

// isPattern reports whether the right operand of o is a pattern.
func (o op) isPattern() bool { return o >= opMatches && o <= opNotStarts }

// node is a parsed condition.
type node interface{ pos() int }

// andNode, orNode and notNode are the boolean connectives.
type (
	andNode struct {
		l, r node
		at   int
	}
	orNode struct {
		l, r node
		at   int
	}
	notNode struct {
		x  node
		at int
	}
)

// cmpNode is "operand OP operand".
type cmpNode struct {
	op   op
	l, r operand
	at   int
}

// bareNode is a bare operand tested for truthiness.
type bareNode struct {
	x  operand
	at int
}

func (n *andNode) pos() int  { return n.at }
func (n *orNode) pos() int   { return n.at }
func (n *notNode) pos() int  { return n.at }
func (n *cmpNode) pos() int  { return n.at }
func (n *bareNode) pos() int { return n.at }

// operand is a variable reference or a typed literal (nil is null).
type operand struct {
	name  string // variable name when isVar
	isVar bool
	lit   any   // literal value when !isVar
	offs  []int // source offset of each byte of a string literal
	pos   int
}
