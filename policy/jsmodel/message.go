package jsmodel

import (
	"strings"

	"github.com/dop251/goja"

	"github.com/apigo/apigo/policy/exchange"
)

// Which message a message object stands for. The exchange keeps one
// request and one response, so the proxy and target objects of a pair are
// the same message (in Apigee the target request starts as a copy of the
// proxy request).
type msgKind int

const (
	msgFixed msgKind = iota // a given message (httpClient requests and responses)
	msgProxyRequest
	msgTargetRequest
	msgCurrentRequest
	msgProxyResponse
	msgTargetResponse
	msgCurrentResponse
)

type msgRef struct {
	kind  msgKind
	fixed *exchange.Message
}

func fixedMessage(m *exchange.Message) msgRef { return msgRef{kind: msgFixed, fixed: m} }

func (k msgKind) ref() msgRef { return msgRef{kind: k} }

// msgObject is a message as scripts see it (context.proxyRequest,
// request, an httpClient response ...).
type msgObject struct {
	vm  *jsVM
	ref msgRef
	// Member objects, made on first use; they hold no state of their own.
	headers, params, body, status *goja.Object
}

func (vm *jsVM) newMessage(r any) *goja.Object {
	var ref msgRef
	switch r := r.(type) {
	case msgKind:
		ref = r.ref()
	case msgRef:
		ref = r
	}
	return vm.r.NewDynamicObject(&msgObject{vm: vm, ref: ref})
}

func (mo *msgObject) isRequest() bool {
	switch mo.ref.kind {
	case msgFixed:
		return mo.ref.fixed.IsRequest
	case msgProxyRequest, msgTargetRequest, msgCurrentRequest:
		return true
	}
	return false
}

// message returns the message, creating an empty response when create is
// set and the exchange has none yet (Apigee's request flows have an empty
// response to write to).
func (mo *msgObject) message(create bool) *exchange.Message {
	if mo.ref.kind == msgFixed {
		return mo.ref.fixed
	}
	x := mo.vm.st.x
	if mo.isRequest() {
		return x.Request()
	}
	m := x.Response()
	if m == nil && create {
		m = exchange.NewResponse()
		x.SetResponse(m)
	}
	return m
}

// member returns the cached member object *slot, making it with d.
func (mo *msgObject) member(slot **goja.Object, d func() goja.DynamicObject) *goja.Object {
	if *slot == nil {
		*slot = mo.vm.r.NewDynamicObject(d())
	}
	return *slot
}

var requestKeys = []string{"headers", "queryParams", "content", "body", "method", "url", "path"}
var responseKeys = []string{"headers", "content", "body", "status"}

func (mo *msgObject) Get(key string) goja.Value {
	m := mo.message(false)
	if m == nil {
		return nil
	}
	vm := mo.vm
	switch key {
	case "headers":
		return mo.member(&mo.headers, func() goja.DynamicObject { return &headersObject{vm: vm, mo: mo} })
	case "content":
		_ = m.Materialize()
		return vm.r.ToValue(string(m.Body))
	case "body":
		return mo.member(&mo.body, func() goja.DynamicObject { return &bodyObject{vm: vm, mo: mo} })
	}
	if mo.isRequest() {
		return mo.getRequest(m, key)
	}
	if key == "status" {
		return mo.member(&mo.status, func() goja.DynamicObject { return &statusObject{vm: vm, mo: mo} })
	}
	return nil
}

func (mo *msgObject) getRequest(m *exchange.Message, key string) goja.Value {
	switch key {
	case "queryParams":
		return mo.member(&mo.params, func() goja.DynamicObject { return &paramsObject{vm: mo.vm, mo: mo} })
	case "method":
		return mo.vm.r.ToValue(m.Verb)
	case "path":
		return mo.vm.r.ToValue(m.Path)
	case "url":
		return mo.vm.r.ToValue(mo.url(m))
	}
	return nil
}

// url is request.url: the URL a message was or will be sent to. For the
// exchange's request it is target.url in a target flow, else proxy.url.
func (mo *msgObject) url(m *exchange.Message) string {
	if m.URL != "" || mo.ref.kind == msgFixed {
		return m.URL
	}
	if strings.HasPrefix(mo.vm.st.flow, "TARGET") {
		if u, ok := mo.vm.st.x.GetString("target.url"); ok {
			return u
		}
	}
	u, _ := mo.vm.st.x.GetString("proxy.url")
	return u
}

func (mo *msgObject) Set(key string, val goja.Value) bool {
	m := mo.message(true)
	if m == nil {
		return false
	}
	switch key {
	case "content":
		_ = m.Materialize()
		m.Body = []byte(jsString(val))
		return true
	case "headers":
		return mo.replaceHeaders(m, val)
	case "status":
		if mo.isRequest() {
			return false
		}
		return (&statusObject{vm: mo.vm, mo: mo}).setFrom(val)
	}
	if !mo.isRequest() {
		return false
	}
	return mo.setRequest(m, key, val)
}

func (mo *msgObject) setRequest(m *exchange.Message, key string, val goja.Value) bool {
	switch key {
	case "method":
		m.Verb = strings.ToUpper(jsString(val))
	case "path":
		m.Path = jsString(val)
	case "queryParams":
		m.Query = nil
		o, ok := val.(*goja.Object)
		if !ok {
			return true
		}
		for _, k := range o.Keys() {
			for _, v := range listOf(o.Get(k)) {
				m.Query.Add(k, v)
			}
		}
	case "url":
		if mo.ref.kind == msgFixed {
			m.URL = jsString(val)
			return true
		}
		// Setting the request URL in a flow is dynamic routing.
		if err := mo.vm.st.x.Set("target.url", jsString(val)); err != nil {
			mo.vm.throw("Error", err.Error())
		}
	default:
		return false
	}
	return true
}

func (mo *msgObject) replaceHeaders(m *exchange.Message, val goja.Value) bool {
	for k := range m.Header {
		delete(m.Header, k)
	}
	o, ok := val.(*goja.Object)
	if !ok {
		return true
	}
	for _, k := range o.Keys() {
		m.Header[exchange.CanonicalHeader(k)] = listOf(o.Get(k))
	}
	return true
}

func (mo *msgObject) keys() []string {
	if mo.isRequest() {
		return requestKeys
	}
	return responseKeys
}

func (mo *msgObject) Has(key string) bool {
	for _, k := range mo.keys() {
		if k == key {
			return mo.message(false) != nil
		}
	}
	return false
}

func (mo *msgObject) Delete(string) bool { return false }

func (mo *msgObject) Keys() []string {
	if mo.message(false) == nil {
		return nil
	}
	return mo.keys()
}

// listOf reads a header or parameter value: an array gives each element,
// anything else its string form.
func listOf(v goja.Value) []string {
	if o, ok := v.(*goja.Object); ok && o.ClassName() == "Array" {
		n := int(o.Get("length").ToInteger())
		out := make([]string, 0, n)
		for i := 0; i < n; i++ {
			out = append(out, jsString(o.Get(itoa(i))))
		}
		return out
	}
	return []string{jsString(v)}
}
