package jsmodel

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/dop251/goja"

	"github.com/apigo/apigo/policy/exchange"
)

func itoa(i int) string { return strconv.Itoa(i) }

// headersObject is message.headers: a name → value-list map, names
// case-insensitive. Reading gives a value list (the first value when used
// as a string, [i] for the others); assigning a string or an array
// replaces the header; delete removes it.
type headersObject struct {
	vm *jsVM
	mo *msgObject
}

func (h *headersObject) header() http.Header { return h.mo.message(true).Header }

func (h *headersObject) Get(key string) goja.Value {
	vals := splitHeader(h.header().Values(key))
	if len(vals) == 0 {
		return nil
	}
	return h.vm.newValueList(vals)
}

func (h *headersObject) Set(key string, val goja.Value) bool {
	hd := h.header()
	if hd == nil {
		return false
	}
	hd[exchange.CanonicalHeader(key)] = listOf(val)
	return true
}

func (h *headersObject) Has(key string) bool { return len(h.header().Values(key)) > 0 }

func (h *headersObject) Delete(key string) bool {
	h.header().Del(key)
	return true
}

func (h *headersObject) Keys() []string {
	hd := h.header()
	keys := make([]string, 0, len(hd))
	for k := range hd {
		keys = append(keys, k)
	}
	return keys
}

// splitHeader splits header lines on commas, as Apigee reads multi-valued
// headers.
func splitHeader(lines []string) []string {
	var out []string
	for _, l := range lines {
		for part := range strings.SplitSeq(l, ",") {
			out = append(out, strings.TrimSpace(part))
		}
	}
	return out
}

// paramsObject is request.queryParams (case-sensitive names).
type paramsObject struct {
	vm *jsVM
	mo *msgObject
}

func (p *paramsObject) query() *exchange.Params { return &p.mo.message(true).Query }

func (p *paramsObject) Get(key string) goja.Value {
	vals := p.query().Values(key)
	if len(vals) == 0 {
		return nil
	}
	return p.vm.newValueList(vals)
}

func (p *paramsObject) Set(key string, val goja.Value) bool {
	q := p.query()
	vals := listOf(val)
	q.Set(key, vals[0])
	for _, v := range vals[1:] {
		q.Add(key, v)
	}
	return true
}

func (p *paramsObject) Has(key string) bool { _, ok := p.query().Get(key); return ok }

func (p *paramsObject) Delete(key string) bool { p.query().Del(key); return true }

func (p *paramsObject) Keys() []string { return p.query().Names() }

// valueList is what headers['x'] and queryParams['x'] give: like Rhino's
// view of a Java list, it reads as its first value where a string is
// expected (==, +, string methods), [i] is the i-th value, length() and
// size() count them.
type valueList struct {
	vm   *jsVM
	vals []string
}

func (vm *jsVM) newValueList(vals []string) *goja.Object {
	return vm.r.NewDynamicObject(&valueList{vm: vm, vals: vals})
}

func (l *valueList) Get(key string) goja.Value {
	r := l.vm.r
	if i, err := strconv.Atoi(key); err == nil {
		if i < 0 || i >= len(l.vals) {
			return nil
		}
		return r.ToValue(l.vals[i])
	}
	switch key {
	case "length", "size":
		return l.vm.fn["listLength"]
	case "toString", "valueOf", "toJSON":
		return l.vm.fn["listFirst"]
	}
	first := r.ToValue(l.vals[0])
	// Any other member is a String method applied to the first value.
	fn, ok := goja.AssertFunction(l.vm.stringProto.Get(key))
	if !ok {
		return nil
	}
	return r.ToValue(func(c goja.FunctionCall) goja.Value {
		v, err := fn(first, c.Arguments...)
		if err != nil {
			panic(err)
		}
		return v
	})
}

// initMemberFns makes the methods value lists and status objects share:
// they find their object through `this`.
func (vm *jsVM) initMemberFns() {
	list := func(c goja.FunctionCall) *valueList {
		if o, ok := c.This.(*goja.Object); ok {
			if l, ok := o.Export().(*valueList); ok {
				return l
			}
		}
		vm.throw("TypeError", "not a header or parameter value list")
		return nil
	}
	vm.method("listFirst", func(c goja.FunctionCall) goja.Value { return vm.r.ToValue(list(c).vals[0]) })
	vm.method("listLength", func(c goja.FunctionCall) goja.Value { return vm.r.ToValue(len(list(c).vals)) })
	status := func(c goja.FunctionCall) int {
		if o, ok := c.This.(*goja.Object); ok {
			if s, ok := o.Export().(*statusObject); ok {
				if m := s.mo.message(false); m != nil {
					return m.Status
				}
			}
		}
		return 0
	}
	vm.method("statusCode", func(c goja.FunctionCall) goja.Value { return vm.r.ToValue(status(c)) })
	vm.method("statusString", func(c goja.FunctionCall) goja.Value { return vm.r.ToValue(strconv.Itoa(status(c))) })
}

