package policy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
)

// parsePolicy turns an XML string into a bundle.Policy as the loader would.
func parsePolicy(t testing.TB, src string) *bundle.Policy {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromString(src); err != nil {
		t.Fatalf("parsing test XML: %v", err)
	}
	root := doc.Root()
	return &bundle.Policy{
		Name: root.SelectAttrValue("name", ""), Type: root.Tag, Enabled: true,
		File: "x.xml", Element: root, Doc: &bundle.Doc{File: "x.xml", Tree: doc},
	}
}

// buildXML builds a policy from src with the given build context fields.
func buildXML(t testing.TB, src string, bc *BuildContext) (Policy, *bundle.Problems) {
	t.Helper()
	if bc == nil {
		bc = &BuildContext{}
	}
	if bc.Problems == nil {
		bc.Problems = &bundle.Problems{}
	}
	if bc.Options == nil {
		bc.Options = &Options{}
	}
	p := parsePolicy(t, src)
	b, _, ok := Lookup(p.Type)
	if !ok {
		t.Fatalf("no builder for %s", p.Type)
	}
	return b(bc, p), bc.Problems
}

func mustBuild(t testing.TB, src string, bc *BuildContext) Policy {
	t.Helper()
	pol, probs := buildXML(t, src, bc)
	if probs.HasErrors() || pol == nil {
		t.Fatalf("build failed:\n%s", probs.String())
	}
	return pol
}

// sampleExchange is a request segment: POST /v1/items?a=1&a=2 with a JSON
// body, and a few flow variables.
func sampleExchange() *exchange.Exchange {
	x := exchange.New()
	r := x.Request()
	r.Verb, r.Path = "POST", "/v1/items"
	r.Query = exchange.ParseParams("a=1&a=2&term=shoes")
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Trace", "t1")
	r.Header.Add("Accept", "text/plain")
	r.Body = []byte(`{"id":7}`)
	x.Set("user.name", "ada")
	x.Set("flow.code", "201")
	return x
}

func execute(t testing.TB, pol Policy, x *exchange.Exchange) error {
	t.Helper()
	return pol.Execute(context.Background(), x)
}

