package policy

import (
	"context"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/beevik/etree"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
	"github.com/apigo/apigo/policy/template"
)

func init() { Register("AccessControl", "accesscontrol", buildAccessControl) }

// AccessControl is a built <AccessControl> policy: IP rules evaluated in
// order, the first matching MatchRule deciding, NoRuleMatchAction when
// none matches. A denied address fails with 403 accesscontrol.IPDeniedAccess.
type AccessControl struct {
	Name string
	// NoRuleMatchAction is noRuleMatchAction: true to allow (the default).
	NoRuleMatchAllow bool
	Rules            []IPRule
	// ValidateBasedOn is "" (check client.ip), X_FORWARDED_FOR_ALL_IP,
	// X_FORWARDED_FOR_FIRST_IP or X_FORWARDED_FOR_LAST_IP (check the
	// X-Forwarded-For addresses; client.ip when the header is absent).
	ValidateBasedOn string
}

// IPRule is one <MatchRule action>: its addresses, any of which matches.
type IPRule struct {
	Allow     bool
	Addresses []SourceAddress
}

// SourceAddress is an address with its mask. A literal one is parsed at
// build; one written as a message template is rendered and parsed per
// request (an unparsable rendering never matches).
type SourceAddress struct {
	Prefix netip.Prefix // literal address, masked
	addr   *template.Template
	mask   *template.Template // nil: literal mask in Prefix, or the full width
}

var validateBasedOn = map[string]bool{
	"X_FORWARDED_FOR_ALL_IP": true, "X_FORWARDED_FOR_FIRST_IP": true, "X_FORWARDED_FOR_LAST_IP": true,
}

func buildAccessControl(bc *BuildContext, p *bundle.Policy) Policy {
	before := countErrors(bc.Problems)
	ac := &AccessControl{Name: p.Name, NoRuleMatchAllow: true}
	for _, el := range p.Element.ChildElements() {
		switch el.Tag {
		case "IPRules":
			ac.ipRules(bc, p, el)
		case "ValidateBasedOn":
			v := strings.ToUpper(strings.TrimSpace(el.Text()))
			if !validateBasedOn[v] {
				bc.Problems.Errorf(p.Doc.Pos(el), "<ValidateBasedOn> %q is not X_FORWARDED_FOR_ALL_IP, X_FORWARDED_FOR_FIRST_IP or X_FORWARDED_FOR_LAST_IP", strings.TrimSpace(el.Text()))
			}
			ac.ValidateBasedOn = v
		case "DisplayName", "Description", "Properties", "FaultRules":
		default:
			bc.Problems.Warnf(p.Doc.Pos(el), "unknown element <%s> in <AccessControl>, ignored", el.Tag)
		}
	}
	if countErrors(bc.Problems) > before {
		return nil
	}
	return ac
}

func (ac *AccessControl) ipRules(bc *BuildContext, p *bundle.Policy, el *etree.Element) {
	if a := el.SelectAttr("noRuleMatchAction"); a != nil {
		allow, ok := parseAction(a.Value)
		if !ok {
			bc.Problems.Errorf(p.Doc.Pos(el), "<IPRules> noRuleMatchAction=%q is not ALLOW or DENY", a.Value)
		}
		ac.NoRuleMatchAllow = allow
	}
	for _, mr := range el.ChildElements() {
		if mr.Tag != "MatchRule" {
			bc.Problems.Warnf(p.Doc.Pos(mr), "unknown element <%s> in <IPRules>, ignored", mr.Tag)
			continue
		}
		allow, ok := parseAction(mr.SelectAttrValue("action", ""))
		if !ok {
			bc.Problems.Errorf(p.Doc.Pos(mr), "<MatchRule> action=%q is not ALLOW or DENY", mr.SelectAttrValue("action", ""))
		}
		rule := IPRule{Allow: allow}
		for _, sa := range mr.ChildElements() {
			if sa.Tag != "SourceAddress" {
				bc.Problems.Warnf(p.Doc.Pos(sa), "unknown element <%s> in <MatchRule>, ignored", sa.Tag)
				continue
			}
			if a, ok := compileSourceAddress(bc, p, sa); ok {
				rule.Addresses = append(rule.Addresses, a)
			}
		}
		ac.Rules = append(ac.Rules, rule)
	}
}

func parseAction(s string) (allow, ok bool) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "ALLOW":
		return true, true
	case "DENY":
		return false, true
	}
	return false, false
}