func (l *valueList) Set(string, goja.Value) bool { return false }

func (l *valueList) Has(key string) bool {
	i, err := strconv.Atoi(key)
	return err == nil && i >= 0 && i < len(l.vals)
}

func (l *valueList) Delete(string) bool { return false }

func (l *valueList) Keys() []string {
	keys := make([]string, len(l.vals))
	for i := range l.vals {
		keys[i] = itoa(i)
	}
	return keys
}

// statusObject is response.status: code and message, settable; it reads
// as the code where a primitive is expected (response.status == 200).
type statusObject struct {
	vm *jsVM
	mo *msgObject
}

func (s *statusObject) Get(key string) goja.Value {
	m := s.mo.message(false)
	if m == nil {
		return nil
	}
	r := s.vm.r
	switch key {
	case "code":
		return r.ToValue(m.Status)
	case "message":
		return r.ToValue(m.Reason)
	case "valueOf", "toJSON":
		return s.vm.fn["statusCode"]
	case "toString":
		return s.vm.fn["statusString"]
	}
	return nil
}

func (s *statusObject) Set(key string, val goja.Value) bool {
	m := s.mo.message(true)
	switch key {
	case "code":
		code, ok := statusCode(val)
		if !ok {
			s.vm.throw("TypeError", "invalid status code: "+jsString(val))
		}
		m.Status = code
		if r := http.StatusText(code); r != "" {
			m.Reason = r
		}
	case "message":
		m.Reason = jsString(val)
	default:
		return false
	}
	return true
}

// setFrom handles `response.status = 404` and `response.status = {code:
// 404, message: "Gone"}`.
func (s *statusObject) setFrom(val goja.Value) bool {
	if o, ok := val.(*goja.Object); ok && o.ClassName() == "Object" {
		if c := o.Get("code"); c != nil && !goja.IsUndefined(c) {
			s.Set("code", c)
		}
		if msg := o.Get("message"); msg != nil && !goja.IsUndefined(msg) {
			s.Set("message", msg)
		}
		return true
	}
	return s.Set("code", val)
}

func statusCode(v goja.Value) (int, bool) {
	f := v.ToFloat()
	if s, ok := v.Export().(string); ok {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return 0, false
		}
		f = float64(n)
	}
	if f < 100 || f > 999 || f != float64(int(f)) {
		return 0, false
	}
	return int(f), true
}

func (s *statusObject) Has(key string) bool { return key == "code" || key == "message" }

func (s *statusObject) Delete(string) bool { return false }

func (s *statusObject) Keys() []string { return []string{"code", "message"} }

// bodyObject is message.body with the asJSON, asForm (and asXML,
// unsupported: undefined) views of the content.
type bodyObject struct {
	vm *jsVM
	mo *msgObject
}

func (b *bodyObject) Get(key string) goja.Value {
	m := b.mo.message(false)
	if m == nil {
		return nil
	}
	_ = m.Materialize()
	switch key {
	case "asJSON":
		return b.vm.parseJSON(string(m.Body))
	case "asForm":
		return b.vm.formObject(exchange.ParseParams(string(m.Body)))
	case "content":
		return b.vm.r.ToValue(string(m.Body))
	}
	return nil
}

func (b *bodyObject) Set(string, goja.Value) bool { return false }
func (b *bodyObject) Has(key string) bool         { return key == "asJSON" || key == "asForm" }
func (b *bodyObject) Delete(string) bool          { return false }
func (b *bodyObject) Keys() []string              { return []string{"asJSON", "asForm"} }

func (vm *jsVM) formObject(ps exchange.Params) *goja.Object {
	o := vm.r.NewObject()
	for _, n := range ps.Names() {
		_ = o.Set(n, vm.newValueList(ps.Values(n)))
	}
	return o
}

// parseJSON parses text with JSON.parse; text that is not JSON gives
// null.
func (vm *jsVM) parseJSON(text string) goja.Value {
	parse, _ := goja.AssertFunction(vm.pristine.Get("JSON").ToObject(vm.r).Get("parse"))
	v, err := parse(goja.Undefined(), vm.r.ToValue(text))
	if err != nil {
		return goja.Null()
	}
	return v
}

// initStringViews gives every string the asJSON view, so
// response.content.asJSON works on the plain string content is.
func (vm *jsVM) initStringViews() {
	vm.stringProto = vm.pristine.Get("String").ToObject(vm.r).Get("prototype").ToObject(vm.r)
	getter := vm.r.ToValue(func(c goja.FunctionCall) goja.Value {
		return vm.parseJSON(c.This.String())
	})
	_ = vm.stringProto.DefineAccessorProperty("asJSON", getter, nil, goja.FLAG_TRUE, goja.FLAG_FALSE)
}
