package policy

import (
	"errors"
	"strings"
	"testing"

	"github.com/apigo/apigo/policy/exchange"
)

func TestBasicAuthenticationEncode(t *testing.T) {
	tests := []struct {
		name, xml string
		preset    string // value of request.header.Authorization before, "" none
		want      string
		wantFault string
	}{
		{"encode", `<BasicAuthentication name="BA"><Operation>Encode</Operation><User ref="u"/><Password ref="pw"/>
			<AssignTo createNew="true">request.header.Authorization</AssignTo></BasicAuthentication>`,
			"", "Basic YWRhOnM6M2NyZXQ=", ""},
		{"createNew false keeps a set variable", `<BasicAuthentication name="BA"><Operation>Encode</Operation><User ref="u"/><Password ref="pw"/>
			<AssignTo createNew="false">request.header.Authorization</AssignTo></BasicAuthentication>`,
			"Bearer x", "Bearer x", ""},
		{"createNew true overwrites", `<BasicAuthentication name="BA"><Operation>Encode</Operation><User ref="u"/><Password ref="pw"/>
			<AssignTo createNew="true">request.header.Authorization</AssignTo></BasicAuthentication>`,
			"Bearer x", "Basic YWRhOnM6M2NyZXQ=", ""},
		{"unresolved user", `<BasicAuthentication name="BA"><Operation>Encode</Operation><User ref="nobody"/><Password ref="pw"/>
			<AssignTo>request.header.Authorization</AssignTo></BasicAuthentication>`,
			"", "", "steps.basicauthentication.UnresolvedVariable"},
		{"unresolved ignored", `<BasicAuthentication name="BA"><Operation>Encode</Operation><IgnoreUnresolvedVariables>true</IgnoreUnresolvedVariables>
			<User ref="nobody"/><Password ref="pw"/><AssignTo>request.header.Authorization</AssignTo></BasicAuthentication>`,
			"", "Basic OnM6M2NyZXQ=", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pol := mustBuild(t, tt.xml, nil)
			x := exchange.New()
			x.Set("u", "ada")
			x.Set("pw", "s:3cret")
			if tt.preset != "" {
				x.Request().Header.Set("Authorization", tt.preset)
			}
			err := execute(t, pol, x)
			if checkFault(t, err, tt.wantFault, 500) {
				return
			}
			if got := x.Request().Header.Get("Authorization"); got != tt.want {
				t.Errorf("Authorization = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBasicAuthenticationDecode(t *testing.T) {
	const xml = `<BasicAuthentication name="BA"><Operation>Decode</Operation><User ref="ba.user"/><Password ref="ba.pass"/>
		<Source>request.header.Authorization</Source></BasicAuthentication>`
	tests := []struct {
		header, user, pass, wantFault string
	}{
		{"Basic YWRhOnM6M2NyZXQ=", "ada", "s:3cret", ""},
		{"basic   YWRhOg==", "ada", "", ""},
		{"", "", "", "steps.basicauthentication.UnresolvedVariable"},
		{"Bearer YWRhOg==", "", "", "steps.basicauthentication.InvalidBasicAuthenticationSource"},
		{"Basic !!!", "", "", "steps.basicauthentication.InvalidBasicAuthenticationSource"},
		{"Basic YWRh", "", "", "steps.basicauthentication.InvalidBasicAuthenticationSource"}, // "ada": no colon
	}
	pol := mustBuild(t, xml, nil)
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			x := exchange.New()
			if tt.header != "" {
				x.Request().Header.Set("Authorization", tt.header)
			}
			err := execute(t, pol, x)
			if checkFault(t, err, tt.wantFault, 500) {
				return
			}
			u, _ := x.GetString("ba.user")
			p, _ := x.GetString("ba.pass")
			if u != tt.user || p != tt.pass {
				t.Errorf("Decode(%q) = %q, %q, want %q, %q", tt.header, u, p, tt.user, tt.pass)
			}
		})
	}
}

func TestBasicAuthenticationBuildProblems(t *testing.T) {
	tests := []struct{ xml, want string }{
		{`<BasicAuthentication name="BA"><User ref="u"/><Password ref="p"/></BasicAuthentication>`, "InvalidOperation"},
		{`<BasicAuthentication name="BA"><Operation>Hash</Operation></BasicAuthentication>`, "InvalidOperation"},
		{`<BasicAuthentication name="BA"><Operation>Decode</Operation><Password ref="p"/><Source>s</Source></BasicAuthentication>`, "UserNameRequired"},
		{`<BasicAuthentication name="BA"><Operation>Decode</Operation><User ref="u"/><Password ref="p"/></BasicAuthentication>`, "no <Source>"},
		{`<BasicAuthentication name="BA"><Operation>Encode</Operation><User ref="u"/><Password ref="p"/></BasicAuthentication>`, "no <AssignTo>"},
	}
	for _, tt := range tests {
		pol, ps := buildXML(t, tt.xml, nil)
		if pol != nil || !strings.Contains(ps.String(), tt.want) {
			t.Errorf("build(%s) = %v, problems %q, want nil and %q", tt.xml, pol, ps.String(), tt.want)
		}
	}
}

// checkFault checks err against a wanted fault code ("" for none) and
// status; it reports whether a fault was expected.
func checkFault(t *testing.T, err error, code string, status int) bool {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("Execute = %v, want no error", err)
		}
		return false
	}
	var f *Fault
	if !errors.As(err, &f) {
		t.Fatalf("Execute = %v, want fault %s", err, code)
	}
	if f.Code != code || f.HTTPStatus() != status || !strings.HasSuffix(code, "."+f.Name) {
		t.Errorf("fault = %s %s %d, want %s %d", f.Name, f.Code, f.HTTPStatus(), code, status)
	}
	return true
}
