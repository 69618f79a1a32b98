package exchange

import (
	"sort"
	"strings"
	"time"
)

// Exchange is the flow-variable context of one request: its messages and
// every variable set on it. One Exchange serves one request at a time and
// is not safe for concurrent use.
type Exchange struct {
	// DottedTree makes the variable store behave like Apigee's tree keyed by
	// dot segments: once "foo" holds a scalar, Set("foo.bar") is silently
	// dropped and "foo.bar" keeps reading null. Default true (New); false
	// makes the store a flat map where any name can be set. [?]
	DottedTree bool
	// IsErrorFalseBeforeFault makes is.error read false (instead of null)
	// until the engine sets it when a fault is raised. Default false: the
	// reference says is.error exists only once a fault has been raised. [?]
	IsErrorFalseBeforeFault bool
	// Now is the clock of system.time*/system.timestamp. Default (nil)
	// time.Now.
	Now func() time.Time

	// Recorder, when set, is told about variable writes and print output,
	// for traces. Default nil: nothing is recorded.
	Recorder Recorder

	req, resp, errMsg *Message
	current           string
	msgs              map[string]*Message // custom message variables
	vars              map[string]any      // explicitly set variables, pre-boxed
	props             map[string]any      // property sets, keyed "set.key", pre-boxed
	boxes             boxCache
}

// New returns an exchange with an empty GET request, no response yet and
// `message` naming the request.
func New() *Exchange {
	return &Exchange{
		DottedTree: true,
		req:        NewRequest(),
		current:    "request",
		// Sized for the ~30 variables the engine sets on every request, so
		// the map does not grow step by step.
		vars: make(map[string]any, 48),
	}
}

// ReadOnlyError is returned when a policy tries to set or remove a
// read-only variable.
type ReadOnlyError struct{ Name string }

func (e *ReadOnlyError) Error() string { return "variable " + e.Name + " is read only" }

// Request is the request message (never nil after New).
func (x *Exchange) Request() *Message { return x.req }

// SetRequest replaces the request message.
func (x *Exchange) SetRequest(m *Message) { x.req = m }

// Response is the response message, nil before a response exists.
func (x *Exchange) Response() *Message { return x.resp }

// SetResponse replaces the response message.
func (x *Exchange) SetResponse(m *Message) { x.resp = m }

// Message returns the message variable name: "request", "response",
// "message" (the current one), "error", or a custom message variable. It is
// nil when there is no such message.
func (x *Exchange) Message(name string) *Message {
	switch name {
	case "request":
		return x.req
	case "response":
		return x.resp
	case "message":
		if x.current == "message" {
			return nil
		}
		return x.Message(x.current)
	case "error":
		return x.errMsg
	}
	return x.msgs[name]
}

// SetMessage stores a message variable. Besides the built-in names it
// creates custom message variables (AssignMessage AssignTo createNew,
// ServiceCallout request and response); a nil m removes a custom one.
func (x *Exchange) SetMessage(name string, m *Message) {
	switch name {
	case "request":
		x.req = m
	case "response":
		x.resp = m
	case "message":
		if x.current != "message" {
			x.SetMessage(x.current, m)
		}
	case "error":
		x.errMsg = m
	default:
		x.dropVarsUnder(name)
		if m == nil {
			delete(x.msgs, name)
			return
		}
		if x.msgs == nil {
			x.msgs = map[string]*Message{}
		}
		x.msgs[name] = m
	}
}

// dropVarsUnder removes the plain variable name and every name below it,
// which a message variable of that name now answers.
func (x *Exchange) dropVarsUnder(name string) {
	delete(x.vars, name)
	for k := range x.vars {
		if len(k) > len(name) && k[len(name)] == '.' && strings.HasPrefix(k, name) {
			delete(x.vars, k)
		}
	}
}

// SetCurrent chooses which message `message` aliases: "request",
// "response" or "error" (the flow engine switches it between segments).
func (x *Exchange) SetCurrent(name string) { x.current = name }

// CurrentName is the name `message` aliases.
func (x *Exchange) CurrentName() string { return x.current }

// Current is the message `message` aliases, nil when it does not exist yet.
func (x *Exchange) Current() *Message { return x.Message("message") }

// SetPropertySets installs the environment's and bundle's property sets,
// readable as propertyset.<set>.<key> (read-only).
func (x *Exchange) SetPropertySets(ps map[string]map[string]string) {
	x.props = make(map[string]any)
	for set, kv := range ps {
		for k, v := range kv {
			x.props[set+"."+k] = v
		}
	}
}

