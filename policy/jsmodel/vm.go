package jsmodel

import (
	"context"
	"strings"
	"sync"

	"github.com/dop251/goja"

	"github.com/apigo/apigo/policy/exchange"
)

// jsVM is one pooled goja runtime with the native functions of the object
// model, created once. The functions read the current run's state from
// st, so they can be attached to fresh objects on every run.
type jsVM struct {
	r        *goja.Runtime
	pristine *goja.Object // the runtime's original global object
	st       *runState
	fn       map[string]goja.Value // native functions by name
	// stringProto is String.prototype (value lists borrow its methods).
	stringProto *goja.Object
	// model holds the object model (context, request, crypto ...), built
	// once: its objects read the current run's state from st and keep
	// nothing of a run. Each run's global object inherits from it.
	model *goja.Object
	// messages are the exchange's message objects by kind.
	messages map[msgKind]*goja.Object
}

// runState is the per-run state the natives work on.
type runState struct {
	ctx     context.Context
	p       *Program
	x       *exchange.Exchange
	sess    *session
	flow    string
	sessObj *goja.Object          // context.session, made on first use
	extra   map[string]goja.Value // members scripts add to context
	// onEnd runs when the scripts have finished (session flushes).
	onEnd []func()
	// calls are the httpClient exchanges started by the run.
	calls []*callExchange
}

var vmPool sync.Pool

func getVM() *jsVM {
	if v, ok := vmPool.Get().(*jsVM); ok {
		return v
	}
	return newVM()
}

// putVM returns vm to the pool when keep is true; otherwise it is dropped
// (the next getVM builds a fresh runtime).
func putVM(vm *jsVM, keep bool) {
	if keep {
		vmPool.Put(vm)
	}
}

func newVM() *jsVM {
	r := goja.New()
	vm := &jsVM{r: r, pristine: r.GlobalObject(), fn: map[string]goja.Value{}}
	vm.initStringViews()
	vm.initMemberFns()
	vm.initContextFns()
	vm.initCryptoFns()
	vm.initHTTPFns()
	vm.fn["print"] = r.ToValue(vm.print)
	vm.initModel()
	return vm
}

// initModel builds the object-model layer between the global object of a
// run and the built-ins. crypto and httpClient are frozen, the others are
// dynamic objects that keep no state, so no run can leave anything there.
func (vm *jsVM) initModel() {
	r := vm.r
	m := r.CreateObject(vm.pristine)
	set := func(name string, v any) { _ = m.Set(name, v) }
	vm.messages = map[msgKind]*goja.Object{}
	for _, k := range []msgKind{msgProxyRequest, msgTargetRequest, msgCurrentRequest, msgProxyResponse, msgTargetResponse, msgCurrentResponse} {
		vm.messages[k] = vm.newMessage(k)
	}
	set("context", r.NewDynamicObject(&contextObject{vm: vm}))
	set("request", vm.messages[msgCurrentRequest])
	set("response", vm.messages[msgCurrentResponse])
	set("properties", r.NewDynamicObject(&propertiesObject{vm: vm}))
	set("crypto", vm.freeze(vm.newCrypto()))
	set("httpClient", vm.freeze(vm.newHTTPClient()))
	set("Request", vm.fn["Request"])
	set("print", vm.fn["print"])
	vm.model = m
}

func (vm *jsVM) freeze(o *goja.Object) *goja.Object {
	freeze, _ := goja.AssertFunction(vm.pristine.Get("Object").ToObject(vm.r).Get("freeze"))
	_, _ = freeze(goja.Undefined(), o)
	return o
}

// begin prepares a run: a fresh global object inheriting the object model
// and the built-ins.
func (vm *jsVM) begin(ctx context.Context, p *Program, x *exchange.Exchange) *runState {
	st := &runState{ctx: ctx, p: p, x: x, sess: sessionOf(x), flow: p.cfg.Flow(x)}
	vm.st = st
	g := vm.r.CreateObject(vm.model)
	_ = g.Set("globalThis", g)
	vm.r.SetGlobalObject(g)
	return st
}

// end forgets the run's state; the runtime keeps no reference to it.
func (vm *jsVM) end() {
	for _, f := range vm.st.onEnd {
		f()
	}
	vm.st = nil
	vm.r.SetGlobalObject(vm.pristine)
}

// propertiesObject is `properties`: the policy's <Properties>, read-only.
type propertiesObject struct{ vm *jsVM }

func (po *propertiesObject) props() map[string]string { return po.vm.st.p.cfg.Properties }

func (po *propertiesObject) Get(key string) goja.Value {
	if v, ok := po.props()[key]; ok {
		return po.vm.r.ToValue(v)
	}
	return nil
}

func (po *propertiesObject) Set(string, goja.Value) bool { return false }
func (po *propertiesObject) Has(key string) bool         { _, ok := po.props()[key]; return ok }
func (po *propertiesObject) Delete(string) bool          { return false }

func (po *propertiesObject) Keys() []string {
	keys := make([]string, 0, len(po.props()))
	for k := range po.props() {
		keys = append(keys, k)
	}
	return keys
}

// print joins its arguments with spaces, as Rhino's print does, and sends
// the line to the exchange (traces) and the configured log.
func (vm *jsVM) print(c goja.FunctionCall) goja.Value {
	parts := make([]string, len(c.Arguments))
	for i, a := range c.Arguments {
		parts[i] = a.String()
	}
	line := strings.Join(parts, " ")
	st := vm.st
	st.x.Print(st.p.cfg.Policy, line)
	if st.p.cfg.Log != nil {
		st.p.cfg.Log(st.p.cfg.Policy + ": " + line)
	}
	return goja.Undefined()
}

// throw raises a JavaScript error of the given constructor ("Error",
// "TypeError" ...) from a native function.
func (vm *jsVM) throw(ctor, msg string) {
	c, ok := goja.AssertConstructor(vm.pristine.Get(ctor))
	if !ok {
		panic(vm.r.NewGoError(&Error{Type: ctor, Message: msg}))
	}
	o, err := c(nil, vm.r.ToValue(msg))
	if err != nil {
		panic(err)
	}
	panic(o)
}

// method returns a native function value, created once per runtime.
func (vm *jsVM) method(name string, f func(goja.FunctionCall) goja.Value) {
	vm.fn[name] = vm.r.ToValue(f)
}