func TestAssignMessageOperations(t *testing.T) {
	tests := []struct {
		name  string
		xml   string
		check func(t *testing.T, x *exchange.Exchange)
	}{
		{
			name: "Set headers, query, verb, path, version with templates",
			xml: `<AssignMessage name="AM"><Set>
				<Headers><Header name="x-user">Hello {user.name}</Header><Header name="X-Trace">new</Header></Headers>
				<QueryParams><QueryParam name="a">{request.queryparam.term}</QueryParam></QueryParams>
				<Verb>put</Verb><Path>/v2/{user.name}</Path><Version>HTTP/2</Version>
			</Set></AssignMessage>`,
			check: func(t *testing.T, x *exchange.Exchange) {
				r := x.Request()
				want(t, "header x-user", r.Header.Get("X-User"), "Hello ada")
				want(t, "header X-Trace values", strings.Join(r.Header.Values("X-Trace"), ","), "new")
				want(t, "query", r.Query.Encode(), "a=shoes&term=shoes")
				want(t, "verb", r.Verb, "PUT")
				want(t, "path", r.Path, "/v2/ada")
				want(t, "version", r.Version, "2")
			},
		},
		{
			name: "Add appends headers and query params",
			xml: `<AssignMessage name="AM"><Add>
				<Headers><Header name="X-Trace">{user.name}</Header></Headers>
				<QueryParams><QueryParam name="a">3</QueryParam></QueryParams>
			</Add></AssignMessage>`,
			check: func(t *testing.T, x *exchange.Exchange) {
				r := x.Request()
				want(t, "X-Trace", strings.Join(r.Header.Values("X-Trace"), ","), "t1,ada")
				want(t, "query", r.Query.Encode(), "a=1&a=2&term=shoes&a=3")
			},
		},
		{
			name: "Remove named header and query param, payload",
			xml: `<AssignMessage name="AM"><Remove>
				<Headers><Header name="x-trace"/></Headers>
				<QueryParams><QueryParam name="a"/></QueryParams>
				<Payload>true</Payload>
			</Remove></AssignMessage>`,
			check: func(t *testing.T, x *exchange.Exchange) {
				r := x.Request()
				want(t, "X-Trace", r.Header.Get("X-Trace"), "")
				want(t, "Accept", r.Header.Get("Accept"), "text/plain")
				want(t, "query", r.Query.Encode(), "term=shoes")
				want(t, "body", string(r.Body), "")
			},
		},
		{
			name: "document order: Remove all headers then Set one",
			xml: `<AssignMessage name="AM">
				<Remove><Headers/><QueryParams/></Remove>
				<Set><Headers><Header name="X-Only">{request.header.x-trace}</Header></Headers></Set>
			</AssignMessage>`,
			check: func(t *testing.T, x *exchange.Exchange) {
				r := x.Request()
				want(t, "header count", len(r.Header), 1)
				// X-Trace was removed before Set rendered it.
				want(t, "X-Only", r.Header.Get("X-Only"), "")
				_, has := r.Header["X-Only"]
				want(t, "X-Only present", has, true)
				want(t, "query", len(r.Query), 0)
			},
		},
		{
			name: "document order: Set before Remove all",
			xml: `<AssignMessage name="AM">
				<Set><Headers><Header name="X-Only">{request.header.x-trace}</Header></Headers></Set>
				<Remove><Headers/></Remove>
				<Add><Headers><Header name="X-Late">late</Header></Headers></Add>
			</AssignMessage>`,
			check: func(t *testing.T, x *exchange.Exchange) {
				r := x.Request()
				want(t, "X-Only", r.Header.Get("X-Only"), "")
				want(t, "X-Late", r.Header.Get("X-Late"), "late")
				want(t, "header count", len(r.Header), 1)
			},
		},
		{
			name: "Set Payload with contentType and template",
			xml: `<AssignMessage name="AM"><Set>
				<Payload contentType="application/json">
					{"user":"{user.name}", "n": 1}
				</Payload>
			</Set></AssignMessage>`,
			check: func(t *testing.T, x *exchange.Exchange) {
				r := x.Request()
				want(t, "body", string(r.Body), `{"user":"ada", "n": 1}`)
				want(t, "content type", r.Header.Get("Content-Type"), "application/json")
			},
		},
		{
			name: "Set Payload keeps spaces without a line break",
			xml:  `<AssignMessage name="AM"><Set><Payload contentType="text/plain"> {user.name} </Payload></Set></AssignMessage>`,
			check: func(t *testing.T, x *exchange.Exchange) {
				want(t, "body", string(x.Request().Body), " ada ")
			},
		},
		{
			name: "Set Payload with variablePrefix and variableSuffix",
			xml: `<AssignMessage name="AM"><Set>
				<Payload contentType="application/json" variablePrefix="@" variableSuffix="#">{"user":"@user.name#","q":"{user.name}"}</Payload>
			</Set></AssignMessage>`,
			check: func(t *testing.T, x *exchange.Exchange) {
				want(t, "body", string(x.Request().Body), `{"user":"ada","q":"{user.name}"}`)
			},
		},
		{
			name: "Set Payload with XML children",
			xml: `<AssignMessage name="AM"><Set>
				<Payload contentType="application/xml">
					<root a="1"><user>{user.name}</user><amp>a &amp; b</amp></root>
				</Payload>
			</Set></AssignMessage>`,
			check: func(t *testing.T, x *exchange.Exchange) {
				want(t, "body", string(x.Request().Body), `<root a="1"><user>ada</user><amp>a &amp; b</amp></root>`)
				want(t, "content type", x.Request().Header.Get("Content-Type"), "application/xml")
			},
		},
		{
			name: "Set StatusCode and ReasonPhrase from templates on a new response",
			xml: `<AssignMessage name="AM">
				<AssignTo createNew="true" transport="http" type="response"/>
				<Set><StatusCode>{flow.code}</StatusCode><ReasonPhrase>Created {user.name}</ReasonPhrase>
				<Payload contentType="text/plain">done</Payload></Set>
			</AssignMessage>`,
			check: func(t *testing.T, x *exchange.Exchange) {
				r := x.Response()
				if r == nil {
					t.Fatal("response = nil, want a new response")
				}
				want(t, "status", r.Status, 201)
				want(t, "reason", r.Reason, "Created ada")
				want(t, "body", string(r.Body), "done")
				want(t, "request body untouched", string(x.Request().Body), `{"id":7}`)
			},
		},
		{
			name: "Set FormParams makes an urlencoded body",
			xml: `<AssignMessage name="AM">
				<AssignTo createNew="true" type="request">formReq</AssignTo>
				<Set><FormParams><FormParam name="user">{user.name}</FormParam><FormParam name="q">a b&amp;c</FormParam></FormParams></Set>
				<Add><FormParams><FormParam name="user">bob</FormParam></FormParams></Add>
			</AssignMessage>`,
			check: func(t *testing.T, x *exchange.Exchange) {
				r := x.Message("formReq")
				if r == nil {
					t.Fatal("formReq = nil")
				}
				want(t, "body", string(r.Body), "user=ada&q=a+b%26c&user=bob")
				want(t, "content type", r.Header.Get("Content-Type"), "application/x-www-form-urlencoded")
				v, _ := x.GetString("formReq.formparam.q")
				want(t, "formReq.formparam.q", v, "a b&c")
			},
		},
		{
			name: "malformed Payload braces stay literal",
			xml:  `<AssignMessage name="AM"><Set><Payload contentType="text/html"><![CDATA[<a onclick="if(x){search(this.value); y='';}">{user.name}</a>]]></Payload></Set></AssignMessage>`,
			check: func(t *testing.T, x *exchange.Exchange) {
				want(t, "body", string(x.Request().Body), `<a onclick="if(x){search(this.value); y='';}">ada</a>`)
			},
		},
		{
			name: "Copy everything into a new message",
			xml: `<AssignMessage name="AM"><AssignTo createNew="true" type="request">clone</AssignTo>
				<Copy><Headers/><QueryParams/><Payload>true</Payload><Verb>true</Verb><Path>true</Path><Version>true</Version></Copy>
			</AssignMessage>`,
			check: func(t *testing.T, x *exchange.Exchange) {
				m, r := x.Message("clone"), x.Request()
				want(t, "verb", m.Verb, r.Verb)
				want(t, "path", m.Path, r.Path)
				want(t, "query", m.Query.Encode(), r.Query.Encode())
				want(t, "Accept", m.Header.Get("Accept"), "text/plain")
				want(t, "body", string(m.Body), string(r.Body))
				m.Body[0] = 'X'
				want(t, "request body is not shared", string(r.Body), `{"id":7}`)
			},
		},
		{
			name: "Remove a form param from a form body",
			xml:  `<AssignMessage name="AM"><Remove><FormParams><FormParam name="secret"/></FormParams></Remove></AssignMessage>`,
			check: func(t *testing.T, x *exchange.Exchange) {
				want(t, "body", string(x.Request().Body), "user=ada")
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pol := mustBuild(t, tc.xml, nil)
			x := sampleExchange()
			if strings.Contains(tc.name, "form param from a form") {
				x.Request().Header.Set("Content-Type", "application/x-www-form-urlencoded")
				x.Request().Body = []byte("user=ada&secret=s3")
			}
			if err := execute(t, pol, x); err != nil {
				t.Fatalf("Execute() = %v, want nil", err)
			}
			tc.check(t, x)
		})
	}
}

