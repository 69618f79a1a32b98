package apitest

import (
	"errors"
	"strings"
	"testing"
)

// TestParseErrors: every problem in a test file comes back with its line
// (and column when yaml.v3 gives one).
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"syntax", "serve: x\ncases:\n  - name: a\n    request: {path: /a\n", "t.test.yaml:3: did not find expected ',' or '}'"},
		{"tab indent", "serve: x\ncases:\n\t- name: a\n", "t.test.yaml:3: found character that cannot start any token"},
		{"empty", "", "t.test.yaml:1: empty test file: want serve: and cases:"},
		{"not a mapping", "- a\n", "t.test.yaml:1:1: test file: want a mapping (key: value), got a list"},
		{"missing serve", "cases: []\n", "t.test.yaml:1:1: missing serve: the bundle paths to test, relative to this file"},
		{"unknown top field", "serve: x\ncases: []\nmock: []\n", `t.test.yaml:3:1: unknown field "mock" (known: serve, env, data, variables, network, mocks, cases)`},
		{"unknown expect field", "serve: x\ncases:\n  - name: a\n    request: {path: /}\n    expect: {stauts: 200}\n", `t.test.yaml:5:14: unknown field "stauts"`},
		{"status not a number", "serve: x\ncases:\n  - request: {path: /}\n    expect: {status: ok}\n", `t.test.yaml:4:22: status: want a whole number from 100 to 999, got "ok"`},
		{"bad regex", "serve: x\ncases:\n  - request: {path: /}\n    expect: {headers: {a: /(/}}\n", "t.test.yaml:4:27: bad regular expression: error parsing regexp"},
		{"bad JSONPath", "serve: x\ncases:\n  - request: {path: /}\n    expect: {body_json: {\"$.[\": 1}}\n", "t.test.yaml:4:26: body_json: invalid JSONPath"},
		{"path without slash", "serve: x\ncases:\n  - request: {path: a}\n", `t.test.yaml:3:21: request path must start with /, got "a"`},
		{"missing request", "serve: x\ncases:\n  - name: a\n", `t.test.yaml:3:5: case "a": missing request:`},
		{"unknown mock", "serve: x\ncases:\n  - request: {path: /}\n    expect:\n      target_called: {orders: 1}\n", `t.test.yaml:5:23: target_called: no mock named "orders"`},
		{"mock without match", "serve: x\nmocks:\n  - respond: {status: 200}\ncases: []\n", "t.test.yaml:3:5: mock: want target_server: or url: to match calls"},
		{"bad fail mode", "serve: x\nmocks:\n  - url: http://a\n    fail: crash\ncases: []\n", `t.test.yaml:4:11: fail: want refused, timeout, connect_timeout or reset, got "crash"`},
		{"duplicate key", "serve: x\nserve: y\ncases: []\n", `t.test.yaml:2:1: test file: duplicate key "serve"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.test.yaml", []byte(tt.src))
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("Parse(%q) error = %v, want a *FileError", tt.src, err)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("Parse(%q) error = %q, want it to start with %q", tt.src, err, tt.want)
			}
		})
	}
}

// TestParseIssueExample is the file shown in issue #6, field for field.
func TestParseIssueExample(t *testing.T) {
	src := `
serve: ../src/main/apigee
env: dev
data: ../src/tests/data
variables:
  organization.name: acme
mocks:
  - target_server: orders
    url: https://api.example.com/v1
    respond: {status: 200, headers: {content-type: application/json}, body: '{"id": 7}'}
cases:
  - name: GET an order through the gateway
    request: {method: GET, path: /v1/orders/7, headers: {x-apikey: key-1}, query: {a: b}, body: ''}
    expect:
      status: 200
      headers: {content-type: application/json}
      body: '{"id": 7}'
      body_contains: '"id"'
      body_json: {"$.id": 7}
      variables: {route.target: orders}
      fault: null
      target_called: {orders: 1}
`
	f, err := Parse("proj/tests/api.test.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.Serve, ","); got != "proj/src/main/apigee" {
		t.Errorf("Serve = %q, want proj/src/main/apigee", got)
	}
	if f.Env != "dev" || f.Org != "acme" || len(f.Data) != 1 || f.Data[0] != "proj/src/tests/data" {
		t.Errorf("Env, Org, Data = %q, %q, %q", f.Env, f.Org, f.Data)
	}
	m := f.Mocks[0]
	if m.Name != "orders" || m.TargetServer != "orders" || m.URL != "https://api.example.com/v1" || m.Responses[0].Status != 200 || string(m.Responses[0].Body) != `{"id": 7}` {
		t.Errorf("mock = %+v", m)
	}
	c := f.Cases[0]
	if got := c.Request.url.String(); got != "http://localhost/v1/orders/7?a=b" {
		t.Errorf("request URL = %q", got)
	}
	e := c.Expect
	if e.Status != 200 || len(e.Headers) != 1 || *e.Body != `{"id": 7}` || e.BodyContains[0] != `"id"` ||
		len(e.BodyJSON) != 1 || e.BodyJSON[0].want != float64(7) || e.Variables[0].name != "route.target" ||
		e.Fault == nil || !e.Fault.none || e.TargetCalled[0] != (callExpect{mock: "orders", count: 1, line: 22, col: 23}) {
		t.Errorf("expect = %+v", e)
	}
}

func TestFind(t *testing.T) {
	files, errs := Find([]string{"testdata", "testdata/shop.test.yaml", "testdata/nothing-here"})
	want := "testdata/failing/failing.test.yaml,testdata/mocks.test.yaml,testdata/shop.test.yaml"
	if strings.Join(files, ",") != want {
		t.Errorf("Find = %v, want %s", files, want)
	}
	if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), "testdata/nothing-here: cannot read: ") {
		t.Errorf("Find errors = %v, want one for testdata/nothing-here", errs)
	}
}
