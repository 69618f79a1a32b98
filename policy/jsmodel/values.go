package jsmodel

import (
	"math"

	"github.com/dop251/goja"

	"github.com/apigo/apigo/policy/exchange"
)

// toJS converts a flow-variable value: nil → null, bool → boolean, Go
// numbers → number, string → string, []string → array, *Message → a
// message object; anything else through goja's ToValue.
func (vm *jsVM) toJS(v any) goja.Value {
	switch v := v.(type) {
	case nil:
		return goja.Null()
	case string:
		return vm.r.ToValue(v)
	case bool, int, int64, int32, float64, float32, uint, uint64, uint32:
		return vm.r.ToValue(v)
	case []string:
		items := make([]any, len(v))
		for i, s := range v {
			items[i] = s
		}
		return vm.r.NewArray(items...)
	case *exchange.Message:
		return vm.newMessage(fixedMessage(v))
	}
	return vm.r.ToValue(v)
}

// fromJS converts a script value for the variable store: undefined and
// null → nil, boolean → bool, number → int when integral (and within
// ±2^53) else float64, string → string, message objects → *Message,
// other objects → their exported Go value.
func fromJS(v goja.Value) any {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return nil
	}
	switch e := v.Export().(type) {
	case bool, string:
		return e
	case int64:
		return int(e)
	case float64:
		return number(e)
	case *msgObject:
		return e.message(false)
	case *valueList:
		return e.vals[0]
	case *statusObject:
		if m := e.mo.message(false); m != nil {
			return m.Status
		}
		return nil
	case goja.DynamicObject:
		// The other model objects (headers, context ...) hold runtime
		// references and must not outlive the run.
		return v.String()
	case map[string]any, []any:
		return e
	}
	if _, isFn := goja.AssertFunction(v); isFn {
		return v.String()
	}
	return v.Export()
}

const maxSafeInt = 1 << 53

// number is f as an int when it is integral and exactly representable.
func number(f float64) any {
	if f == math.Trunc(f) && math.Abs(f) <= maxSafeInt {
		return int(f)
	}
	return f
}

// jsString converts a value to text as JavaScript's String() does, with
// undefined and null as "".
func jsString(v goja.Value) string {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return ""
	}
	return v.String()
}