func want[T comparable](t *testing.T, what string, got, exp T) {
	t.Helper()
	if got != exp {
		t.Errorf("%s = %#v, want %#v", what, got, exp)
	}
}

func TestAssignMessageAssignTo(t *testing.T) {
	t.Run("createNew named request leaves request alone", func(t *testing.T) {
		pol := mustBuild(t, `<AssignMessage name="AM">
			<AssignTo createNew="true" transport="http" type="request">calloutReq</AssignTo>
			<Copy source="request"><Headers><Header name="X-Trace"/></Headers><QueryParams><QueryParam name="a"/></QueryParams></Copy>
			<Set><Verb>GET</Verb><Path>/lookup?x=1</Path></Set>
		</AssignMessage>`, nil)
		x := sampleExchange()
		orig := x.Request()
		if err := execute(t, pol, x); err != nil {
			t.Fatalf("Execute() = %v", err)
		}
		m := x.Message("calloutReq")
		if m == nil || !m.IsRequest {
			t.Fatalf("calloutReq = %+v, want a request message", m)
		}
		want(t, "calloutReq X-Trace", m.Header.Get("X-Trace"), "t1")
		want(t, "calloutReq Accept", m.Header.Get("Accept"), "")
		want(t, "calloutReq query", m.Query.Encode(), "a=1&a=2&x=1")
		want(t, "calloutReq verb", m.Verb, "GET")
		want(t, "calloutReq path", m.Path, "/lookup")
		want(t, "request unchanged", x.Request() == orig && orig.Verb == "POST", true)
	})
	t.Run("createNew request replaces the request", func(t *testing.T) {
		pol := mustBuild(t, `<AssignMessage name="AM"><AssignTo createNew="true" type="request">request</AssignTo>
			<Set><Headers><Header name="X-New">1</Header></Headers></Set></AssignMessage>`, nil)
		x := sampleExchange()
		orig := x.Request()
		if err := execute(t, pol, x); err != nil {
			t.Fatalf("Execute() = %v", err)
		}
		r := x.Request()
		want(t, "new request object", r != orig, true)
		want(t, "X-Trace gone", r.Header.Get("X-Trace"), "")
		want(t, "X-New", r.Header.Get("X-New"), "1")
		want(t, "body", len(r.Body), 0)
	})
	t.Run("createNew response replaces the response", func(t *testing.T) {
		pol := mustBuild(t, `<AssignMessage name="AM"><AssignTo createNew="true" type="response">response</AssignTo>
			<Set><StatusCode>404</StatusCode></Set></AssignMessage>`, nil)
		x := sampleExchange()
		old := exchange.NewResponse()
		old.Header.Set("X-Backend", "1")
		x.SetResponse(old)
		if err := execute(t, pol, x); err != nil {
			t.Fatalf("Execute() = %v", err)
		}
		r := x.Response()
		want(t, "new response object", r != old, true)
		want(t, "status", r.Status, 404)
		want(t, "X-Backend gone", r.Header.Get("X-Backend"), "")
	})
	t.Run("no AssignTo edits the current message", func(t *testing.T) {
		pol := mustBuild(t, `<AssignMessage name="AM"><Set><Headers><Header name="X-Cur">1</Header></Headers></Set></AssignMessage>`, nil)
		x := sampleExchange()
		resp := exchange.NewResponse()
		x.SetResponse(resp)
		x.SetCurrent("response")
		if err := execute(t, pol, x); err != nil {
			t.Fatalf("Execute() = %v", err)
		}
		want(t, "response X-Cur", resp.Header.Get("X-Cur"), "1")
		want(t, "request X-Cur", x.Request().Header.Get("X-Cur"), "")
	})
	t.Run("empty AssignTo type=request in a response segment edits the response", func(t *testing.T) {
		pol := mustBuild(t, `<AssignMessage name="AM"><AssignTo createNew="false" transport="http" type="request"/>
			<Set><StatusCode>418</StatusCode></Set></AssignMessage>`, nil)
		x := sampleExchange()
		x.SetResponse(exchange.NewResponse())
		x.SetCurrent("response")
		if err := execute(t, pol, x); err != nil {
			t.Fatalf("Execute() = %v", err)
		}
		want(t, "response status", x.Response().Status, 418)
	})
	t.Run("empty AssignTo type=response in a request segment edits the response", func(t *testing.T) {
		pol := mustBuild(t, `<AssignMessage name="AM"><AssignTo createNew="false" type="response"/>
			<Set><Payload contentType="text/plain">mock</Payload></Set></AssignMessage>`, nil)
		x := sampleExchange()
		if err := execute(t, pol, x); err != nil {
			t.Fatalf("Execute() = %v", err)
		}
		if x.Response() == nil {
			t.Fatal("response = nil, want one created")
		}
		want(t, "response body", string(x.Response().Body), "mock")
		want(t, "request body", string(x.Request().Body), `{"id":7}`)
	})
	t.Run("AssignTo response in a request segment creates the placeholder", func(t *testing.T) {
		pol := mustBuild(t, `<AssignMessage name="AM"><AssignTo createNew="false" transport="http" type="response">response</AssignTo>
			<Set><StatusCode>204</StatusCode></Set></AssignMessage>`, nil)
		x := sampleExchange()
		if err := execute(t, pol, x); err != nil {
			t.Fatalf("Execute() = %v", err)
		}
		if x.Response() == nil {
			t.Fatal("response = nil")
		}
		want(t, "status", x.Response().Status, 204)
	})
	t.Run("missing variable without createNew attribute is created", func(t *testing.T) {
		pol := mustBuild(t, `<AssignMessage name="AM"><AssignTo type="response">mockResp</AssignTo>
			<Set><StatusCode>202</StatusCode></Set></AssignMessage>`, nil)
		x := sampleExchange()
		if err := execute(t, pol, x); err != nil {
			t.Fatalf("Execute() = %v", err)
		}
		m := x.Message("mockResp")
		if m == nil || m.IsRequest {
			t.Fatalf("mockResp = %+v, want a response", m)
		}
		want(t, "status", m.Status, 202)
	})
}

