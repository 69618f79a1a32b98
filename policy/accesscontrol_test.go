package policy

import (
	"strings"
	"testing"

	"github.com/apigo/apigo/policy/exchange"
)

func TestAccessControl(t *testing.T) {
	const allowList = `<AccessControl name="AC"><IPRules noRuleMatchAction="DENY">
		<MatchRule action="DENY"><SourceAddress mask="32">10.10.20.7</SourceAddress></MatchRule>
		<MatchRule action="ALLOW"><SourceAddress mask="24">10.10.20.0</SourceAddress><SourceAddress mask="48">2001:db8:1::</SourceAddress></MatchRule>
	</IPRules>%s</AccessControl>`
	tests := []struct {
		name, validate, clientIP, xff string
		allow                         bool
	}{
		{"client.ip in an allowed range", "", "10.10.20.9", "", true},
		{"first matching rule decides", "", "10.10.20.7", "", false},
		{"no rule matches", "", "192.168.1.1", "", false},
		{"IPv6 in range", "", "2001:db8:1:ff::5", "", true},
		{"IPv6 out of range", "", "2001:db8:2::5", "", false},
		{"IPv4-mapped IPv6", "", "::ffff:10.10.20.3", "", true},
		{"X-Forwarded-For ignored by default", "", "10.10.20.9", "1.2.3.4", true},
		{"all XFF addresses must pass", "X_FORWARDED_FOR_ALL_IP", "10.10.20.9", "10.10.20.1, 1.2.3.4", false},
		{"all XFF addresses pass", "X_FORWARDED_FOR_ALL_IP", "1.1.1.1", "10.10.20.1, 10.10.20.2", true},
		{"first XFF address", "X_FORWARDED_FOR_FIRST_IP", "1.1.1.1", "10.10.20.1, 1.2.3.4", true},
		{"last XFF address", "X_FORWARDED_FOR_LAST_IP", "1.1.1.1", "10.10.20.1, 1.2.3.4", false},
		{"XFF with a port", "X_FORWARDED_FOR_LAST_IP", "1.1.1.1", "1.2.3.4, 10.10.20.1:8080", true},
		{"no XFF falls back to client.ip", "X_FORWARDED_FOR_ALL_IP", "10.10.20.4", "", true},
		{"garbage address matches nothing", "X_FORWARDED_FOR_FIRST_IP", "10.10.20.4", "not-an-ip", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := ""
			if tt.validate != "" {
				v = "<ValidateBasedOn>" + tt.validate + "</ValidateBasedOn>"
			}
			pol := mustBuild(t, strings.Replace(allowList, "%s", v, 1), nil)
			x := exchange.New()
			x.SetSystem("client.ip", tt.clientIP)
			if tt.xff != "" {
				x.Request().Header.Set("X-Forwarded-For", tt.xff)
			}
			err := execute(t, pol, x)
			if tt.allow {
				checkFault(t, err, "", 0)
				return
			}
			checkFault(t, err, "accesscontrol.IPDeniedAccess", 403)
			if err != nil && !strings.HasPrefix(err.(*Fault).FaultString, "Access Denied for client ip : ") {
				t.Errorf("faultstring = %q", err.(*Fault).FaultString)
			}
		})
	}
}

func TestAccessControlTemplates(t *testing.T) {
	pol := mustBuild(t, `<AccessControl name="AC"><IPRules noRuleMatchAction="ALLOW">
		<MatchRule action="DENY"><SourceAddress mask="{blocked.mask}">{blocked.ip}</SourceAddress></MatchRule>
	</IPRules></AccessControl>`, nil)
	tests := []struct {
		ip, mask, client string
		allow            bool
	}{
		{"192.0.2.0", "24", "192.0.2.200", false},
		{"192.0.2.0", "25", "192.0.2.200", true},
		{"bogus", "24", "192.0.2.200", true}, // an unparsable rendering never matches
		{"192.0.2.0", "", "192.0.2.0", false},
	}
	for _, tt := range tests {
		x := exchange.New()
		x.Set("blocked.ip", tt.ip)
		x.Set("blocked.mask", tt.mask)
		x.SetSystem("client.ip", tt.client)
		err := execute(t, pol, x)
		if (err == nil) != tt.allow {
			t.Errorf("Execute(%s/%s, client %s) = %v, want allowed %v", tt.ip, tt.mask, tt.client, err, tt.allow)
		}
	}
}

func TestAccessControlBuildProblems(t *testing.T) {
	tests := []struct{ xml, want string }{
		{`<AccessControl name="AC"><IPRules><MatchRule action="ALLOW"><SourceAddress>10.1.2</SourceAddress></MatchRule></IPRules></AccessControl>`, "not an IPv4 or IPv6 address"},
		{`<AccessControl name="AC"><IPRules><MatchRule action="ALLOW"><SourceAddress mask="33">10.1.2.3</SourceAddress></MatchRule></IPRules></AccessControl>`, "mask \"33\""},
		{`<AccessControl name="AC"><IPRules><MatchRule action="MAYBE"><SourceAddress>10.1.2.3</SourceAddress></MatchRule></IPRules></AccessControl>`, "not ALLOW or DENY"},
		{`<AccessControl name="AC"><IPRules noRuleMatchAction="NOPE"/></AccessControl>`, "noRuleMatchAction"},
		{`<AccessControl name="AC"><ValidateBasedOn>X_REAL_IP</ValidateBasedOn></AccessControl>`, "X_REAL_IP"},
	}
	for _, tt := range tests {
		pol, ps := buildXML(t, tt.xml, nil)
		if pol != nil || !strings.Contains(ps.String(), tt.want) {
			t.Errorf("build(%s) = %v, problems %q, want nil and %q", tt.xml, pol, ps.String(), tt.want)
		}
	}
}
