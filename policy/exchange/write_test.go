package exchange

import (
	"errors"
	"net/http"
	"reflect"
	"testing"
)

func TestSetMessageVariables(t *testing.T) {
	tests := []struct {
		name  string
		value any
		read  string // variable read back after the write
		want  any
	}{
		{"request.header.X-New", "v", "request.header.x-new", "v"},
		{"request.header.accept", "text/plain", "request.header.Accept.values", []string{"text/plain"}},
		{"request.header.Accept.2", "text/xml", "request.header.Accept.values", []string{"text/html", "text/xml"}},
		{"request.header.Accept.3", "*/*", "request.header.Accept.values.count", 3},
		{"request.header.x-multi.3", "z", "request.header.x-multi.values", []string{"a", "b", "z"}},
		{"request.header.X-Num", 42, "request.header.X-Num", "42"},
		{"request.queryparam.city", "Lyon", "request.uri", "/v1/weather/forecast?city=Lyon&a=hello&a=world&empty="},
		{"request.queryparam.a", "one", "request.queryparam.a.values", []string{"one"}},
		{"request.queryparam.a.2", "there", "request.queryparam.a.values", []string{"hello", "there"}},
		{"request.queryparam.b.1", "x", "request.queryparam.b.values", []string{"x"}},
		{"request.queryparam.a.3", "!", "request.queryparam.a.values", []string{"hello", "world", "!"}},
		{"request.formparam.user", "bob", "request.content", "user=bob&tag=x&tag=y"},
		{"request.formparam.tag.2", "z", "request.formparam.tag.values", []string{"x", "z"}},
		{"request.content", "raw", "request.content", "raw"},
		{"request.content", []byte("bytes"), "request.content", "bytes"},
		{"response.status.code", 201, "response.status.code", 201},
		{"response.status.code", "503", "response.status.code", 503},
		{"response.status.code", int64(302), "response.status.code", 302},
		{"response.reason.phrase", "Gone", "response.reason.phrase", "Gone"},
		{"response.content", `{"a":1}`, "response.content", `{"a":1}`},
		{"response.header.Set-Cookie", "a=1", "response.header.set-cookie", "a=1"},
		{"message.verb", "put", "request.verb", "PUT"},
		{"message.path", "/other", "request.path", "/other"},
		{"message.uri", "/p?x=1", "request.queryparam.x", "1"},
		{"message.querystring", "y=2", "request.uri", "/v1/weather/forecast?y=2"},
		{"message.content", "via alias", "request.content", "via alias"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := fixture()
			if err := x.Set(tt.name, tt.value); err != nil {
				t.Fatalf("Set(%q, %v) = %v", tt.name, tt.value, err)
			}
			if got, ok := x.Lookup(tt.read); !ok || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("after Set(%q, %#v): Lookup(%q) = %#v, want %#v", tt.name, tt.value, tt.read, got, tt.want)
			}
		})
	}
}

func TestSetMessageErrors(t *testing.T) {
	tests := []struct {
		name     string
		value    any
		readOnly bool
	}{
		{"request.verb", "PUT", true},
		{"request.uri", "/x", true},
		{"request.path", "/x", true},
		{"request.querystring", "a=1", true},
		{"request.url", "http://x", true},
		{"request.version", "2", true},
		{"request.header.Accept.values", "x", true},
		{"request.header.Accept.values.count", 1, true},
		{"request.headers.count", 1, true},
		{"request.queryparams.names", "x", true},
		{"request.content.as.base64", "x", true},
		{"request.formstring", "a=b", true},
		{"message.status.code", 200, true},
		{"error.status.code", 200, true},
		{"response.verb", "GET", true},
		{"request", "scalar", true},
		{"response.status.code", "abc", false},
		{"response.status.code", 12.5, false},
		{"response.status.code", 99, false},
		{"response.formparam.x", "1", false}, // response body is JSON
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := fixture()
			before := *x.Request()
			err := x.Set(tt.name, tt.value)
			var ro *ReadOnlyError
			if err == nil || errors.As(err, &ro) != tt.readOnly {
				t.Fatalf("Set(%q, %#v) = %v, want read-only=%v error", tt.name, tt.value, err, tt.readOnly)
			}
			if ro != nil && ro.Error() != "variable "+tt.name+" is read only" {
				t.Errorf("Error() = %q", ro.Error())
			}
			if after := x.Request(); after.Verb != before.Verb || after.Path != before.Path {
				t.Errorf("Set(%q) changed the request despite failing", tt.name)
			}
		})
	}
}

func TestSetCreatesResponse(t *testing.T) {
	x := New()
	if err := x.Set("response.header.X-Early", "1"); err != nil {
		t.Fatalf("Set(response.header.X-Early) = %v", err)
	}
	if x.Response() == nil || x.Response().Header.Get("X-Early") != "1" {
		t.Fatalf("Set(response.header.X-Early) did not create the response: %v", x.Response())
	}
	if err := x.Set("error.content", "oops"); err != nil || x.Message("error") == nil {
		t.Fatalf("Set(error.content) = %v, error message %v", err, x.Message("error"))
	}
	if got := x.Get("error.content"); got != "oops" {
		t.Errorf("Get(error.content) = %#v, want %q", got, "oops")
	}
}

