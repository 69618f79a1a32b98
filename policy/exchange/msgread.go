package exchange

import (
	"encoding/base64"
	"net/http"
	"sort"
	"strings"
)

// msgKind says which message variable a name goes through; read-write rules
// differ between them (reference §4.1).
type msgKind uint8

const (
	kindRequest msgKind = iota
	kindResponse
	kindMessage
	kindError
	kindCustom
)

// msgRef is a variable name split into its message variable and property
// ("request.header.Accept" → request, "header.Accept").
type msgRef struct {
	kind msgKind
	name string // message variable name
	m    *Message
	prop string // "" for the message itself
}

// messageRef splits name when it starts with a message variable.
func (x *Exchange) messageRef(name string) (msgRef, bool) {
	head, prop, _ := strings.Cut(name, ".")
	var kind msgKind
	switch head {
	case "request":
		kind = kindRequest
	case "response":
		kind = kindResponse
	case "message":
		kind = kindMessage
	case "error":
		kind = kindError
	default:
		return x.customRef(name)
	}
	return msgRef{kind: kind, name: head, m: x.Message(head), prop: prop}, true
}

// customRef finds a custom message variable whose name is a dot-prefix of
// name (custom names may themselves contain dots).
func (x *Exchange) customRef(name string) (msgRef, bool) {
	if len(x.msgs) == 0 {
		return msgRef{}, false
	}
	for i := 0; i <= len(name); i++ {
		if i < len(name) && name[i] != '.' {
			continue
		}
		if m, ok := x.msgs[name[:i]]; ok {
			prop := ""
			if i < len(name) {
				prop = name[i+1:]
			}
			return msgRef{kind: kindCustom, name: name[:i], m: m, prop: prop}, true
		}
	}
	return msgRef{}, false
}

// readMessage resolves a message property. known is false when the
// property is not one a message has (or the message does not exist), so the
// caller falls back to stored variables (error.message, error.state ...).
func (x *Exchange) readMessage(r msgRef) (v any, found, known bool) {
	m := r.m
	if m == nil {
		return nil, false, r.prop == ""
	}
	if r.prop == "" {
		return m, true, true
	}
	if v, found, known = x.readScalarProp(m, r.prop); known {
		return v, found, true
	}
	group, rest, _ := strings.Cut(r.prop, ".")
	switch group {
	case "header":
		v, found = x.readHeader(m, parsePick(rest))
	case "headers":
		v, found = readNames(headerNames(m.Header), rest)
	case "queryparam":
		if !m.IsRequest {
			return nil, false, true
		}
		v, found = x.readParam(m.Query, parsePick(rest))
	case "queryparams":
		if !m.IsRequest {
			return nil, false, true
		}
		v, found = readNames(m.Query.Names(), rest)
	case "formparam":
		ps, ok := formParams(m)
		if !ok {
			return nil, false, true
		}
		v, found = x.readParam(ps, parsePick(rest))
	case "formparams":
		ps, ok := formParams(m)
		if !ok {
			return nil, false, true
		}
		v, found = readNames(ps.Names(), rest)
	default:
		return nil, false, false
	}
	return v, found, true
}

// readScalarProp reads the single-valued properties of a message.
func (x *Exchange) readScalarProp(m *Message, prop string) (v any, found, known bool) {
	switch prop {
	case "verb", "path", "uri", "querystring", "url":
		if !m.IsRequest {
			return nil, false, true
		}
		return x.readRequestLine(m, prop)
	case "status.code":
		if m.IsRequest {
			return nil, false, true
		}
		return boxInt(m.Status), true, true
	case "reason.phrase":
		if m.IsRequest {
			return nil, false, true
		}
		return x.boxes.str(m.Reason), true, true
	case "version":
		return x.boxes.str(m.Version), true, true
	case "content":
		_ = m.Materialize()
		return string(m.Body), true, true
	case "content.as.base64":
		_ = m.Materialize()
		return base64.StdEncoding.EncodeToString(m.Body), true, true
	case "content.as.url.safe.base64":
		_ = m.Materialize()
		return base64.URLEncoding.EncodeToString(m.Body), true, true
	case "formstring":
		if _, ok := formParams(m); !ok {
			return nil, false, true
		}
		return string(m.Body), true, true
	}
	return nil, false, false
}

func (x *Exchange) readRequestLine(m *Message, prop string) (v any, found, known bool) {
	switch prop {
	case "verb":
		return x.boxes.str(m.Verb), true, true
	case "path":
		return x.boxes.str(m.Path), true, true
	case "uri":
		return x.boxes.str(m.URI()), true, true
	case "querystring":
		return m.Query.Encode(), true, true
	}
	if m.URL == "" { // request.url exists only once the target was called
		return nil, false, true
	}
	return x.boxes.str(m.URL), true, true
}

// pickMode is which part of a multi-valued header or parameter a name asks
// for: X, X.N, X.values, X.values.count or X.values.string.
type pickMode uint8

