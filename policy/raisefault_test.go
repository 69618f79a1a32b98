package policy

import (
	"errors"
	"strings"
	"testing"

	"github.com/apigo/apigo/policy/exchange"
)

func TestRaiseFault(t *testing.T) {
	tests := []struct {
		name       string
		xml        string
		wantStatus int
		check      func(t *testing.T, f *Fault, x *exchange.Exchange)
	}{
		{
			name:       "without FaultResponse",
			xml:        `<RaiseFault name="RF-1"><IgnoreUnresolvedVariables>true</IgnoreUnresolvedVariables></RaiseFault>`,
			wantStatus: 500,
			check: func(t *testing.T, f *Fault, _ *exchange.Exchange) {
				if f.Response != nil {
					t.Errorf("Response = %+v, want nil", f.Response)
				}
			},
		},
		{
			name: "FaultResponse in document order",
			xml: `<RaiseFault name="RF-1">
				<FaultResponse>
					<AssignVariable><Name>flow.err</Name><Value>nf</Value></AssignVariable>
					<Copy source="request"><Headers><Header name="X-Trace"/></Headers></Copy>
					<Set>
						<Headers><Header name="Retry-After">10</Header></Headers>
						<Payload contentType="application/json">{"error":"no route for {user.name}"}</Payload>
						<StatusCode>404</StatusCode><ReasonPhrase>Not Found</ReasonPhrase>
					</Set>
					<Remove><Headers><Header name="Retry-After"/></Headers></Remove>
				</FaultResponse>
				<ShortFaultReason>false</ShortFaultReason>
			</RaiseFault>`,
			wantStatus: 404,
			check: func(t *testing.T, f *Fault, x *exchange.Exchange) {
				r := f.Response
				if r == nil {
					t.Fatal("Response = nil")
				}
				want(t, "status", r.Status, 404)
				want(t, "reason", r.Reason, "Not Found")
				want(t, "X-Trace", r.Header.Get("X-Trace"), "t1")
				want(t, "Retry-After", r.Header.Get("Retry-After"), "")
				want(t, "Content-Type", r.Header.Get("Content-Type"), "application/json")
				want(t, "body", string(r.Body), `{"error":"no route for ada"}`)
				v, _ := x.GetString("flow.err")
				want(t, "flow.err", v, "nf")
				want(t, "request untouched", x.Request().Header.Get("Content-Type"), "application/json")
				if f.Cause != nil {
					t.Errorf("Cause = %v, want nil", f.Cause)
				}
			},
		},
		{
			name:       "FaultResponse without StatusCode is 500",
			xml:        `<RaiseFault name="RF-1"><FaultResponse><Set><Payload contentType="text/plain">oops</Payload></Set></FaultResponse></RaiseFault>`,
			wantStatus: 500,
			check: func(t *testing.T, f *Fault, _ *exchange.Exchange) {
				want(t, "body", string(f.Response.Body), "oops")
				want(t, "status", f.Response.Status, 500)
			},
		},
		{
			name:       "a failing operation becomes the Cause",
			xml:        `<RaiseFault name="RF-1"><FaultResponse><Copy source="nothere"><Headers/></Copy><Set><StatusCode>400</StatusCode></Set></FaultResponse></RaiseFault>`,
			wantStatus: 400,
			check: func(t *testing.T, f *Fault, _ *exchange.Exchange) {
				var cause *Fault
				if !errors.As(f.Cause, &cause) || cause.Code != "steps.raisefault.UnresolvedVariable" {
					t.Errorf("Cause = %v, want steps.raisefault.UnresolvedVariable", f.Cause)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pol := mustBuild(t, tc.xml, nil)
			x := sampleExchange()
			err := execute(t, pol, x)
			var f *Fault
			if !errors.As(err, &f) {
				t.Fatalf("Execute() = %v, want a *Fault", err)
			}
			want(t, "Name", f.Name, "RaiseFault")
			want(t, "Code", f.Code, "steps.raisefault.RaiseFault")
			want(t, "FaultString", f.FaultString, "Raising fault. Fault name : RF-1")
			want(t, "Policy", f.Policy, "RF-1")
			want(t, "Source", f.Source, "policy")
			want(t, "HTTPStatus", f.HTTPStatus(), tc.wantStatus)
			tc.check(t, f, x)
		})
	}
}

func TestRaiseFaultBuildProblems(t *testing.T) {
	tests := []struct {
		name, xml, contains string
		wantNil             bool
	}{
		{"unknown FaultResponse child", `<RaiseFault name="RF"><FaultResponse><Sett/></FaultResponse></RaiseFault>`, "unknown element <Sett> in <FaultResponse>", false},
		{"unknown child", `<RaiseFault name="RF"><Faultresponse/></RaiseFault>`, "unknown element <Faultresponse> in <RaiseFault>", false},
		{"template error", `<RaiseFault name="RF"><FaultResponse><Set><Headers><Header name="h">{a b}</Header></Headers></Set></FaultResponse></RaiseFault>`, "invalid message template", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pol, probs := buildXML(t, tc.xml, nil)
			if (pol == nil) != tc.wantNil {
				t.Errorf("build returned %v, want nil=%v", pol, tc.wantNil)
			}
			if out := probs.String(); !strings.Contains(out, tc.contains) {
				t.Errorf("problems = %q, want one containing %q", out, tc.contains)
			}
		})
	}
}