func TestAssignMessageCopyFromCustomMessage(t *testing.T) {
	pol := mustBuild(t, `<AssignMessage name="AM">
		<AssignTo createNew="false" type="response">response</AssignTo>
		<Copy source="calloutResponse"><Headers/><Payload>true</Payload><StatusCode>true</StatusCode><ReasonPhrase>true</ReasonPhrase></Copy>
	</AssignMessage>`, nil)
	x := sampleExchange()
	src := exchange.NewResponse()
	src.Status, src.Reason = 409, "Conflict"
	src.Header.Set("X-A", "1")
	src.Header.Add("X-B", "2")
	src.Header.Add("X-B", "3")
	src.Body = []byte("conflict body")
	x.SetMessage("calloutResponse", src)
	x.SetResponse(exchange.NewResponse())
	if err := execute(t, pol, x); err != nil {
		t.Fatalf("Execute() = %v", err)
	}
	r := x.Response()
	want(t, "status", r.Status, 409)
	want(t, "reason", r.Reason, "Conflict")
	want(t, "X-A", r.Header.Get("X-A"), "1")
	want(t, "X-B", strings.Join(r.Header.Values("X-B"), ","), "2,3")
	want(t, "body", string(r.Body), "conflict body")
	src.Header.Set("X-A", "changed")
	want(t, "X-A is a copy", r.Header.Get("X-A"), "1")
}

