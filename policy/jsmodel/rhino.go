package jsmodel

import (
	"reflect"

	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/file"
	"github.com/dop251/goja/token"
)

// rhinoReport is what checkRhino finds in one script.
type rhinoReport struct {
	issues []Issue
	// leaksState: the script may leave state in the runtime outside its
	// global object (top-level lexical declarations, writes to built-ins).
	leaksState bool
}

// builtins are the global objects a script could modify for every later
// run on the same runtime.
var builtins = map[string]bool{
	"Object": true, "Function": true, "Array": true, "String": true, "Number": true, "Boolean": true,
	"Date": true, "RegExp": true, "Math": true, "JSON": true, "Error": true, "TypeError": true,
	"RangeError": true, "SyntaxError": true, "ReferenceError": true, "EvalError": true, "URIError": true,
	"Symbol": true, "Promise": true, "Map": true, "Set": true, "WeakMap": true, "WeakSet": true,
	"Reflect": true, "Proxy": true, "BigInt": true, "ArrayBuffer": true, "DataView": true,
	"Uint8Array": true, "Int8Array": true, "Uint16Array": true, "Int16Array": true, "Uint32Array": true,
	"Int32Array": true, "Float32Array": true, "Float64Array": true, "Uint8ClampedArray": true,
}

// checkRhino walks a parsed script and reports the syntax Rhino (Apigee's
// engine, roughly ES5) rejects, one warning per construct and line.
func checkRhino(name string, prg *ast.Program) rhinoReport {
	w := &rhinoWalker{name: name, file: prg.File, seen: map[[2]int]bool{}}
	for _, st := range prg.Body {
		if ld, ok := st.(*ast.LexicalDeclaration); ok {
			w.rep.leaksState = true
			kw := "let"
			if ld.Token == token.CONST {
				kw = "const"
			}
			w.warn(ld.Idx, 1, "top-level "+kw+" declaration is not supported by Rhino; use var")
		}
		if _, ok := st.(*ast.ClassDeclaration); ok {
			w.rep.leaksState = true
		}
	}
	w.walk(reflect.ValueOf(prg.Body))
	return w.rep
}

type rhinoWalker struct {
	name string
	file *file.File
	rep  rhinoReport
	seen map[[2]int]bool // (kind, line) already reported
}

func (w *rhinoWalker) warn(idx file.Idx, kind int, msg string) {
	pos := w.file.Position(int(idx) - w.file.Base())
	key := [2]int{kind, pos.Line}
	if w.seen[key] {
		return
	}
	w.seen[key] = true
	w.rep.issues = append(w.rep.issues, Issue{Script: w.name, Line: pos.Line, Col: pos.Column, Msg: msg, Warning: true})
}

var nodeType = reflect.TypeOf((*ast.Node)(nil)).Elem()

// walk visits every node below v. The AST is a tree of pointers, slices
// and interfaces; goja offers no visitor, so reflection does the descent
// (once per script, at load).
func (w *rhinoWalker) walk(v reflect.Value) {
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return
		}
		if v.Type().Implements(nodeType) {
			w.visit(v.Interface().(ast.Node))
		}
		w.walk(v.Elem())
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			w.walk(v.Index(i))
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < v.NumField(); i++ {
			f := t.Field(i)
			// DeclarationList repeats bindings found in the body; File is
			// not a node.
			if !f.IsExported() || f.Name == "DeclarationList" || f.Name == "File" {
				continue
			}
			w.walk(v.Field(i))
		}
	}
}

// Kinds of warnings (deduplication keys).
const (
	kindLexical = iota + 1
	kindArrow
	kindTemplate
	kindClass
	kindSpread
	kindAsync
	kindForOf
	kindDestructuring
	kindOptional
)

func (w *rhinoWalker) visit(n ast.Node) {
	switch n := n.(type) {
	case *ast.ArrowFunctionLiteral:
		w.warn(n.Start, kindArrow, "arrow function is not supported by Rhino; use function")
		if n.Async {
			w.warn(n.Start, kindAsync, "async function is not supported by Rhino")
		}
	case *ast.TemplateLiteral:
		w.warn(n.OpenQuote, kindTemplate, "template literal is not supported by Rhino; concatenate strings")
	case *ast.ClassLiteral:
		w.warn(n.Class, kindClass, "class is not supported by Rhino; use a constructor function")
	case *ast.SpreadElement:
		w.warn(n.Idx0(), kindSpread, "spread syntax (...) is not supported by Rhino")
	case *ast.FunctionLiteral:
		if n.Async {
			w.warn(n.Function, kindAsync, "async function is not supported by Rhino")
		}
	case *ast.AwaitExpression:
		w.warn(n.Await, kindAsync, "await is not supported by Rhino")
	case *ast.ForOfStatement:
		w.warn(n.For, kindForOf, "for...of is not supported by Rhino; use an index loop")
	case *ast.ObjectPattern, *ast.ArrayPattern:
		w.warn(n.Idx0(), kindDestructuring, "destructuring is not supported by Rhino")
	case *ast.OptionalChain:
		w.warn(n.Idx0(), kindOptional, "optional chaining (?.) is not supported by Rhino")
	case *ast.AssignExpression:
		if builtinRoot(n.Left) {
			w.rep.leaksState = true
		}
	case *ast.CallExpression:
		if definesOnBuiltin(n) {
			w.rep.leaksState = true
		}
	}
}

// builtinRoot reports whether e is a member expression rooted at a
// built-in global (String.prototype.x, JSON.foo).
func builtinRoot(e ast.Expression) bool {
	member := false
	for {
		switch x := e.(type) {
		case *ast.DotExpression:
			e, member = x.Left, true
		case *ast.BracketExpression:
			e, member = x.Left, true
		case *ast.Identifier:
			return member && builtins[x.Name.String()]
		default:
			return false
		}
	}
}

// definesOnBuiltin matches Object.defineProperty(String.prototype, ...)
// and its relatives.
func definesOnBuiltin(c *ast.CallExpression) bool {
	d, ok := c.Callee.(*ast.DotExpression)
	if !ok || len(c.ArgumentList) == 0 {
		return false
	}
	obj, ok := d.Left.(*ast.Identifier)
	if !ok || (obj.Name != "Object" && obj.Name != "Reflect") {
		return false
	}
	switch d.Identifier.Name {
	case "defineProperty", "defineProperties", "assign", "setPrototypeOf", "set", "deleteProperty":
	default:
		return false
	}
	first := c.ArgumentList[0]
	if id, ok := first.(*ast.Identifier); ok {
		return builtins[id.Name.String()]
	}
	return builtinRoot(first)
}