// Lookup returns the typed value of a flow variable; ok is false when it is
// unset (Apigee's null). It satisfies conditions.Vars and template.Vars.
func (x *Exchange) Lookup(name string) (any, bool) {
	// Stored variables never shadow message properties: writes to those go
	// to the message, and SetMessage drops stale names below a new message
	// variable. So the cheap map lookup can go first.
	if v, ok := x.vars[name]; ok {
		return v, true
	}
	if r, ok := x.messageRef(name); ok {
		if v, found, known := x.readMessage(r); known {
			return v, found
		}
	}
	return x.computed(name)
}

// Get returns the value of a variable, nil when unset.
func (x *Exchange) Get(name string) any {
	v, _ := x.Lookup(name)
	return v
}

// GetString returns the textual form of a variable (see Format).
func (x *Exchange) GetString(name string) (string, bool) {
	v, ok := x.Lookup(name)
	if !ok {
		return "", false
	}
	return Format(v), true
}

// Bool reads a boolean variable, accepting the strings "true" and "false"
// (any case) as code in the wild sets target.copy.pathsuffix as a string.
// Unset or unparsable values give def.
func (x *Exchange) Bool(name string, def bool) bool {
	switch v := x.Get(name).(type) {
	case bool:
		return v
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
			return true
		case "false":
			return false
		}
	}
	return def
}

// Set sets a variable as a policy does. Read-only names give a
// *ReadOnlyError; names of message variables (request.header.X,
// response.content, myreq.queryparam.q ...) change the message. A *Message
// value creates a message variable.
func (x *Exchange) Set(name string, v any) error {
	err := x.set(name, v, false)
	if x.Recorder != nil {
		x.Recorder.VarSet(name, v, err)
	}
	return err
}

// Recorder receives what a trace shows of an exchange: the variables
// policies write and what scripts print.
type Recorder interface {
	// VarSet is called after every Set, with its error (nil on success).
	VarSet(name string, v any, err error)
	// Print is called with each line a policy prints.
	Print(policy, text string)
}

// Print forwards a policy's printed output (JavaScript print()) to the
// Recorder, if any.
func (x *Exchange) Print(policy, text string) {
	if x.Recorder != nil {
		x.Recorder.Print(policy, text)
	}
}

// SetSystem sets a variable as the engine does, bypassing the read-only
// table and the dotted-tree rule (proxy.pathsuffix, target.*, error.*,
// fault.name, is.error ...).
func (x *Exchange) SetSystem(name string, v any) { _ = x.set(name, v, true) }

func (x *Exchange) set(name string, v any, system bool) error {
	if m, ok := v.(*Message); ok && !strings.Contains(name, ".") {
		if !system && isBuiltinMessage(name) {
			return &ReadOnlyError{Name: name}
		}
		x.SetMessage(name, m)
		return nil
	}
	if r, ok := x.messageRef(name); ok {
		if done, err := x.writeMessage(r, v, system); done {
			return err
		}
	}
	if !system {
		if isReadOnly(name) {
			return &ReadOnlyError{Name: name}
		}
		if x.DottedTree && x.underScalar(name) {
			return nil
		}
	}
	if _, isMsg := x.msgs[name]; isMsg {
		delete(x.msgs, name)
	}
	x.vars[name] = v
	return nil
}

// underScalar reports whether a dot-prefix of name holds a scalar, which
// makes Apigee's tree store drop the write.
func (x *Exchange) underScalar(name string) bool {
	for i := 0; i < len(name); i++ {
		if name[i] != '.' {
			continue
		}
		if v, ok := x.vars[name[:i]]; ok && v != nil {
			return true
		}
	}
	return false
}

// Remove unsets a variable. Read-only names give a *ReadOnlyError;
// message headers, parameters and content are removed from the message.
func (x *Exchange) Remove(name string) error {
	if r, ok := x.messageRef(name); ok {
		if done, err := x.removeMessage(r); done {
			return err
		}
	}
	if isReadOnly(name) {
		return &ReadOnlyError{Name: name}
	}
	delete(x.vars, name)
	return nil
}

// Names lists the variables set explicitly and the custom message
// variables, sorted (for traces).
func (x *Exchange) Names() []string {
	names := make([]string, 0, len(x.vars)+len(x.msgs))
	for n := range x.vars {
		names = append(names, n)
	}
	for n := range x.msgs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func isBuiltinMessage(name string) bool {
	switch name {
	case "request", "response", "message", "error":
		return true
	}
	return false
}
