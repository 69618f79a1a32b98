package conditions

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// Vars is how conditions read flow variables. Values are typed Go values:
// string, bool, int or int32 (Java Integer), int64 (Long), float32 (Float),
// float64 (Double), nil (null); []string is a collection; anything else is an
// opaque object (compares false except null tests). ok=false means unset (null).
type Vars interface {
	Lookup(name string) (any, bool)
}

// Condition is a compiled condition. It is immutable and safe for
// concurrent use.
type Condition struct {
	src     string
	vars    []string
	leaves  []*leaf
	names   []string    // expr identifier of each leaf
	program *vm.Program // the boolean structure, calling the leaves
	pool    sync.Pool   // *evaluator
}

// evaluator is the per-evaluation state: an expr VM and a program whose leaf
// functions read the Vars of the evaluation in progress.
type evaluator struct {
	vm      vm.VM
	vars    Vars
	program *vm.Program
}

// Compile parses and compiles a condition. Text that is empty or only
// whitespace compiles to a condition that is always true, as Apigee treats
// an empty <Condition/> like an absent one. The error is a *SyntaxError.
func Compile(src string, opts ...Option) (*Condition, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	c := &Condition{src: src}
	source := "true"
	if strings.TrimSpace(src) != "" {
		root, vars, err := parse(src)
		if err != nil {
			return nil, err
		}
		c.vars = vars
		var b strings.Builder
		if err := c.lower(&b, root, &cfg); err != nil {
			return nil, err
		}
		source = b.String()
	}
	if err := c.compileExpr(source); err != nil {
		msg, _, _ := strings.Cut(err.Error(), "\n")
		return nil, newSyntaxError(src, 0, "internal error lowering condition: %s", msg)
	}
	c.pool.New = c.newEvaluator
	return c, nil
}

// MustCompile is Compile that panics on error, for conditions known at
// build time (tests, built-in flows).
func MustCompile(src string, opts ...Option) *Condition {
	c, err := Compile(src, opts...)
	if err != nil {
		panic("conditions: " + err.Error() + "\n" + err.(*SyntaxError).Caret())
	}
	return c
}

// compileExpr compiles the lowered boolean structure with expr. Every leaf
// is a zero-argument expr function, which the VM calls directly (OpCall0)
// with no argument slice and no environment lookup. The optimizer is off so
// that the k-th function of the program is leaf k (checked below); each
// evaluator then gets its own copy of the program whose functions are bound
// to that evaluator's Vars. The result is boolean by construction (only
// true, false, leaf calls, &&, || and !), so no AsBool cast is emitted.
func (c *Condition) compileExpr(source string) error {
	opts := []expr.Option{expr.Env(map[string]any{}), expr.Optimize(false), expr.DisableAllBuiltins()}
	for _, n := range c.names {
		opts = append(opts, expr.Function(n, func(...any) (any, error) { return false, nil }, new(func() bool)))
	}
	program, err := expr.Compile(source, opts...)
	if err != nil {
		return err
	}
	k := 0
	for ip, code := range program.Bytecode {
		if code == vm.OpCall0 {
			if program.Arguments[ip] != k {
				return fmt.Errorf("leaf %d bound to function %d", k, program.Arguments[ip])
			}
			k++
		}
	}
	if k != len(c.leaves) {
		return fmt.Errorf("%d leaf calls for %d leaves", k, len(c.leaves))
	}
	c.program = program
	return nil
}

// newEvaluator makes the per-evaluation state: a VM and a copy of the
// program whose leaf functions read this evaluator's Vars.
func (c *Condition) newEvaluator() any {
	e := &evaluator{}
	funcs := make([]vm.Function, len(c.leaves))
	for i, lf := range c.leaves {
		funcs[i] = func(...any) (any, error) { return lf.eval(e.vars), nil }
	}
	p := c.program
	e.program = vm.NewProgram(p.Source(), p.Node(), p.Locations(), 0, p.Constants,
		p.Bytecode, p.Arguments, funcs, nil, nil)
	return e
}

// Eval evaluates the condition against flow variables. It is safe for
// concurrent use and never panics: a failure inside a Vars implementation
// makes the condition false. A nil *Condition (no <Condition> element) is
// always true.
func (c *Condition) Eval(v Vars) bool {
	if c == nil {
		return true
	}
	e := c.pool.Get().(*evaluator)
	e.vars = v
	out, err := e.vm.Run(e.program, nil)
	e.vars = nil
	c.pool.Put(e)
	if err != nil {
		return false
	}
	b, _ := out.(bool)
	return b
}

// String returns the source text.
func (c *Condition) String() string {
	if c == nil {
		return ""
	}
	return c.src
}

// Variables returns the variable names the condition references, in order of
// first appearance.
func (c *Condition) Variables() []string {
	if c == nil {
		return nil
	}
	return append([]string(nil), c.vars...)
}

// lower writes the expr source for n, turning every comparison into a leaf
// call. Comparisons of two literals are decided here.
func (c *Condition) lower(b *strings.Builder, n node, cfg *config) error {
	switch n := n.(type) {
	case *andNode:
		return c.lowerBinary(b, n.l, " && ", n.r, cfg)
	case *orNode:
		return c.lowerBinary(b, n.l, " || ", n.r, cfg)
	case *notNode:
		b.WriteString("!(")
		if err := c.lower(b, n.x, cfg); err != nil {
			return err
		}
		b.WriteString(")")
		return nil
	case *bareNode:
		return c.addLeaf(b, &leaf{l: n.x, cfg: cfg})
	case *cmpNode:
		lf := &leaf{op: n.op, l: n.l, r: n.r, cfg: cfg}
		if err := c.compileLiteralPattern(lf); err != nil {
			return err
		}
		return c.addLeaf(b, lf)
	}
	return errors.New("unknown node")
}

func (c *Condition) lowerBinary(b *strings.Builder, l node, connective string, r node, cfg *config) error {
	b.WriteString("(")
	if err := c.lower(b, l, cfg); err != nil {
		return err
	}
	b.WriteString(connective)
	if err := c.lower(b, r, cfg); err != nil {
		return err
	}
	b.WriteString(")")
	return nil
}

// addLeaf registers a leaf and writes its call, or its constant result when
// no operand is a variable.
func (c *Condition) addLeaf(b *strings.Builder, lf *leaf) error {
	if !lf.l.isVar && (lf.op == 0 || !lf.r.isVar) {
		b.WriteString(strconv.FormatBool(lf.eval(nil)))
		return nil
	}
	name := "c" + strconv.Itoa(len(c.leaves))
	c.leaves = append(c.leaves, lf)
	c.names = append(c.names, name)
	b.WriteString(name + "()")
	return nil
}

// compileLiteralPattern compiles a literal right-hand pattern at Compile
// time, reporting an invalid one at its position in the condition.
func (c *Condition) compileLiteralPattern(lf *leaf) error {
	s, ok := lf.r.lit.(string)
	if !lf.op.isPattern() || lf.r.isVar || !ok {
		return nil
	}
	m, err := compilePattern(lf.op, s, lf.cfg)
	if err != nil {
		var pe *patternError
		at := lf.r.pos
		if errors.As(err, &pe) && pe.at > 0 && pe.at < len(lf.r.offs) {
			at = lf.r.offs[pe.at]
		} else if pe != nil && pe.at == 0 && len(lf.r.offs) > 0 {
			at = lf.r.offs[0]
		}
		return newSyntaxError(c.src, at, "%s", err.Error())
	}
	lf.pattern = m
	return nil
}