func compileSourceAddress(bc *BuildContext, p *bundle.Policy, el *etree.Element) (SourceAddress, bool) {
	var sa SourceAddress
	text := strings.TrimSpace(el.Text())
	maskText := strings.TrimSpace(el.SelectAttrValue("mask", ""))
	addrT, err := template.Parse(text)
	if err != nil {
		bc.Problems.Errorf(p.Doc.TextPos(el), "<SourceAddress>: invalid message template: %v", err)
		return sa, false
	}
	maskT, err := template.Parse(maskText)
	if err != nil {
		bc.Problems.Errorf(p.Doc.Pos(el), "<SourceAddress> mask: invalid message template: %v", err)
		return sa, false
	}
	if !addrT.IsLiteral() || !maskT.IsLiteral() {
		sa.addr, sa.mask = addrT, maskT
		return sa, true
	}
	prefix, msg := parsePrefix(text, maskText)
	if msg != "" {
		bc.Problems.Errorf(p.Doc.Pos(el), "<SourceAddress> %s", msg)
		return sa, false
	}
	sa.Prefix = prefix
	return sa, true
}

// parsePrefix parses an address and its mask (empty: the full width);
// msg explains a failure.
func parsePrefix(addr, mask string) (netip.Prefix, string) {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return netip.Prefix{}, strconv.Quote(addr) + " is not an IPv4 or IPv6 address"
	}
	a = a.Unmap()
	bits := a.BitLen()
	if mask != "" {
		n, err := strconv.Atoi(mask)
		if err != nil || n < 0 || n > a.BitLen() {
			return netip.Prefix{}, "mask " + strconv.Quote(mask) + " is not a number from 0 to " + strconv.Itoa(a.BitLen())
		}
		bits = n
	}
	pfx, err := a.Prefix(bits)
	if err != nil {
		return netip.Prefix{}, err.Error()
	}
	return pfx, ""
}

// prefix returns the address's prefix for this request.
func (sa *SourceAddress) prefix(x *exchange.Exchange) (netip.Prefix, bool) {
	if sa.addr == nil {
		return sa.Prefix, true
	}
	p, msg := parsePrefix(strings.TrimSpace(sa.addr.Render(x)), strings.TrimSpace(sa.mask.Render(x)))
	return p, msg == ""
}

// Execute checks every address the policy validates; any denied address
// denies the request.
func (ac *AccessControl) Execute(_ context.Context, x *exchange.Exchange) error {
	for _, s := range ac.addresses(x) {
		if !ac.allowed(x, s) {
			return &Fault{
				Name: "IPDeniedAccess", Code: "accesscontrol.IPDeniedAccess",
				FaultString: "Access Denied for client ip : " + s, Status: http.StatusForbidden,
				Source: "policy", Policy: ac.Name,
			}
		}
	}
	return nil
}

// addresses lists the addresses to validate, as text.
func (ac *AccessControl) addresses(x *exchange.Exchange) []string {
	clientIP, _ := x.GetString("client.ip")
	if ac.ValidateBasedOn == "" {
		return []string{clientIP}
	}
	var xff []string
	for _, line := range x.Request().Header.Values("X-Forwarded-For") {
		for _, s := range strings.Split(line, ",") {
			if s = strings.TrimSpace(s); s != "" {
				xff = append(xff, s)
			}
		}
	}
	switch {
	case len(xff) == 0:
		return []string{clientIP}
	case ac.ValidateBasedOn == "X_FORWARDED_FOR_FIRST_IP":
		return xff[:1]
	case ac.ValidateBasedOn == "X_FORWARDED_FOR_LAST_IP":
		return xff[len(xff)-1:]
	}
	return xff
}

// allowed applies the rules to one address. An address that does not
// parse matches no rule.
func (ac *AccessControl) allowed(x *exchange.Exchange, s string) bool {
	addr, err := netip.ParseAddr(stripPort(s))
	if err != nil {
		return ac.NoRuleMatchAllow
	}
	addr = addr.Unmap().WithZone("")
	for i := range ac.Rules {
		r := &ac.Rules[i]
		for j := range r.Addresses {
			if p, ok := r.Addresses[j].prefix(x); ok && p.Contains(addr) {
				return r.Allow
			}
		}
	}
	return ac.NoRuleMatchAllow
}

// stripPort removes a port from "1.2.3.4:80" or "[::1]:80", forms some
// proxies write into X-Forwarded-For.
func stripPort(s string) string {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().String()
	}
	return strings.Trim(s, "[]")
}
