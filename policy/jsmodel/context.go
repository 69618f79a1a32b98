package jsmodel

import (
	"runtime"
	"sync"
	"weak"

	"github.com/dop251/goja"

	"github.com/apigo/apigo/policy/exchange"
)

// context.flow values.
const (
	ProxyRequestFlow   = "PROXY_REQ_FLOW"
	ProxyResponseFlow  = "PROXY_RESP_FLOW"
	TargetRequestFlow  = "TARGET_REQ_FLOW"
	TargetResponseFlow = "TARGET_RESP_FLOW"
)

// DefaultFlow derives context.flow from the exchange alone: before a
// TargetEndpoint runs (target.name unset) the flow is the proxy's; with
// target.name set, a request flow is the target's. A response flow after a
// target is ambiguous (target.name stays set in the proxy response), and is
// taken as PROXY_RESP_FLOW; FlowFor resolves it with what the bundle says.
func DefaultFlow(x *exchange.Exchange) string { return FlowFor(true, true)(x) }

// FlowFor returns a context.flow function for a policy that the bundle's
// ProxyEndpoints (inProxy) and TargetEndpoints (inTarget) reference.
func FlowFor(inProxy, inTarget bool) func(*exchange.Exchange) string {
	return func(x *exchange.Exchange) string {
		response := x.CurrentName() != "request"
		_, targetStarted := x.Lookup("target.name")
		switch {
		case !response && targetStarted:
			return TargetRequestFlow
		case !response:
			return ProxyRequestFlow
		case targetStarted && inTarget && !inProxy:
			return TargetResponseFlow
		}
		return ProxyResponseFlow
	}
}

func (vm *jsVM) initContextFns() {
	vm.method("getVariable", func(c goja.FunctionCall) goja.Value {
		v, ok := vm.st.x.Lookup(c.Argument(0).String())
		if !ok {
			return goja.Null()
		}
		return vm.toJS(v)
	})
	vm.method("setVariable", func(c goja.FunctionCall) goja.Value {
		name := c.Argument(0).String()
		if err := vm.st.x.Set(name, fromJS(c.Argument(1))); err != nil {
			vm.throw("Error", err.Error())
		}
		return goja.Undefined()
	})
	vm.method("removeVariable", func(c goja.FunctionCall) goja.Value {
		if err := vm.st.x.Remove(c.Argument(0).String()); err != nil {
			vm.throw("Error", err.Error())
		}
		return goja.Undefined()
	})
}

// contextObject is `context`. Members a script adds live for the run
// only.
type contextObject struct{ vm *jsVM }

var contextMembers = map[string]msgKind{
	"proxyRequest": msgProxyRequest, "targetRequest": msgTargetRequest,
	"proxyResponse": msgProxyResponse, "targetResponse": msgTargetResponse,
}

func (co *contextObject) Get(key string) goja.Value {
	vm, st := co.vm, co.vm.st
	switch key {
	case "getVariable", "setVariable", "removeVariable":
		return vm.fn[key]
	case "flow":
		return vm.r.ToValue(st.flow)
	case "session":
		if st.sessObj == nil {
			st.sessObj = vm.r.NewDynamicObject(&sessionObject{vm: vm, s: st.sess})
		}
		return st.sessObj
	}
	if k, ok := contextMembers[key]; ok {
		return vm.messages[k]
	}
	return st.extra[key]
}

func (co *contextObject) Set(key string, val goja.Value) bool {
	st := co.vm.st
	if st.extra == nil {
		st.extra = map[string]goja.Value{}
	}
	st.extra[key] = val
	return true
}

func (co *contextObject) Has(key string) bool { return co.Get(key) != nil }

func (co *contextObject) Delete(key string) bool {
	delete(co.vm.st.extra, key)
	return true
}

func (co *contextObject) Keys() []string {
	keys := []string{"getVariable", "setVariable", "removeVariable", "flow", "session",
		"proxyRequest", "targetRequest", "proxyResponse", "targetResponse"}
	for k := range co.vm.st.extra {
		keys = append(keys, k)
	}
	return keys
}

// session is context.session: values that outlive one script and are
// shared by every Javascript step of an exchange. Values are stored as
// exported Go values, since JavaScript objects belong to one runtime.
type session struct {
	mu sync.Mutex
	m  map[string]any
}

// sessions maps an exchange (weakly: an exchange that is gone drops its
// session) to its session.
var sessions sync.Map // weak.Pointer[exchange.Exchange] -> *session

func sessionOf(x *exchange.Exchange) *session {
	key := weak.Make(x)
	if s, ok := sessions.Load(key); ok {
		return s.(*session)
	}
	s, loaded := sessions.LoadOrStore(key, &session{m: map[string]any{}})
	if !loaded {
		runtime.AddCleanup(x, func(k weak.Pointer[exchange.Exchange]) { sessions.Delete(k) }, key)
	}
	return s.(*session)
}

// sessionObject exposes a session to one run. Objects stored during the run
// are re-exported when it ends, so later changes to them are kept, as
// Rhino keeps the object itself.
type sessionObject struct {
	vm   *jsVM
	s    *session
	objs map[string]*goja.Object
}

func (so *sessionObject) Get(key string) goja.Value {
	if o, ok := so.objs[key]; ok {
		return o
	}
	so.s.mu.Lock()
	v, ok := so.s.m[key]
	so.s.mu.Unlock()
	if !ok {
		return nil
	}
	return so.vm.toJS(v)
}

func (so *sessionObject) Set(key string, val goja.Value) bool {
	if o, ok := val.(*goja.Object); ok && isPlainData(o) {
		if so.objs == nil {
			so.objs = map[string]*goja.Object{}
			so.vm.st.onEnd = append(so.vm.st.onEnd, so.flush)
		}
		so.objs[key] = o
	} else {
		delete(so.objs, key)
	}
	so.s.mu.Lock()
	so.s.m[key] = exportValue(val)
	so.s.mu.Unlock()
	return true
}

func (so *sessionObject) Has(key string) bool {
	so.s.mu.Lock()
	defer so.s.mu.Unlock()
	_, ok := so.s.m[key]
	return ok
}

func (so *sessionObject) Delete(key string) bool {
	delete(so.objs, key)
	so.s.mu.Lock()
	delete(so.s.m, key)
	so.s.mu.Unlock()
	return true
}

func (so *sessionObject) Keys() []string {
	so.s.mu.Lock()
	defer so.s.mu.Unlock()
	keys := make([]string, 0, len(so.s.m))
	for k := range so.s.m {
		keys = append(keys, k)
	}
	return keys
}

// flush re-exports the objects stored during the run.
func (so *sessionObject) flush() {
	so.s.mu.Lock()
	defer so.s.mu.Unlock()
	for k, o := range so.objs {
		so.s.m[k] = exportValue(o)
	}
}

// isPlainData reports whether o is a script's own object or array (not a
// model object or a function).
func isPlainData(o *goja.Object) bool {
	switch o.Export().(type) {
	case map[string]any, []any:
		return true
	}
	return false
}

// exportValue is a script value as plain Go data (functions, which cannot
// leave their runtime, become nil).
func exportValue(v goja.Value) any {
	if o, ok := v.(*goja.Object); ok {
		if _, isFn := goja.AssertFunction(o); isFn {
			return nil
		}
	}
	return fromJS(v)
}
