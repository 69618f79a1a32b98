package exchange

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestStreamedContentIsMaterialized(t *testing.T) {
	x := New()
	x.Request().Stream = io.NopCloser(strings.NewReader("a?b>c"))
	tests := []struct{ name, want string }{
		{"request.content", "a?b>c"},
		{"request.content.as.base64", "YT9iPmM="},
		{"request.content.as.url.safe.base64", "YT9iPmM="},
	}
	for _, tt := range tests {
		if got, _ := x.GetString(tt.name); got != tt.want {
			t.Errorf("GetString(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
	x.Request().Body = []byte{0xfb, 0xff}
	if got, _ := x.GetString("request.content.as.url.safe.base64"); got != "-_8=" {
		t.Errorf("content.as.url.safe.base64 = %q, want %q", got, "-_8=")
	}
	x.Request().Stream = io.NopCloser(strings.NewReader("pending"))
	if err := x.Set("request.content", "replaced"); err != nil || x.Request().Stream != nil {
		t.Fatalf("Set(request.content) = %v, stream left %v", err, x.Request().Stream)
	}
	if got := x.Get("request.content"); got != "replaced" {
		t.Errorf("request.content = %#v, want %q", got, "replaced")
	}
}

func TestSetMessageBuiltins(t *testing.T) {
	x := New()
	r1, r2, e := NewRequest(), NewResponse(), NewResponse()
	x.SetRequest(r1)
	x.SetMessage("response", r2)
	x.SetMessage("error", e)
	checks := []struct {
		name string
		want *Message
	}{{"request", r1}, {"response", r2}, {"error", e}, {"message", r1}, {"nosuch", nil}}
	for _, c := range checks {
		if got := x.Message(c.name); got != c.want {
			t.Errorf("Message(%q) = %p, want %p", c.name, got, c.want)
		}
	}
	x.SetCurrent("response")
	r3 := NewResponse()
	x.SetMessage("message", r3) // replaces what `message` aliases
	if x.Response() != r3 || x.Current() != r3 {
		t.Errorf("SetMessage(message) with current=response did not replace the response")
	}
	var ro *ReadOnlyError
	if err := x.Set("request", NewRequest()); !errors.As(err, &ro) {
		t.Errorf("Set(request, *Message) = %v, want read-only (policies use SetMessage)", err)
	}
}

func TestMessageClone(t *testing.T) {
	m := NewRequest()
	m.Header.Set("A", "1")
	m.Query = ParseParams("q=1")
	m.Body = []byte("b")
	m.Stream = io.NopCloser(strings.NewReader("s"))
	c := m.Clone()
	c.Header.Set("A", "2")
	c.Query.Set("q", "2")
	c.Body[0] = 'c'
	if m.Header.Get("A") != "1" || m.Query[0].Value != "1" || string(m.Body) != "b" {
		t.Errorf("Clone shares state with the original: %+v", m)
	}
	if c.Stream != nil {
		t.Error("Clone copied a pending stream")
	}
}

func TestParseParams(t *testing.T) {
	tests := []struct {
		raw  string
		want Params
	}{
		{"a=1&b=x+y&a=%32", Params{{"a", "1"}, {"b", "x y"}, {"a", "2"}}},
		{"&&flag&bad=%zz", Params{{"flag", ""}, {"bad", "%zz"}}},
		{"", nil},
	}
	for _, tt := range tests {
		if got := ParseParams(tt.raw); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseParams(%q) = %v, want %v", tt.raw, got, tt.want)
		}
	}
}
