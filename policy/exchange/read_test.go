package exchange

import (
	"net/http"
	"reflect"
	"testing"
)

// fixture is an exchange in a target response flow: a request with
// repeated query parameters and multi-valued headers, and a response.
func fixture() *Exchange {
	x := New()
	req := x.Request()
	req.Verb = "POST"
	req.Path = "/v1/weather/forecast"
	req.Query = ParseParams("city=Paris&a=hello&a=world&empty=")
	req.Header = http.Header{
		"Accept":        {"text/html, application/json;q=0.9"},
		"Cache-Control": {"public, maxage=16544"},
		"X-Multi":       {"a, b", "c"},
		"Content-Type":  {"application/x-www-form-urlencoded; charset=utf-8"},
	}
	req.Body = []byte("user=dude&tag=x&tag=y")
	req.URL = "http://backend/api/forecast?city=Paris"
	resp := NewResponse()
	resp.Status = 404
	resp.Reason = "Not Found"
	resp.Header.Set("Content-Type", "application/json")
	resp.Body = []byte(`{"error":"nope"}`)
	x.SetResponse(resp)
	return x
}

func TestLookupMessageVariables(t *testing.T) {
	x := fixture()
	tests := []struct {
		name string
		want any // nil with ok=false means unset
	}{
		{"request.verb", "POST"},
		{"request.path", "/v1/weather/forecast"},
		{"request.uri", "/v1/weather/forecast?city=Paris&a=hello&a=world&empty="},
		{"request.url", "http://backend/api/forecast?city=Paris"},
		{"request.querystring", "city=Paris&a=hello&a=world&empty="},
		{"request.version", "1.1"},
		{"request.queryparam.city", "Paris"},
		{"request.queryparam.a", "hello"},
		{"request.queryparam.a.1", "hello"},
		{"request.queryparam.a.2", "world"},
		{"request.queryparam.a.3", nil},
		{"request.queryparam.a.values", []string{"hello", "world"}},
		{"request.queryparam.a.values.count", 2},
		{"request.queryparam.missing.values.count", 0},
		{"request.queryparam.empty", ""},
		{"request.queryparam.City", nil}, // query names are case sensitive
		{"request.queryparam.missing", nil},
		{"request.queryparams.count", 3},
		{"request.queryparams.names", []string{"city", "a", "empty"}},
		{"request.queryparams.names.string", "city,a,empty"},
		{"request.header.accept", "text/html"},
		{"request.header.ACCEPT", "text/html"},
		{"request.header.Accept.1", "text/html"},
		{"request.header.Accept.2", "application/json;q=0.9"},
		{"request.header.Accept.3", nil},
		{"request.header.Cache-Control", "public"},
		{"request.header.cache-control.2", "maxage=16544"},
		{"request.header.x-multi", "a"},
		{"request.header.x-multi.3", "c"},
		{"request.header.x-multi.values", []string{"a", "b", "c"}},
		{"request.header.x-multi.values.count", 3},
		{"request.header.x-multi.values.string", "a, b, c"},
		{"request.header.Accept.values.string", "text/html, application/json;q=0.9"},
		{"request.header.missing", nil},
		{"request.header.missing.values.count", 0},
		{"request.headers.count", 4},
		{"request.headers.names", []string{"Accept", "Cache-Control", "Content-Type", "X-Multi"}},
		{"request.headers.names.string", "Accept,Cache-Control,Content-Type,X-Multi"},
		{"request.content", "user=dude&tag=x&tag=y"},
		{"request.content.as.base64", "dXNlcj1kdWRlJnRhZz14JnRhZz15"},
		{"request.formparam.user", "dude"},
		{"request.formparam.tag.2", "y"},
		{"request.formparam.tag.values", []string{"x", "y"}},
		{"request.formparam.tag.values.count", 2},
		{"request.formparams.count", 2},
		{"request.formparams.names", []string{"user", "tag"}},
		{"request.formparams.names.string", "user,tag"},
		{"request.formstring", "user=dude&tag=x&tag=y"},
		{"request.status.code", nil},
		{"response.status.code", 404},
		{"response.reason.phrase", "Not Found"},
		{"response.content", `{"error":"nope"}`},
		{"response.header.content-type", "application/json"},
		{"response.formparam.error", nil}, // not a form body
		{"response.formstring", nil},
		{"response.verb", nil},
		{"response.queryparam.city", nil},
		{"request.nosuchproperty", nil},
		{"error.content", nil}, // no error message yet
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := x.Lookup(tt.name)
			if tt.want == nil {
				if ok {
					t.Errorf("Lookup(%q) = %#v, want unset", tt.name, got)
				}
				return
			}
			if !ok || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Lookup(%q) = %#v, %v; want %#v (%T)", tt.name, got, ok, tt.want, tt.want)
			}
		})
	}
}

