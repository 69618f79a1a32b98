package jsmodel

import (
	"context"
	"net/url"
	"strings"

	"github.com/dop251/goja"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
	"github.com/apigo/apigo/policy/httptarget"
)

// httpClientConn sends httpClient requests through an httptarget
// connection, so the user's transport and --map-url apply.
type httpClientConn struct{ conn *httptarget.Connection }

func newHTTPClientConn(opts httptarget.Options) *httpClientConn {
	// The URL is a placeholder: every send passes its full URL.
	hc := &bundle.HTTPTargetConnection{URL: "http://localhost/"}
	return &httpClientConn{conn: httptarget.Build(hc, nil, nil, opts, &bundle.Problems{})}
}

func (c *httpClientConn) close() { c.conn.Close() }

func (c *httpClientConn) send(ctx context.Context, req *exchange.Message) (*exchange.Message, error) {
	u := req.URL
	if len(req.Query) > 0 {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + req.Query.Encode()
	}
	resp, _, err := c.conn.Send(ctx, req, u, false)
	return resp, err
}

// callExchange is what httpClient.get and send return: the request runs
// in its own goroutine, which never touches the runtime.
type callExchange struct {
	done     chan struct{}
	resp     *exchange.Message
	err      error
	callback goja.Callable
	called   bool
}

func (vm *jsVM) initHTTPFns() {
	vm.fn["Request"] = vm.r.ToValue(func(c goja.ConstructorCall) *goja.Object {
		return vm.newRequest(c.Arguments)
	})
	vm.method("httpGet", func(c goja.FunctionCall) goja.Value {
		req := vm.requestArg(c.Argument(0))
		req.Verb = "GET"
		return vm.startCall(req, c.Argument(1))
	})
	vm.method("httpSend", func(c goja.FunctionCall) goja.Value {
		return vm.startCall(vm.requestArg(c.Argument(0)), c.Argument(1))
	})
}

func (vm *jsVM) newHTTPClient() *goja.Object {
	o := vm.r.NewObject()
	_ = o.Set("get", vm.fn["httpGet"])
	_ = o.Set("send", vm.fn["httpSend"])
	return o
}

// newRequest implements new Request(url, method, headers, body).
func (vm *jsVM) newRequest(args []goja.Value) *goja.Object {
	arg := func(i int) goja.Value {
		if i < len(args) {
			return args[i]
		}
		return goja.Undefined()
	}
	m := exchange.NewRequest()
	m.URL = jsString(arg(0))
	if v := jsString(arg(1)); v != "" {
		m.Verb = strings.ToUpper(v)
	}
	if o, ok := arg(2).(*goja.Object); ok {
		for _, k := range o.Keys() {
			m.Header[exchange.CanonicalHeader(k)] = listOf(o.Get(k))
		}
	}
	if b := arg(3); !goja.IsUndefined(b) && !goja.IsNull(b) {
		m.Body = []byte(b.String())
	}
	return vm.newMessage(fixedMessage(m))
}

// requestArg accepts a URL string or a Request object; the message sent
// is a copy, so the script's object is not changed by sending.
func (vm *jsVM) requestArg(v goja.Value) *exchange.Message {
	if o, ok := v.(*goja.Object); ok {
		if mo, ok := o.Export().(*msgObject); ok && mo.isRequest() {
			m := mo.message(false).Clone()
			if mo.ref.kind != msgFixed {
				m.URL = mo.url(m)
			}
			return m
		}
	}
	s := jsString(v)
	if _, err := url.Parse(s); s == "" || err != nil {
		vm.throw("TypeError", "httpClient: invalid URL "+s)
	}
	m := exchange.NewRequest()
	m.URL = s
	return m
}

func (vm *jsVM) startCall(req *exchange.Message, cb goja.Value) goja.Value {
	st := vm.st
	ce := &callExchange{done: make(chan struct{})}
	if fn, ok := goja.AssertFunction(cb); ok {
		ce.callback = fn
	}
	st.calls = append(st.calls, ce)
	ctx := st.ctx
	if tl := st.p.cfg.TimeLimit; tl > 0 {
		// The call cannot outlive the script's time limit.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, tl)
		go func() { <-ce.done; cancel() }()
	}
	client := st.p.client
	go func() {
		ce.resp, ce.err = client.send(ctx, req)
		close(ce.done)
	}()
	return vm.exchangeObject(ce)
}

func (ce *callExchange) complete() bool {
	select {
	case <-ce.done:
		return true
	default:
		return false
	}
}

// exchangeObject is the script's view of a call.
func (vm *jsVM) exchangeObject(ce *callExchange) *goja.Object {
	r := vm.r
	o := r.NewObject()
	_ = o.Set("waitForComplete", func(goja.FunctionCall) goja.Value {
		<-ce.done
		if err := vm.runCallback(ce); err != nil {
			panic(err)
		}
		return goja.Undefined()
	})
	_ = o.Set("isComplete", func() bool { return ce.complete() })
	_ = o.Set("isSuccess", func() bool { return ce.complete() && ce.err == nil })
	_ = o.Set("isError", func() bool { return ce.complete() && ce.err != nil })
	_ = o.Set("getResponse", func() goja.Value {
		if !ce.complete() || ce.resp == nil {
			return goja.Undefined()
		}
		return vm.newMessage(fixedMessage(ce.resp))
	})
	_ = o.Set("getError", func() goja.Value {
		if !ce.complete() || ce.err == nil {
			return goja.Undefined()
		}
		return r.ToValue(ce.err.Error())
	})
	return o
}

// runCallback calls a call's callback(response, error) once, on the
// script's goroutine.
func (vm *jsVM) runCallback(ce *callExchange) error {
	if ce.callback == nil || ce.called {
		return nil
	}
	ce.called = true
	resp, errv := goja.Undefined(), goja.Undefined()
	if ce.resp != nil {
		resp = vm.newMessage(fixedMessage(ce.resp))
	}
	if ce.err != nil {
		errv = vm.r.ToValue(ce.err.Error())
	}
	_, err := ce.callback(goja.Undefined(), resp, errv)
	return err
}

// finishCalls waits for the calls that have callbacks and runs them, after
// the scripts, as Apigee runs callbacks once the script has returned.
func (vm *jsVM) finishCalls() error {
	for _, ce := range vm.st.calls {
		if ce.callback == nil || ce.called {
			continue
		}
		<-ce.done
		if err := vm.runCallback(ce); err != nil {
			return err
		}
	}
	return nil
}