func TestAssignVariable(t *testing.T) {
	tests := []struct {
		name, xml, variable string
		setup               func(x *exchange.Exchange)
		want                any
	}{
		{"Ref wins over Template and Value", `<AssignVariable><Name>out</Name><Ref>user.name</Ref><Template>t-{flow.code}</Template><Value>v</Value></AssignVariable>`, "out", nil, "ada"},
		{"Template when Ref is unset", `<AssignVariable><Name>out</Name><Ref>nope</Ref><Template>t-{flow.code}</Template><Value>v</Value></AssignVariable>`, "out", nil, "t-201"},
		{"Value when Ref is unset and no Template", `<AssignVariable><Name>out</Name><Ref>nope</Ref><Value>v</Value></AssignVariable>`, "out", nil, "v"},
		{"Ref keeps the value's type", `<AssignVariable><Name>out</Name><Ref>count</Ref></AssignVariable>`, "out", func(x *exchange.Exchange) { x.Set("count", 42) }, 42},
		{"Template ref reads the template text from a variable", `<AssignVariable><Name>out</Name><Template ref="tpl"/></AssignVariable>`, "out", func(x *exchange.Exchange) { x.Set("tpl", "hi {user.name}") }, "hi ada"},
		{"PropertySetRef", `<AssignVariable><Name>out</Name><PropertySetRef>{setname}.region</PropertySetRef><Value>none</Value></AssignVariable>`, "out", func(x *exchange.Exchange) {
			x.SetPropertySets(map[string]map[string]string{"cfg": {"region": "eu"}})
			x.Set("setname", "cfg")
		}, "eu"},
		{"PropertySetRef unresolved falls back to Value", `<AssignVariable><Name>out</Name><PropertySetRef>cfg.missing</PropertySetRef><Value>none</Value></AssignVariable>`, "out", nil, "none"},
		{"ResourceURL", `<AssignVariable><Name>out</Name><ResourceURL>jsc://data.json</ResourceURL></AssignVariable>`, "out", nil, `{"k":1}`},
		{"sets a message field", `<AssignVariable><Name>request.header.x-av</Name><Value>yes</Value></AssignVariable>`, "request.header.x-av", nil, "yes"},
		{"nothing resolvable sets nothing", `<AssignVariable><Name>out</Name><Ref>nope</Ref></AssignVariable>`, "out", nil, nil},
	}
	bc := &BuildContext{Bundle: &bundle.Bundle{Resources: map[string][]byte{"jsc://data.json": []byte(`{"k":1}`)}}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pol := mustBuild(t, `<AssignMessage name="AM">`+tc.xml+`</AssignMessage>`, bc)
			x := sampleExchange()
			if tc.setup != nil {
				tc.setup(x)
			}
			if err := execute(t, pol, x); err != nil {
				t.Fatalf("Execute() = %v", err)
			}
			got, _ := x.Lookup(tc.variable)
			if got != tc.want {
				t.Errorf("Lookup(%q) = %#v, want %#v", tc.variable, got, tc.want)
			}
		})
	}
}

