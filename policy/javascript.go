package policy

import (
	"context"
	"errors"
	"log"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
	"github.com/apigo/apigo/policy/jsmodel"
)

func init() { Register("Javascript", "javascript", buildJavascript) }

// DefaultJavascriptTimeLimit applies when <Javascript> has no timeLimit
// attribute. Apigee documents no default [?]; a limit keeps a runaway
// script from holding a request forever.
const DefaultJavascriptTimeLimit = 10 * time.Second

// Javascript is a built <Javascript> policy: its scripts compiled once,
// run per request on pooled goja runtimes (package jsmodel).
type Javascript struct {
	Name    string
	Program *jsmodel.Program
}

var javascriptChildren = map[string]bool{
	"DisplayName": true, "Description": true, "FaultRules": true,
}

// jsBuild collects the parts of a <Javascript> element.
type jsBuild struct {
	bc       *BuildContext
	p        *bundle.Policy
	cfg      jsmodel.Config
	includes []*etree.Element
	main     *etree.Element // ResourceURL or Source
}

func buildJavascript(bc *BuildContext, p *bundle.Policy) Policy {
	before := countErrors(bc.Problems)
	b := &jsBuild{bc: bc, p: p, cfg: jsmodel.Config{Policy: p.Name, Log: printLog}}
	b.cfg.TimeLimit = b.timeLimit()
	b.readChildren()
	if bc.Options != nil {
		b.cfg.HTTP = bc.Options.Target
	}
	inProxy, inTarget := endpointUse(bc.Bundle, p.Name)
	b.cfg.Flow = jsmodel.FlowFor(inProxy, inTarget)
	positions := b.scripts()
	if countErrors(bc.Problems) > before {
		return nil
	}
	prg, issues := jsmodel.Compile(b.cfg)
	for _, is := range issues {
		b.report(is, positions[is.Script])
	}
	if prg == nil {
		return nil
	}
	return &Javascript{Name: p.Name, Program: prg}
}

func printLog(line string) { log.Print("print: " + line) }

func (b *jsBuild) timeLimit() time.Duration {
	a := b.p.Element.SelectAttr("timeLimit")
	if a == nil {
		return DefaultJavascriptTimeLimit
	}
	n, err := strconv.ParseInt(strings.TrimSpace(a.Value), 10, 64)
	if err == nil && n == 0 {
		// Real bundles deploy with timeLimit="0"; read it as "no limit
		// given" and apply the default.
		return DefaultJavascriptTimeLimit
	}
	if err != nil || n < 0 || n > int64(24*time.Hour/time.Millisecond) {
		b.bc.Problems.Errorf(b.p.Doc.Pos(b.p.Element), "<Javascript> timeLimit=%q is not a positive number of milliseconds", a.Value)
		return 0
	}
	return time.Duration(n) * time.Millisecond
}

func (b *jsBuild) readChildren() {
	doc, ps := b.p.Doc, b.bc.Problems
	for _, el := range b.p.Element.ChildElements() {
		switch el.Tag {
		case "IncludeURL":
			b.includes = append(b.includes, el)
		case "ResourceURL", "Source":
			if b.main != nil {
				ps.Errorf(doc.Pos(el), "<Javascript> has both <%s> and <%s>; use exactly one", b.main.Tag, el.Tag)
				continue
			}
			b.main = el
		case "Properties":
			b.cfg.Properties = readProperties(el)
		case "SSLInfo":
			ps.Warnf(doc.Pos(el), "<SSLInfo> of <Javascript> is ignored: httpClient uses the run's transport options")
		default:
			if !javascriptChildren[el.Tag] {
				ps.Warnf(doc.Pos(el), "unknown element <%s> in <Javascript>, ignored", el.Tag)
			}
		}
	}
	if b.main == nil {
		ps.Errorf(doc.Pos(b.p.Element), "<Javascript> needs a <ResourceURL> or a <Source>")
	}
}

func readProperties(el *etree.Element) map[string]string {
	props := map[string]string{}
	for _, p := range el.SelectElements("Property") {
		props[p.SelectAttrValue("name", "")] = p.Text()
	}
	return props
}

// scriptPos says where a script's problems are reported: at its element,
// or, for an inline Source, at the script's own line inside the XML file.
type scriptPos struct {
	el        *etree.Element
	inline    bool
	firstLine int // file line of the script's line 1 (inline only)
}

// scripts resolves the IncludeURLs and the main script into cfg.Scripts.
func (b *jsBuild) scripts() map[string]scriptPos {
	pos := map[string]scriptPos{}
	for _, el := range b.includes {
		b.addResource(el, pos)
	}
	if b.main == nil {
		return pos
	}
	if b.main.Tag == "ResourceURL" {
		b.addResource(b.main, pos)
		return pos
	}
	src := b.main.Text()
	name := b.p.Name + ".js"
	tp := b.p.Doc.TextPos(b.main)
	lead := src[:len(src)-len(strings.TrimLeft(src, " \t\r\n"))]
	first := tp.Line - strings.Count(lead, "\n")
	pos[name] = scriptPos{el: b.main, inline: true, firstLine: first}
	b.cfg.Scripts = append(b.cfg.Scripts, jsmodel.Script{Name: name, Source: src})
	return pos
}

