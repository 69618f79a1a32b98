// Package exchange is the flow-variable context of one request: the request
// and response messages, every flow variable Apigee defines over them, and
// the custom variables policies set. It holds no HTTP machinery; the flow
// engine fills messages from net/http and writes them back.
//
// Variables are typed Go values (string, bool, int, int64, float64, nil,
// []string collections, *Message objects). Names starting with a message
// variable (request, response, message, error, or a custom one such as a
// ServiceCallout response) read and write that message: M.header.X (first
// comma-separated value; .N, .values, .values.count, .values.string),
// M.queryparam.X, M.formparam.X, M.content, M.status.code and the rest of
// Apigee's reference. Engine-owned names (proxy.*, target.name, fault.*,
// error.message ...) are read-only to policies and set with SetSystem;
// system.* and propertyset.* are computed.
//
// Behaviour choices where Apigee is undocumented ([?] in the reference) are
// fields of Exchange: DottedTree (Apigee's tree store, on by default) and
// IsErrorFalseBeforeFault (off: is.error is null until a fault).
package exchange

import (
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
)

// Message is an HTTP request or response as policies see it. The flow
// engine owns the conversion from and to net/http.
type Message struct {
	IsRequest bool
	Verb      string // request method, upper case
	// Path is the request path without the query string, as received or as
	// it will be sent (for the proxy request it includes the base path).
	Path    string
	Query   Params      // query parameters, in order
	Header  http.Header // canonical keys
	Body    []byte
	Status  int    // response status code
	Reason  string // response reason phrase
	Version string // HTTP version, "1.1"
	// URL is the full URL a target request was sent to (request.url in the
	// target response flow), "" before.
	URL string
	// Stream, when non-nil, is a body not yet read into Body: the engine
	// streams it through when no policy touches the content. Readers of Body
	// call Materialize first.
	Stream interface {
		Read(p []byte) (int, error)
		Close() error
	}
}

// NewRequest returns an empty GET request message.
func NewRequest() *Message {
	return &Message{IsRequest: true, Verb: http.MethodGet, Path: "/", Header: http.Header{}, Version: "1.1"}
}

// NewResponse returns an empty 200 response message.
func NewResponse() *Message {
	return &Message{Header: http.Header{}, Status: http.StatusOK, Reason: "OK", Version: "1.1"}
}

// Clone returns a deep copy (a pending Stream is not copied).
func (m *Message) Clone() *Message {
	c := *m
	c.Header = m.Header.Clone()
	if c.Header == nil {
		c.Header = http.Header{}
	}
	c.Query = m.Query.Clone()
	if m.Body != nil {
		c.Body = append([]byte(nil), m.Body...)
	}
	c.Stream = nil
	return &c
}

// Materialize reads a pending Stream into Body.
func (m *Message) Materialize() error {
	if m.Stream == nil {
		return nil
	}
	s := m.Stream
	m.Stream = nil
	defer s.Close()
	b, err := io.ReadAll(s)
	m.Body = b
	return err
}

// ContentType is the media type of the Content-Type header, lower case,
// without parameters.
func (m *Message) ContentType() string {
	ct := m.Header.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct))
}

// URI is the path plus "?query" when there is one (request.uri).
func (m *Message) URI() string {
	if len(m.Query) == 0 {
		return m.Path
	}
	return m.Path + "?" + m.Query.Encode()
}

// CanonicalHeader canonicalises a header name the way http.Header does.
func CanonicalHeader(name string) string { return textproto.CanonicalMIMEHeaderKey(name) }

// Param is one name=value pair of a query string or form.
type Param struct{ Name, Value string }

// Params is an ordered, multi-valued parameter list. Names are case
// sensitive, as Apigee's query and form parameters are.
type Params []Param

// ParseParams parses a raw query string or form body. Malformed escapes are
// kept literally rather than dropped.
func ParseParams(raw string) Params {
	var ps Params
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		ps = append(ps, Param{Name: unescape(k), Value: unescape(v)})
	}
	return ps
}

func unescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// Get returns the first value of name.
func (ps Params) Get(name string) (string, bool) {
	for _, p := range ps {
		if p.Name == name {
			return p.Value, true
		}
	}
	return "", false
}

// Values returns every value of name, in order.
func (ps Params) Values(name string) []string {
	var vs []string
	for _, p := range ps {
		if p.Name == name {
			vs = append(vs, p.Value)
		}
	}
	return vs
}

// Names returns the distinct names, in first-seen order.
func (ps Params) Names() []string {
	var ns []string
	seen := map[string]bool{}
	for _, p := range ps {
		if !seen[p.Name] {
			seen[p.Name] = true
			ns = append(ns, p.Name)
		}
	}
	return ns
}

// Set replaces every value of name with value (added at the end if absent,
// else at the position of the first one).
func (ps *Params) Set(name, value string) {
	out := (*ps)[:0:0]
	done := false
	for _, p := range *ps {
		if p.Name == name {
			if !done {
				out = append(out, Param{name, value})
				done = true
			}
			continue
		}
		out = append(out, p)
	}
	if !done {
		out = append(out, Param{name, value})
	}
	*ps = out
}

// Add appends a value.
func (ps *Params) Add(name, value string) { *ps = append(*ps, Param{name, value}) }

// Del removes every value of name.
func (ps *Params) Del(name string) {
	out := (*ps)[:0:0]
	for _, p := range *ps {
		if p.Name != name {
			out = append(out, p)
		}
	}
	*ps = out
}

// Clone copies the list.
func (ps Params) Clone() Params {
	if ps == nil {
		return nil
	}
	return append(Params(nil), ps...)
}

// Encode renders the list as a query string, in order.
func (ps Params) Encode() string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p.Name))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(p.Value))
	}
	return b.String()
}