func TestAssignMessageFaults(t *testing.T) {
	tests := []struct {
		name, xml       string
		strict          bool
		setup           func(x *exchange.Exchange)
		code, faultText string // code "" = no fault
	}{
		{"Copy from a missing message", `<AssignMessage name="AM-1"><Copy source="response"><Headers/></Copy></AssignMessage>`, false, nil,
			"steps.assignmessage.UnresolvedVariable", "AssignMessage[AM-1]: unable to resolve variable response"},
		{"Copy from a missing message ignored", `<AssignMessage name="AM-1"><Copy source="response"><Headers/></Copy><IgnoreUnresolvedVariables>true</IgnoreUnresolvedVariables></AssignMessage>`, false, nil, "", ""},
		{"AssignTo createNew=false on a missing variable", `<AssignMessage name="AM-1"><AssignTo createNew="false">ghost</AssignTo><Set><Verb>GET</Verb></Set></AssignMessage>`, false, nil,
			"steps.assignmessage.UnresolvedVariable", "AssignMessage[AM-1]: unable to resolve variable ghost"},
		{"Copy from a non-message variable", `<AssignMessage name="AM-1"><Copy source="user.name"><Headers/></Copy></AssignMessage>`, false, nil,
			"steps.assignmessage.VariableOfNonMsgType", "AssignMessage[AM-1]: variable user.name is not of type message"},
		{"AssignTo a non-message variable", `<AssignMessage name="AM-1"><AssignTo>user.name</AssignTo><Set><Verb>GET</Verb></Set></AssignMessage>`, false, nil,
			"steps.assignmessage.VariableOfNonMsgType", "AssignMessage[AM-1]: variable user.name is not of type message"},
		{"AssignVariable on a read-only variable", `<AssignMessage name="AM-1"><AssignVariable><Name>proxy.basepath</Name><Value>/x</Value></AssignVariable></AssignMessage>`, false, nil,
			"steps.assignmessage.SetVariableFailed", "AssignMessage[AM-1]: unable to set variable proxy.basepath"},
		{"unresolved template renders empty by default", `<AssignMessage name="AM-1"><Set><Headers><Header name="h">{nope}</Header></Headers></Set></AssignMessage>`, false, nil, "", ""},
		{"unresolved template faults in strict mode", `<AssignMessage name="AM-1"><Set><Headers><Header name="h">{nope}</Header></Headers></Set></AssignMessage>`, true, nil,
			"steps.assignmessage.UnresolvedVariable", "AssignMessage[AM-1]: unable to resolve variable nope"},
		{"strict mode honours IgnoreUnresolvedVariables", `<AssignMessage name="AM-1"><IgnoreUnresolvedVariables>true</IgnoreUnresolvedVariables><Set><Headers><Header name="h">{nope}</Header></Headers></Set></AssignMessage>`, true, nil, "", ""},
		{"invalid status code", `<AssignMessage name="AM-1"><AssignTo type="response" createNew="true"/><Set><StatusCode>{user.name}</StatusCode></Set></AssignMessage>`, false, nil,
			"steps.assignmessage.SetVariableFailed", `AssignMessage[AM-1]: invalid status code "ada"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pol := mustBuild(t, tc.xml, &BuildContext{Options: &Options{StrictTemplates: tc.strict}})
			x := sampleExchange()
			if tc.setup != nil {
				tc.setup(x)
			}
			err := execute(t, pol, x)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("Execute() = %v, want nil", err)
				}
				return
			}
			var f *Fault
			if !errors.As(err, &f) {
				t.Fatalf("Execute() = %v, want a *Fault %s", err, tc.code)
			}
			want(t, "Code", f.Code, tc.code)
			want(t, "Name", f.Name, tc.code[strings.LastIndexByte(tc.code, '.')+1:])
			want(t, "FaultString", f.FaultString, tc.faultText)
			want(t, "HTTPStatus", f.HTTPStatus(), 500)
			want(t, "Policy", f.Policy, "AM-1")
			want(t, "Source", f.Source, "policy")
		})
	}
}

func TestAssignMessageBuildProblems(t *testing.T) {
	tests := []struct {
		name, xml string
		wantNil   bool   // the policy does not build
		severity  string // "error" or "warning"
		contains  string
	}{
		{"unknown child of Set", `<AssignMessage name="AM"><Set><Header name="x">1</Header></Set></AssignMessage>`, false, "warning", "unknown element <Header> in <Set>"},
		{"unknown child of Remove", `<AssignMessage name="AM"><Remove><Verb>true</Verb></Remove></AssignMessage>`, false, "warning", "unknown element <Verb> in <Remove>"},
		{"unknown top-level child", `<AssignMessage name="AM"><Sett/></AssignMessage>`, false, "warning", "unknown element <Sett>"},
		{"template syntax error", `<AssignMessage name="AM"><Set><Headers><Header name="x">{a b}</Header></Headers></Set></AssignMessage>`, true, "error", "invalid message template"},
		{"malformed Payload reference is a warning", `<AssignMessage name="AM"><Set><Payload contentType="text/html">{search(this.value); x=1;}</Payload></Set></AssignMessage>`, false, "warning", "kept as literal text"},
		{"AssignVariable without Name", `<AssignMessage name="AM"><AssignVariable><Value>1</Value></AssignVariable></AssignMessage>`, true, "error", "without a <Name>"},
		{"Header without name", `<AssignMessage name="AM"><Add><Headers><Header>1</Header></Headers></Add></AssignMessage>`, true, "error", "without a name attribute"},
		{"missing ResourceURL", `<AssignMessage name="AM"><AssignVariable><Name>a</Name><ResourceURL>jsc://nope.json</ResourceURL></AssignVariable></AssignMessage>`, true, "error", `resource "jsc://nope.json" not found`},
		{"Ref with braces", `<AssignMessage name="AM"><AssignVariable><Name>a</Name><Ref>{b}</Ref></AssignVariable></AssignMessage>`, true, "error", "without braces"},
		{"bad type", `<AssignMessage name="AM"><AssignTo type="something">dest</AssignTo></AssignMessage>`, false, "warning", `type "something"`},
		{"bad transport", `<AssignMessage name="AM"><AssignTo transport="ftp">dest</AssignTo></AssignMessage>`, false, "warning", `transport "ftp"`},
		{"bad boolean", `<AssignMessage name="AM"><Copy><Payload>yes</Payload></Copy></AssignMessage>`, false, "warning", `"yes" is not true or false`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pol, probs := buildXML(t, tc.xml, nil)
			if (pol == nil) != tc.wantNil {
				t.Errorf("build returned %v, want nil=%v", pol, tc.wantNil)
			}
			out := probs.String()
			if !strings.Contains(out, tc.contains) || !strings.HasPrefix(out, "x.xml") {
				t.Errorf("problems = %q, want one in x.xml containing %q", out, tc.contains)
			}
			if got := strings.Contains(out, ": warning: "); got != (tc.severity == "warning") {
				t.Errorf("problems = %q, want severity %s", out, tc.severity)
			}
		})
	}
}