func TestFormParamsNeedUrlencodedBody(t *testing.T) {
	x := New()
	m := x.Request()
	m.Body = []byte("a=1")
	m.Header.Set("Content-Type", "text/plain")
	for _, name := range []string{"request.formparam.a", "request.formparams.count", "request.formstring"} {
		if v, ok := x.Lookup(name); ok {
			t.Errorf("Lookup(%q) = %#v for a text/plain body, want unset", name, v)
		}
	}
	m.Header.Set("Content-Type", "Application/X-WWW-Form-Urlencoded")
	if got := x.Get("request.formparam.a"); got != "1" {
		t.Errorf("Lookup(%q) = %#v, want %q", "request.formparam.a", got, "1")
	}
	// A message without a content type becomes a form on write.
	y := New()
	if err := y.Set("request.formparam.k", "v w"); err != nil {
		t.Fatalf("Set(request.formparam.k) = %v", err)
	}
	if ct, body := y.Request().ContentType(), string(y.Request().Body); ct != "application/x-www-form-urlencoded" || body != "k=v+w" {
		t.Errorf("after Set(request.formparam.k): content type %q body %q", ct, body)
	}
}

func TestRemove(t *testing.T) {
	tests := []struct {
		name     string
		readOnly bool
		gone     string // variable that must read unset afterwards
	}{
		{"request.header.ACCEPT", false, "request.header.accept"},
		{"request.queryparam.a", false, "request.queryparam.a.1"},
		{"request.formparam.tag", false, "request.formparam.tag"},
		{"request.content", false, ""},
		{"custom.var", false, "custom.var"},
		{"request.verb", true, ""},
		{"response.status.code", true, ""},
		{"proxy.pathsuffix", true, ""},
		{"request", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := fixture()
			x.SetSystem("proxy.pathsuffix", "/forecast")
			_ = x.Set("custom.var", "v")
			err := x.Remove(tt.name)
			var ro *ReadOnlyError
			if errors.As(err, &ro) != tt.readOnly || (!tt.readOnly && err != nil) {
				t.Fatalf("Remove(%q) = %v, want read-only=%v", tt.name, err, tt.readOnly)
			}
			if tt.gone != "" {
				if v, ok := x.Lookup(tt.gone); ok {
					t.Errorf("after Remove(%q): Lookup(%q) = %#v, want unset", tt.name, tt.gone, v)
				}
			}
		})
	}
	x := fixture()
	_ = x.Remove("request.content")
	if got := x.Get("request.content"); got != "" {
		t.Errorf("after Remove(request.content): content = %#v, want empty", got)
	}
}

func TestHeaderWriteKeepsOtherHeaders(t *testing.T) {
	x := New()
	x.Request().Header = http.Header{"accept": {"a"}, "Host": {"h"}} // non-canonical key
	if err := x.Set("request.header.Accept", "b"); err != nil {
		t.Fatal(err)
	}
	want := http.Header{"Accept": {"b"}, "Host": {"h"}}
	if got := x.Request().Header; !reflect.DeepEqual(got, want) {
		t.Errorf("after Set(request.header.Accept): headers %v, want %v", got, want)
	}
}

func TestFailedWriteCreatesNothing(t *testing.T) {
	x := New()
	if err := x.Set("response.status.code", "abc"); err == nil {
		t.Fatal("Set(response.status.code, abc) succeeded")
	}
	if x.Response() != nil {
		t.Errorf("a failed Set created the response: %+v", x.Response())
	}
	x.SetCurrent("response")
	if err := x.Set("message.header.X", "1"); err != nil || x.Response().Header.Get("X") != "1" {
		t.Errorf("Set(message.header.X) with no response = %v, response %v", err, x.Response())
	}
}

func TestScalarReplacesCustomMessage(t *testing.T) {
	x := New()
	_ = x.Set("calloutResponse.content", "stale plain variable")
	x.SetMessage("calloutResponse", NewResponse())
	if got := x.Get("calloutResponse.content"); got != "" {
		t.Errorf("calloutResponse.content = %#v after SetMessage, want the message's empty content", got)
	}
	if err := x.Set("calloutResponse", "scalar"); err != nil {
		t.Fatalf("Set(calloutResponse, scalar) = %v", err)
	}
	if x.Message("calloutResponse") != nil || x.Get("calloutResponse") != "scalar" {
		t.Errorf("after Set(calloutResponse, scalar): message %v, value %#v", x.Message("calloutResponse"), x.Get("calloutResponse"))
	}
}

func TestBuiltinMessageNamesHoldOnlyMessages(t *testing.T) {
	x := New()
	req := x.Request()
	x.SetSystem("request", "scalar")
	if got := x.Get("request"); got != req {
		t.Errorf("after SetSystem(request, scalar): Get(request) = %#v, want the request message", got)
	}
	m := NewRequest()
	x.SetSystem("request", m)
	if x.Request() != m {
		t.Errorf("SetSystem(request, *Message) did not replace the request")
	}
}