func TestLookupMessageObjects(t *testing.T) {
	x := fixture()
	if got := x.Get("request"); got != x.Request() {
		t.Errorf("Get(%q) = %v, want the request message", "request", got)
	}
	if got := x.Get("response"); got != x.Response() {
		t.Errorf("Get(%q) = %v, want the response message", "response", got)
	}
	if _, ok := x.Lookup("error"); ok {
		t.Errorf("Lookup(%q) set before any error", "error")
	}
	if got := New().Response(); got != nil {
		t.Errorf("New().Response() = %v, want nil", got)
	}
	if _, ok := New().Lookup("response.status.code"); ok {
		t.Errorf("response.status.code set before a response exists")
	}
}

func TestMessageAlias(t *testing.T) {
	x := fixture()
	tests := []struct {
		current string
		name    string
		want    any
	}{
		{"request", "message.verb", "POST"},
		{"request", "message.header.accept", "text/html"},
		{"request", "message.status.code", nil},
		{"response", "message.status.code", 404},
		{"response", "message.content", `{"error":"nope"}`},
		{"response", "message.verb", nil},
		{"error", "message.status.code", 500},
		{"error", "message.content", "boom"},
	}
	errMsg := NewResponse()
	errMsg.Status = 500
	errMsg.Body = []byte("boom")
	x.SetMessage("error", errMsg)
	for _, tt := range tests {
		t.Run(tt.current+"/"+tt.name, func(t *testing.T) {
			x.SetCurrent(tt.current)
			if x.CurrentName() != tt.current || x.Current() != x.Message(tt.current) {
				t.Fatalf("SetCurrent(%q): CurrentName() = %q", tt.current, x.CurrentName())
			}
			got, ok := x.Lookup(tt.name)
			if tt.want == nil {
				if ok {
					t.Errorf("Lookup(%q) = %#v, want unset", tt.name, got)
				}
				return
			}
			if !ok || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Lookup(%q) = %#v, want %#v", tt.name, got, tt.want)
			}
		})
	}
}

func TestCustomMessageVariables(t *testing.T) {
	x := New()
	myreq := NewRequest()
	myreq.Header.Set("X-Api-Key", "k1, k2")
	myreq.Query = ParseParams("q=1")
	x.SetMessage("myreq", myreq)
	myresp := NewResponse()
	myresp.Status = 201
	myresp.Body = []byte(`{"id":7}`)
	x.SetMessage("callout.response", myresp) // custom names may contain dots

	reads := []struct {
		name string
		want any
	}{
		{"myreq.header.x-api-key", "k1"},
		{"myreq.header.X-API-KEY.2", "k2"},
		{"myreq.queryparam.q", "1"},
		{"callout.response.content", `{"id":7}`},
		{"callout.response.status.code", 201},
	}
	for _, tt := range reads {
		if got, ok := x.Lookup(tt.name); !ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Lookup(%q) = %#v, %v; want %#v", tt.name, got, ok, tt.want)
		}
	}
	if err := x.Set("myreq.header.x", "v"); err != nil {
		t.Fatalf("Set(myreq.header.x) = %v", err)
	}
	if got := myreq.Header.Get("X"); got != "v" {
		t.Errorf("after Set(myreq.header.x), header X = %q, want %q", got, "v")
	}
	if err := x.Set("callout.response.content", "new"); err != nil || string(myresp.Body) != "new" {
		t.Errorf("Set(callout.response.content) = %v, body %q", err, myresp.Body)
	}
	if err := x.Set("callout.response.status.code", "202"); err != nil || myresp.Status != 202 {
		t.Errorf("Set(callout.response.status.code) = %v, status %d", err, myresp.Status)
	}
	if got := x.Message("myreq"); got != myreq {
		t.Errorf("Message(%q) = %v, want the stored message", "myreq", got)
	}
	if err := x.Remove("myreq"); err != nil || x.Message("myreq") != nil {
		t.Errorf("Remove(%q) = %v, message still %v", "myreq", err, x.Message("myreq"))
	}
	if err := x.Set("created", NewRequest()); err != nil || x.Message("created") == nil {
		t.Errorf("Set(%q, *Message) = %v, Message() = %v", "created", err, x.Message("created"))
	}
}

func TestCanonicalInto(t *testing.T) {
	for _, name := range []string{"accept", "CONTENT-TYPE", "x-api-key", "X-Forwarded-For", "a--b", "-x", "dnt", "x_under"} {
		var buf [64]byte
		got, ok := canonicalInto(buf[:0], name)
		if want := http.CanonicalHeaderKey(name); !ok || string(got) != want {
			t.Errorf("canonicalInto(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
	if _, ok := canonicalInto(nil, "has space"); ok {
		t.Errorf("canonicalInto(%q) ok, want refused", "has space")
	}
}