// TestAssignMessageConcurrent runs one built policy from many goroutines;
// run with -race to check the policy is immutable.
func TestAssignMessageConcurrent(t *testing.T) {
	pol := mustBuild(t, readTestdata(t, "assignmessage/AM-BuildCalloutRequest.xml"), nil)
	done := make(chan string)
	for i := 0; i < 8; i++ {
		go func(i int) {
			x := sampleExchange()
			x.Set("client_id", fmt.Sprint("app", i))
			if err := pol.Execute(context.Background(), x); err != nil {
				done <- err.Error()
				return
			}
			done <- string(x.Message("calloutRequest").Body)
		}(i)
	}
	seen := map[string]bool{}
	for i := 0; i < 8; i++ {
		seen[<-done] = true
	}
	for i := 0; i < 8; i++ {
		found := false
		for body := range seen {
			found = found || strings.Contains(body, fmt.Sprintf(`"client": "app%d"`, i))
		}
		if !found {
			t.Errorf("no execution rendered client app%d; results: %v", i, seen)
		}
	}
}

func BenchmarkAssignMessageExecute(b *testing.B) {
	pol := mustBuild(b, readTestdata(b, "assignmessage/AM-BuildCalloutRequest.xml"), nil)
	x := sampleExchange()
	x.Set("private.token", "s3cr3t")
	x.Set("client_id", "app1")
	x.Request().Query = exchange.ParseParams("token=tk1&apikey=k")
	b.ReportAllocs()
	for b.Loop() {
		if err := pol.Execute(context.Background(), x); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRaiseFaultExecute(b *testing.B) {
	pol := mustBuild(b, readTestdata(b, "raisefault/RF-InvalidRequest.xml"), nil)
	x := sampleExchange()
	b.ReportAllocs()
	for b.Loop() {
		_ = pol.Execute(context.Background(), x)
	}
}
