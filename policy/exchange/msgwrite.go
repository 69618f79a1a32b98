package exchange

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// writable lists, per message variable, the properties Set may change
// (reference §4.1 RW column). "header", "queryparam" and "formparam" stand
// for their X and X.N forms. The engine (SetSystem) may write any of them.
var writable = map[msgKind]map[string]bool{
	kindRequest:  nameSet("header", "queryparam", "formparam", "content"),
	kindResponse: nameSet("header", "formparam", "content", "status.code", "reason.phrase"),
	kindMessage: nameSet("header", "queryparam", "formparam", "content", "reason.phrase",
		"verb", "uri", "path", "querystring", "version"),
	kindError: nameSet("header", "content", "reason.phrase"),
	kindCustom: nameSet("header", "queryparam", "formparam", "content", "reason.phrase",
		"verb", "uri", "path", "querystring", "version", "status.code"),
}

// settable are all properties a write can reach at all.
var settable = nameSet("header", "queryparam", "formparam", "content", "status.code",
	"reason.phrase", "verb", "uri", "path", "querystring", "version")

func nameSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// propClass is the writable-table key of a property: "header.X.2" →
// "header". Read-only derived properties (".values", counts, names,
// base64...) are returned as is and are never in the table.
func propClass(prop string) string {
	group, rest, _ := strings.Cut(prop, ".")
	switch group {
	case "header", "queryparam", "formparam":
		if rest == "" || parsePick(rest).mode > pickNth {
			return prop
		}
		return group
	}
	return prop
}

// isMessageProp reports whether prop is a property messages have, read-only
// or not (so writes to it never become plain variables).
func isMessageProp(prop string) bool {
	if settable[propClass(prop)] {
		return true
	}
	group, _, _ := strings.Cut(prop, ".")
	switch group {
	case "header", "headers", "queryparam", "queryparams", "formparam", "formparams":
		return true
	}
	switch prop {
	case "url", "content.as.base64", "content.as.url.safe.base64", "formstring":
		return true
	}
	return false
}

// writeMessage applies a write to a message property. done is false when
// the name is not a message property (the caller stores a plain variable).
func (x *Exchange) writeMessage(r msgRef, v any, system bool) (done bool, err error) {
	if r.prop == "" || !isMessageProp(r.prop) {
		// The built-in message names only ever hold messages, even for the
		// engine: a scalar there would shadow the message.
		if r.prop == "" && isBuiltinMessage(r.name) {
			return true, &ReadOnlyError{Name: r.name}
		}
		return false, nil
	}
	name := r.name + "." + r.prop
	class := propClass(r.prop)
	if !settable[class] || (!system && !writable[r.kind][class]) {
		return true, &ReadOnlyError{Name: name}
	}
	m, target := r.m, ""
	if m == nil {
		if m, target = x.placeholder(r); m == nil {
			return true, fmt.Errorf("cannot set %s: there is no %s message", name, r.name)
		}
	}
	if err := x.applyWrite(m, r.prop, class, v); err != nil {
		return true, fmt.Errorf("cannot set %s: %w", name, err)
	}
	if target != "" {
		x.SetMessage(target, m)
	}
	return true, nil
}

// placeholder is the empty response (or error) message a first write
// creates, as Apigee's placeholder response is writable in request flows;
// target names where to store it once the write succeeded.
func (x *Exchange) placeholder(r msgRef) (m *Message, target string) {
	target = r.name
	if r.kind == kindMessage {
		target = x.current
	}
	switch target {
	case "response", "error":
		return NewResponse(), target
	}
	return nil, ""
}

func (x *Exchange) applyWrite(m *Message, prop, class string, v any) error {
	s := Format(v)
	switch class {
	case "header":
		return writeHeader(m, parsePick(strings.TrimPrefix(prop, "header.")), s)
	case "queryparam":
		writeParam(&m.Query, parsePick(strings.TrimPrefix(prop, "queryparam.")), s)
	case "formparam":
		return writeForm(m, parsePick(strings.TrimPrefix(prop, "formparam.")), s)
	case "content":
		m.Stream = nil
		if b, ok := v.([]byte); ok {
			m.Body = append([]byte(nil), b...)
		} else {
			m.Body = []byte(s)
		}
	case "status.code":
		code, err := statusCode(v)
		if err != nil {
			return err
		}
		m.Status = code
	case "reason.phrase":
		m.Reason = s
	default:
		applyRequestLine(m, class, s)
	}
	return nil
}

func applyRequestLine(m *Message, class, s string) {
	switch class {
	case "verb":
		m.Verb = strings.ToUpper(s)
	case "path":
		m.Path = s
	case "uri":
		path, query, _ := strings.Cut(s, "?")
		m.Path, m.Query = path, ParseParams(query)
	case "querystring":
		m.Query = ParseParams(strings.TrimPrefix(s, "?"))
	case "version":
		m.Version = s
	}
}