func (b *jsBuild) addResource(el *etree.Element, pos map[string]scriptPos) {
	doc, ps := b.p.Doc, b.bc.Problems
	ref := strings.TrimSpace(el.Text())
	name, ok := strings.CutPrefix(ref, "jsc://")
	if !ok || name == "" {
		ps.Errorf(doc.TextPos(el), "<%s> %q is not a jsc:// resource", el.Tag, ref)
		return
	}
	var src []byte
	found := false
	if b.bc.Bundle != nil {
		src, found = b.bc.Bundle.Resources[ref]
	}
	if !found {
		ps.Errorf(doc.TextPos(el), "<%s>: resource %s not found (expected resources/jsc/%s)", el.Tag, ref, name)
		return
	}
	pos[name] = scriptPos{el: el}
	b.cfg.Scripts = append(b.cfg.Scripts, jsmodel.Script{Name: name, Source: string(src)})
}

// report positions a compile issue: inline scripts at their line in the
// XML, resources at the element naming them with the script's line.
func (b *jsBuild) report(is jsmodel.Issue, sp scriptPos) {
	doc, ps := b.p.Doc, b.bc.Problems
	at := doc.Pos(sp.el)
	msg := is.String() + " (Javascript " + b.p.Name + ")"
	if sp.inline && is.Line > 0 {
		at = bundle.Pos{File: at.File, Line: sp.firstLine + is.Line - 1, Col: is.Col}
		msg = is.Msg + " (inline <Source> of Javascript " + b.p.Name + ")"
	}
	if is.Warning {
		ps.Warnf(at, "%s", msg)
		return
	}
	ps.Errorf(at, "%s", msg)
}

// endpointUse tells whether the bundle's ProxyEndpoints and
// TargetEndpoints have steps naming the policy. A policy found in neither
// (a shared flow's) counts as both.
func endpointUse(b *bundle.Bundle, name string) (inProxy, inTarget bool) {
	if b == nil {
		return true, true
	}
	for _, pe := range b.ProxyEndpoints {
		inProxy = inProxy || endpointHas(&pe.Endpoint, name) || pe.PostClientFlow != nil && flowHas(pe.PostClientFlow, name)
	}
	for _, te := range b.TargetEndpoints {
		inTarget = inTarget || endpointHas(&te.Endpoint, name)
	}
	if !inProxy && !inTarget {
		return true, true
	}
	return inProxy, inTarget
}

func endpointHas(e *bundle.Endpoint, name string) bool {
	flows := append([]*bundle.Flow{e.PreFlow, e.PostFlow}, e.Flows...)
	for _, f := range flows {
		if f != nil && flowHas(f, name) {
			return true
		}
	}
	rules := e.FaultRules
	if e.DefaultFaultRule != nil {
		rules = append(rules, e.DefaultFaultRule)
	}
	for _, r := range rules {
		if stepsHave(r.Steps, name) {
			return true
		}
	}
	return false
}

func flowHas(f *bundle.Flow, name string) bool {
	return stepsHave(f.Request, name) || stepsHave(f.Response, name)
}

func stepsHave(steps []*bundle.Step, name string) bool {
	for _, s := range steps {
		if s.Name == name {
			return true
		}
	}
	return false
}

// Execute runs the scripts. A thrown exception, a runtime error or the
// time limit becomes steps.javascript.ScriptExecutionFailed.
func (js *Javascript) Execute(ctx context.Context, x *exchange.Exchange) error {
	err := js.Program.Run(ctx, x)
	if err == nil {
		return nil
	}
	var je *jsmodel.Error
	if !errors.As(err, &je) {
		return err
	}
	return &Fault{
		Name:        "ScriptExecutionFailed",
		Code:        "steps.javascript.ScriptExecutionFailed",
		FaultString: faultString(js.Name, je),
		Status:      500,
		Source:      "policy",
		Policy:      js.Name,
		Cause:       je,
	}
}

// faultString is Apigee's: `Execution of <policy> failed with error:
// Javascript runtime error: "<Type>Error: <message>. (<file>.js:<line>)"`;
// for a timeout `Execution of <policy> failed with error: Javascript
// runtime exceeded limit of <n>ms` [?] (no public capture of Apigee's).
func faultString(policy string, e *jsmodel.Error) string {
	prefix := "Execution of " + policy + " failed with error: "
	if e.TimeLimit > 0 || e.Interrupted {
		return prefix + e.Error()
	}
	return prefix + "Javascript runtime error: \"" + e.Error() + "\""
}

// Close releases httpClient's idle connections.
func (js *Javascript) Close() { js.Program.Close() }
