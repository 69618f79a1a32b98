// Package jsmodel runs the scripts of Apigee's Javascript policy on goja: it
// compiles them once at load, checks them for syntax Apigee's Rhino engine
// would reject, and executes them per request against an exchange through
// Apigee's JavaScript object model (context, request, response, properties,
// print, httpClient, Request, crypto).
//
// Runtimes are pooled. Each use gets a fresh global object whose prototype
// is the runtime's pristine one, so top-level var and function declarations
// and implicit globals never reach the next request; a program that could
// leave state anywhere else (top-level let/const/class, assignments to
// built-in objects such as String.prototype) runs on a runtime that is
// discarded afterwards. A runtime is never shared by two goroutines.
package jsmodel

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"

	"github.com/apigo/apigo/policy/exchange"
	"github.com/apigo/apigo/policy/httptarget"
)

// Script is one script file: an IncludeURL, the ResourceURL or an inline
// Source.
type Script struct {
	// Name is the file name used in error messages and stack positions,
	// "route.js" for jsc://route.js.
	Name   string
	Source string
}

// Config describes what Compile builds.
type Config struct {
	// Policy is the policy name (print output, faultstrings).
	Policy string
	// Scripts run in order on one runtime: the IncludeURLs, then the main
	// script last.
	Scripts []Script
	// Properties is the `properties` object (<Properties>).
	Properties map[string]string
	// TimeLimit aborts a run that takes longer (timeLimit, ms). Zero means
	// no limit.
	TimeLimit time.Duration
	// HTTP configures httpClient's connections (transport, --map-url). The
	// zero value is usable.
	HTTP httptarget.Options
	// Flow computes context.flow for an exchange. Nil uses DefaultFlow.
	Flow func(x *exchange.Exchange) string
	// Log, when set, receives every line print() writes, prefixed with the
	// policy name. Default nil: print output only goes to the exchange.
	Log func(line string)
}

// Issue is a problem found while compiling one script. Line and Col are
// 1-based positions inside the script (0 when unknown).
type Issue struct {
	Script    string
	Line, Col int
	Msg       string
	Warning   bool // false: the script cannot run
}

func (i Issue) String() string {
	return fmt.Sprintf("%s:%d:%d: %s", i.Script, i.Line, i.Col, i.Msg)
}

// Program is a compiled Javascript policy: immutable and safe for
// concurrent use.
type Program struct {
	cfg      Config
	programs []*goja.Program
	// isolate says the scripts may leave state in the runtime beyond its
	// global object, so the runtime is discarded after each run.
	isolate bool
	client  *httpClientConn
}

// Compile parses and compiles every script once. Errors (syntax) make the
// returned Program nil; warnings (syntax Rhino rejects) do not.
func Compile(cfg Config) (*Program, []Issue) {
	p := &Program{cfg: cfg}
	var issues []Issue
	failed := false
	for _, s := range cfg.Scripts {
		ast, err := parser.ParseFile(nil, s.Name, s.Source, 0, parser.WithDisableSourceMaps)
		if err != nil {
			issues = append(issues, syntaxIssues(s.Name, err)...)
			failed = true
			continue
		}
		rep := checkRhino(s.Name, ast)
		issues = append(issues, rep.issues...)
		p.isolate = p.isolate || rep.leaksState
		prg, err := goja.CompileAST(ast, false)
		if err != nil {
			issues = append(issues, compileIssue(s.Name, err))
			failed = true
			continue
		}
		p.programs = append(p.programs, prg)
	}
	if failed {
		return nil, issues
	}
	if p.cfg.Flow == nil {
		p.cfg.Flow = DefaultFlow
	}
	p.client = newHTTPClientConn(cfg.HTTP)
	return p, issues
}

// Close releases httpClient's idle connections.
func (p *Program) Close() {
	if p.client != nil {
		p.client.close()
	}
}

func syntaxIssues(name string, err error) []Issue {
	var list parser.ErrorList
	if errors.As(err, &list) {
		out := make([]Issue, 0, len(list))
		for _, e := range list {
			out = append(out, Issue{Script: name, Line: e.Position.Line, Col: e.Position.Column,
				Msg: "SyntaxError: " + e.Message})
			if len(out) == 10 {
				break
			}
		}
		return out
	}
	return []Issue{{Script: name, Msg: "SyntaxError: " + err.Error()}}
}

func compileIssue(name string, err error) Issue {
	var se *goja.CompilerSyntaxError
	if errors.As(err, &se) && se.File != nil {
		pos := se.File.Position(se.Offset)
		return Issue{Script: name, Line: pos.Line, Col: pos.Column, Msg: "SyntaxError: " + se.Message}
	}
	return Issue{Script: name, Msg: err.Error()}
}

// Run executes the scripts against x. A failure is an *Error.
func (p *Program) Run(ctx context.Context, x *exchange.Exchange) error {
	vm := getVM()
	keep := false
	defer func() { putVM(vm, keep) }()
	vm.begin(ctx, p, x)
	defer vm.end()
	stop := p.watch(ctx, vm)
	err := p.runScripts(vm)
	if err == nil {
		err = vm.finishCalls()
	}
	clean := stop()
	keep = clean && !p.isolate && !isInterrupt(err)
	if err != nil {
		return p.asError(err)
	}
	return nil
}

func (p *Program) runScripts(vm *jsVM) error {
	for _, prg := range p.programs {
		if _, err := vm.r.RunProgram(prg); err != nil {
			return err
		}
	}
	return nil
}

// watch interrupts the runtime when the time limit passes or ctx ends. The
// function it returns stops watching and reports whether no interrupt can
// still arrive (else the runtime must not be reused).
func (p *Program) watch(ctx context.Context, vm *jsVM) func() bool {
	var timer *time.Timer
	if p.cfg.TimeLimit > 0 {
		timer = time.AfterFunc(p.cfg.TimeLimit, func() { vm.r.Interrupt(errTimeLimit) })
	}
	stopCtx := context.AfterFunc(ctx, func() { vm.r.Interrupt(context.Cause(ctx)) })
	return func() bool {
		clean := stopCtx()
		if timer != nil && !timer.Stop() {
			clean = false
		}
		if clean {
			vm.r.ClearInterrupt()
		}
		return clean
	}
}

var errTimeLimit = errors.New("time limit exceeded")

func isInterrupt(err error) bool {
	var ie *goja.InterruptedError
	return errors.As(err, &ie)
}
