package jsmodel

import (
	"errors"
	"strconv"
	"time"

	"github.com/dop251/goja"
)

// Error is a failed run: an uncaught exception, a runtime error, or the
// time limit.
type Error struct {
	// Type is the error's constructor name ("TypeError", "Error" ...), ""
	// when the script threw something that is not an Error object.
	Type    string
	Message string
	// Script and Line locate the throw ("route.js", 12); Line is 0 when
	// unknown.
	Script string
	Line   int
	// TimeLimit is set when the run was aborted for exceeding the policy's
	// timeLimit (then Type and Message are empty).
	TimeLimit time.Duration
	// Interrupted is set when the request's context ended the run.
	Interrupted bool
}

// Error renders the text Apigee puts inside its faultstring:
// `TypeError: Cannot read property "x" from undefined. (route.js:12)`, or
// `Javascript runtime exceeded limit of 200ms` for a timeout.
func (e *Error) Error() string {
	if e.TimeLimit > 0 {
		return "Javascript runtime exceeded limit of " + strconv.FormatInt(e.TimeLimit.Milliseconds(), 10) + "ms"
	}
	if e.Interrupted {
		return "Javascript execution interrupted: " + e.Message
	}
	s := e.Message
	if e.Type != "" {
		s = e.Type + ": " + s
	}
	if e.Script != "" {
		s += ". (" + e.Script + ":" + strconv.Itoa(e.Line) + ")"
	}
	return s
}

// asError converts what RunProgram returned.
func (p *Program) asError(err error) *Error {
	var ie *goja.InterruptedError
	if errors.As(err, &ie) {
		if ie.Value() == errTimeLimit {
			return &Error{TimeLimit: p.cfg.TimeLimit}
		}
		return &Error{Interrupted: true, Message: ie.String()}
	}
	var ex *goja.Exception
	if !errors.As(err, &ex) {
		return &Error{Type: "Error", Message: err.Error()}
	}
	e := &Error{}
	if o, ok := ex.Value().(*goja.Object); ok && isErrorObject(o) {
		e.Type = o.Get("name").String()
		if m := o.Get("message"); m != nil && !goja.IsUndefined(m) {
			e.Message = m.String()
		}
	} else if v := ex.Value(); v != nil {
		e.Message = v.String()
	}
	// The first frame with a source position is the script's (natives
	// have none).
	for _, f := range ex.Stack() {
		if pos := f.Position(); pos.Filename != "" {
			e.Script, e.Line = pos.Filename, pos.Line
			break
		}
	}
	return e
}

// isErrorObject reports whether o looks like an Error instance (has a
// string name and a message).
func isErrorObject(o *goja.Object) bool {
	if o.ClassName() == "Error" {
		return true
	}
	name := o.Get("name")
	return name != nil && !goja.IsUndefined(name) && o.Get("message") != nil
}
