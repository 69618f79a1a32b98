package policy

import (
	"errors"
	"testing"

	"github.com/apigo/apigo/policy/exchange"
)

const corsXML = `<CORS name="CORS-1">
	<AllowOrigins>https://app.example.com, {allowed.origin}</AllowOrigins>
	<AllowMethods>GET, POST</AllowMethods>
	<AllowHeaders>content-type, x-api-key</AllowHeaders>
	<ExposeHeaders>X-Total, X-Page</ExposeHeaders>
	<MaxAge>600</MaxAge>
	<AllowCredentials>true</AllowCredentials>
	<GeneratePreflightResponse>true</GeneratePreflightResponse>
	<IgnoreUnresolvedVariables>true</IgnoreUnresolvedVariables>
</CORS>`

func corsExchange(verb, origin string, hdr ...string) *exchange.Exchange {
	x := exchange.New()
	x.SetResponse(exchange.NewResponse())
	r := x.Request()
	r.Verb = verb
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	x.Set("allowed.origin", "https://other.example.com")
	return x
}

func TestCORSPreflight(t *testing.T) {
	pol := mustBuild(t, corsXML, nil)
	tests := []struct {
		name, origin, method, headers string
		wantOrigin                    string // "" no CORS headers
	}{
		{"allowed", "https://app.example.com", "POST", "Content-Type, X-API-Key", "https://app.example.com"},
		{"origin from a template", "https://other.example.com", "GET", "", "https://other.example.com"},
		{"method not allowed", "https://app.example.com", "DELETE", "", ""},
		{"header not allowed", "https://app.example.com", "POST", "x-secret", ""},
		{"origin not allowed", "https://evil.example.com", "POST", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := corsExchange("OPTIONS", tt.origin, "Access-Control-Request-Method", tt.method, "Access-Control-Request-Headers", tt.headers)
			if err := execute(t, pol, x); !errors.Is(err, ErrResponseReady) {
				t.Fatalf("Execute = %v, want ErrResponseReady", err)
			}
			h := x.Response().Header
			want(t, "status", x.Response().Status, 200)
			want(t, "Access-Control-Allow-Origin", h.Get("Access-Control-Allow-Origin"), tt.wantOrigin)
			if tt.wantOrigin == "" {
				return
			}
			want(t, "Access-Control-Allow-Methods", h.Get("Access-Control-Allow-Methods"), "GET, POST")
			want(t, "Access-Control-Allow-Headers", h.Get("Access-Control-Allow-Headers"), "content-type, x-api-key")
			want(t, "Access-Control-Max-Age", h.Get("Access-Control-Max-Age"), "600")
			want(t, "Access-Control-Allow-Credentials", h.Get("Access-Control-Allow-Credentials"), "true")
			want(t, "Vary", h.Get("Vary"), "Origin")
			if v, _ := x.Lookup(CORSPreflightVar); v != true {
				t.Errorf("%s = %v, want true", CORSPreflightVar, v)
			}
		})
	}
}

func TestCORSActualRequest(t *testing.T) {
	pol := mustBuild(t, corsXML, nil)
	x := corsExchange("GET", "https://app.example.com")
	if err := execute(t, pol, x); err != nil {
		t.Fatalf("Execute = %v", err)
	}
	if v, _ := x.Lookup(CORSPreflightVar); v != false {
		t.Errorf("%s = %v, want false", CORSPreflightVar, v)
	}
	// The target's response replaces the placeholder; the engine then
	// applies what the policy recorded.
	final := exchange.NewResponse()
	final.Header.Set("Vary", "Accept-Encoding")
	ApplyCORSHeaders(x, final)
	want(t, "Access-Control-Allow-Origin", final.Header.Get("Access-Control-Allow-Origin"), "https://app.example.com")
	want(t, "Access-Control-Expose-Headers", final.Header.Get("Access-Control-Expose-Headers"), "X-Total, X-Page")
	want(t, "Access-Control-Allow-Credentials", final.Header.Get("Access-Control-Allow-Credentials"), "true")
	want(t, "Vary", final.Header.Values("Vary")[1], "Origin")
	want(t, "no Max-Age on an actual response", final.Header.Get("Access-Control-Max-Age"), "")

	for _, origin := range []string{"", "https://evil.example.com"} {
		x := corsExchange("GET", origin)
		if err := execute(t, pol, x); err != nil {
			t.Fatalf("Execute(%q) = %v", origin, err)
		}
		final := exchange.NewResponse()
		ApplyCORSHeaders(x, final)
		if len(final.Header) != 0 {
			t.Errorf("Origin %q: headers %v, want none", origin, final.Header)
		}
	}
}

func TestCORSStarAndResponseFlow(t *testing.T) {
	pol := mustBuild(t, `<CORS name="C"><AllowOrigins>*</AllowOrigins><MaxAge>-1</MaxAge></CORS>`, nil)
	x := corsExchange("OPTIONS", "https://a.example", "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "accept")
	if err := execute(t, pol, x); !errors.Is(err, ErrResponseReady) {
		t.Fatalf("Execute = %v, want ErrResponseReady", err)
	}
	h := x.Response().Header
	want(t, "Access-Control-Allow-Origin", h.Get("Access-Control-Allow-Origin"), "*")
	want(t, "Vary", h.Get("Vary"), "")
	want(t, "Access-Control-Max-Age", h.Get("Access-Control-Max-Age"), "")
	want(t, "default methods", h.Get("Access-Control-Allow-Methods"), "GET, PUT, POST, DELETE")

	x = corsExchange("GET", "https://a.example")
	x.SetCurrent("response")
	if err := execute(t, pol, x); err != nil {
		t.Fatal(err)
	}
	want(t, "response flow sets headers at once", x.Response().Header.Get("Access-Control-Allow-Origin"), "*")
}

func TestCORSUnresolvedAndNoPreflight(t *testing.T) {
	pol := mustBuild(t, `<CORS name="C"><AllowOrigins>{request.header.x-allowed}</AllowOrigins></CORS>`, nil)
	checkFault(t, execute(t, pol, corsExchange("GET", "https://a.example")), "steps.cors.UnresolvedVariable", 500)
	if err := execute(t, pol, corsExchange("GET", "")); err != nil {
		t.Errorf("Execute without Origin = %v, want nil (the template is not evaluated)", err)
	}
	pol = mustBuild(t, `<CORS name="C"><AllowOrigins>*</AllowOrigins><GeneratePreflightResponse>false</GeneratePreflightResponse></CORS>`, nil)
	if err := execute(t, pol, corsExchange("OPTIONS", "https://a.example", "Access-Control-Request-Method", "GET")); err != nil {
		t.Errorf("Execute preflight without GeneratePreflightResponse = %v, want nil", err)
	}
	if _, ps := buildXML(t, `<CORS name="C"><MaxAge>soon</MaxAge></CORS>`, nil); !ps.HasErrors() {
		t.Errorf("bad MaxAge and no AllowOrigins: no build error")
	}
}