// statusCode accepts an integer or a numeric string.
func statusCode(v any) (int, error) {
	var n int64
	switch c := v.(type) {
	case int:
		n = int64(c)
	case int32:
		n = int64(c)
	case int64:
		n = c
	case float64:
		if c != math.Trunc(c) {
			return 0, fmt.Errorf("invalid status code %v", c)
		}
		n = int64(c)
	default:
		p, err := strconv.ParseInt(strings.TrimSpace(Format(v)), 10, 32)
		if err != nil {
			return 0, fmt.Errorf("invalid status code %q", Format(v))
		}
		n = p
	}
	if n < 100 || n > 999 {
		return 0, fmt.Errorf("invalid status code %d", n)
	}
	return int(n), nil
}

// writeHeader sets header X (replacing every line) or its Nth
// comma-separated value (N one past the end adds a line).
func writeHeader(m *Message, p pick, s string) error {
	if m.Header == nil {
		m.Header = http.Header{}
	}
	lines, _ := headerLines(m.Header, p.name)
	lines = append([]string(nil), lines...)
	deleteHeader(m.Header, p.name)
	key := CanonicalHeader(p.name)
	if p.mode == pickFirst {
		m.Header[key] = []string{s}
		return nil
	}
	m.Header[key] = setNthHeaderValue(lines, p.n, s)
	return nil
}

// setNthHeaderValue replaces the nth comma value across lines, keeping the
// line structure; n beyond the last value appends a line.
func setNthHeaderValue(lines []string, n int, s string) []string {
	seen := 0
	for i, l := range lines {
		parts := strings.Split(l, ",")
		if n <= seen+len(parts) {
			parts[n-seen-1] = s
			for j := range parts {
				parts[j] = strings.TrimSpace(parts[j])
			}
			lines[i] = strings.Join(parts, ", ")
			return lines
		}
		seen += len(parts)
	}
	return append(lines, s)
}

func deleteHeader(h http.Header, name string) {
	for k := range h {
		if strings.EqualFold(k, name) {
			delete(h, k)
		}
	}
}

// writeParam sets parameter X (replacing every value) or its Nth value
// (N one past the end, or further, adds one).
func writeParam(ps *Params, p pick, s string) {
	if p.mode == pickFirst {
		ps.Set(p.name, s)
		return
	}
	seen := 0
	for i := range *ps {
		if (*ps)[i].Name == p.name {
			seen++
			if seen == p.n {
				(*ps)[i].Value = s
				return
			}
		}
	}
	ps.Add(p.name, s)
}

// writeForm changes a form parameter in the body; a message without a
// Content-Type becomes a form, any other content type is an error.
func writeForm(m *Message, p pick, s string) error {
	ps, ok := formParams(m)
	if !ok {
		if m.Header.Get("Content-Type") != "" {
			return fmt.Errorf("content type %q is not application/x-www-form-urlencoded", m.ContentType())
		}
		if m.Header == nil {
			m.Header = http.Header{}
		}
		m.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		_ = m.Materialize()
		ps = ParseParams(string(m.Body))
	}
	writeParam(&ps, p, s)
	m.Body = []byte(ps.Encode())
	return nil
}

// removeMessage removes a header, parameter or the content of a message,
// or a custom message variable itself.
func (x *Exchange) removeMessage(r msgRef) (done bool, err error) {
	if r.prop == "" {
		if isBuiltinMessage(r.name) {
			return true, &ReadOnlyError{Name: r.name}
		}
		x.SetMessage(r.name, nil)
		return true, nil
	}
	if !isMessageProp(r.prop) {
		return false, nil
	}
	name := r.name + "." + r.prop
	class := propClass(r.prop)
	if !writable[r.kind][class] {
		return true, &ReadOnlyError{Name: name}
	}
	if r.m == nil {
		return true, nil
	}
	if !removeProp(r.m, r.prop, class) {
		return true, &ReadOnlyError{Name: name}
	}
	return true, nil
}

// removeProp removes a header, parameter or the content; false for
// properties that cannot be removed (status code, verb ...).
func removeProp(m *Message, prop, class string) bool {
	pname := parsePick(strings.TrimPrefix(prop, class+".")).name
	switch class {
	case "header":
		deleteHeader(m.Header, pname)
	case "queryparam":
		m.Query.Del(pname)
	case "formparam":
		if ps, ok := formParams(m); ok {
			ps.Del(pname)
			m.Body = []byte(ps.Encode())
		}
	case "content":
		m.Stream, m.Body = nil, nil
	default:
		return false
	}
	return true
}