const (
	pickFirst pickMode = iota
	pickNth
	pickValues
	pickCount
	pickString
)

type pick struct {
	name string
	mode pickMode
	n    int // 1-based, for pickNth
}

// parsePick splits "Accept.values.count" into the name and the mode.
func parsePick(s string) pick {
	for _, sfx := range [...]struct {
		text string
		mode pickMode
	}{{".values.count", pickCount}, {".values.string", pickString}, {".values", pickValues}} {
		if name, ok := strings.CutSuffix(s, sfx.text); ok && name != "" {
			return pick{name: name, mode: sfx.mode}
		}
	}
	if i := strings.LastIndexByte(s, '.'); i > 0 {
		if n, ok := atoiPositive(s[i+1:]); ok {
			return pick{name: s[:i], mode: pickNth, n: n}
		}
	}
	return pick{name: s}
}

func atoiPositive(s string) (int, bool) {
	if s == "" || len(s) > 6 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, n > 0
}

// headerLines returns the lines of a header, matching its name
// case-insensitively without allocating.
func headerLines(h http.Header, name string) ([]string, bool) {
	if vs, ok := h[name]; ok {
		return vs, true
	}
	var buf [64]byte
	if canon, ok := canonicalInto(buf[:0], name); ok {
		if vs, ok := h[string(canon)]; ok { // no allocation for a map key
			return vs, true
		}
	}
	// Keys a caller stored without canonicalising.
	for k, vs := range h {
		if strings.EqualFold(k, name) {
			return vs, true
		}
	}
	return nil, false
}

// canonicalInto writes the canonical form of a header name into buf
// ("content-type" → "Content-Type"); ok is false for names net/textproto
// would leave alone (non-token bytes) or that do not fit.
func canonicalInto(buf []byte, name string) ([]byte, bool) {
	if len(name) > cap(buf) {
		return nil, false
	}
	upper := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || c == ':' {
			return nil, false
		}
		switch {
		case upper && 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		case !upper && 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		buf = append(buf, c)
		upper = c == '-'
	}
	return buf, true
}

// splitHeader splits header lines on commas, trimming each value, as
// Apigee does for every header.
func splitHeader(lines []string) []string {
	var vs []string
	for _, l := range lines {
		for part := range strings.SplitSeq(l, ",") {
			vs = append(vs, strings.TrimSpace(part))
		}
	}
	return vs
}

func (x *Exchange) readHeader(m *Message, p pick) (any, bool) {
	lines, ok := headerLines(m.Header, p.name)
	if !ok {
		if p.mode == pickCount {
			return 0, true
		}
		return nil, false
	}
	switch p.mode {
	case pickFirst:
		if len(lines) == 0 {
			return "", true
		}
		first, _, _ := strings.Cut(lines[0], ",")
		return x.boxes.str(strings.TrimSpace(first)), true
	case pickString:
		return strings.Join(lines, ", "), true
	}
	return x.pickFrom(splitHeader(lines), p)
}

func (x *Exchange) readParam(ps Params, p pick) (any, bool) {
	if p.mode == pickFirst {
		v, ok := ps.Get(p.name)
		if !ok {
			return nil, false
		}
		return x.boxes.str(v), true
	}
	vs := ps.Values(p.name)
	if len(vs) == 0 && p.mode != pickCount {
		return nil, false
	}
	if p.mode == pickString {
		return strings.Join(vs, ","), true
	}
	return x.pickFrom(vs, p)
}

// pickFrom applies .N, .values or .values.count to a value list.
func (x *Exchange) pickFrom(vs []string, p pick) (any, bool) {
	switch p.mode {
	case pickNth:
		if p.n > len(vs) {
			return nil, false
		}
		return x.boxes.str(vs[p.n-1]), true
	case pickValues:
		return vs, true
	case pickCount:
		return boxInt(len(vs)), true
	}
	if len(vs) == 0 {
		return nil, false
	}
	return x.boxes.str(vs[0]), true
}

// readNames serves X.count, X.names and X.names.string of headers,
// query parameters and form parameters.
func readNames(names []string, rest string) (any, bool) {
	switch rest {
	case "count":
		return boxInt(len(names)), true
	case "names":
		if names == nil {
			names = []string{}
		}
		return names, true
	case "names.string":
		return strings.Join(names, ","), true
	}
	return nil, false
}

// headerNames lists header names, sorted (http.Header keeps no order).
func headerNames(h http.Header) []string {
	ns := make([]string, 0, len(h))
	for k := range h {
		ns = append(ns, k)
	}
	sort.Strings(ns)
	return ns
}

// formParams parses the body as a form, only when the message is
// application/x-www-form-urlencoded (ok false otherwise).
func formParams(m *Message) (Params, bool) {
	if m.ContentType() != "application/x-www-form-urlencoded" {
		return nil, false
	}
	_ = m.Materialize()
	return ParseParams(string(m.Body)), true
}
