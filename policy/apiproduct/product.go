package apiproduct

import (
	"crypto/subtle"
	"errors"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/apigo/apigo/bundle"
)

// Product is an API product with its resource patterns compiled.
type Product struct {
	Name, DisplayName, ApprovalType string
	Attributes                      []bundle.Attribute
	Scopes                          []string
	Environments, Proxies           []string
	// Quota is the product's quota, "" fields when absent.
	Quota      Quota
	resources  []pattern
	operations []operationConfig // nil without an operationGroup
	hasOps     bool
}

// Quota is a product's (or an operation config's) quota settings as
// written: Quota's UseQuotaConfigInAPIProduct reads them.
type Quota struct {
	Limit, Interval, TimeUnit string
}

type operationConfig struct {
	apiSource  string
	operations []operation
	quota      *Quota
	attributes []bundle.Attribute
}

type operation struct {
	resource pattern
	methods  []string // upper case; empty = all
}

func newProduct(p *bundle.Product) *Product {
	out := &Product{Name: p.Name, DisplayName: p.DisplayName, ApprovalType: p.ApprovalType,
		Attributes: p.Attributes, Scopes: p.Scopes, Environments: p.Environments, Proxies: p.Proxies,
		Quota: Quota{p.Quota, p.QuotaInterval, p.QuotaTimeUnit}}
	for _, r := range p.APIResources {
		out.resources = append(out.resources, compilePattern(r))
	}
	if g := p.OperationGroup; g != nil && len(g.OperationConfigs) > 0 {
		out.hasOps = true
		for _, c := range g.OperationConfigs {
			oc := operationConfig{apiSource: c.APISource, attributes: c.Attributes}
			if c.Quota != nil {
				oc.quota = &Quota{c.Quota.Limit, c.Quota.Interval, c.Quota.TimeUnit}
			}
			for _, op := range c.Operations {
				o := operation{resource: compilePattern(op.Resource)}
				for _, m := range op.Methods {
					o.methods = append(o.methods, strings.ToUpper(m))
				}
				oc.operations = append(oc.operations, o)
			}
			out.operations = append(out.operations, oc)
		}
	}
	return out
}

// Call is what a key or token is used for.
type Call struct {
	Env        string // environment.name
	Proxy      string // apiproxy.name
	PathSuffix string // proxy.pathsuffix ("" at the base path)
	Verb       string // request.verb
}

// Match is the product that allows a call, with the quota and attributes
// that apply: an operation config's own quota and attributes win over the
// product's.
type Match struct {
	Product    *Product
	Quota      Quota
	Attributes []bundle.Attribute
}

// Allows reports whether the product covers call. Empty environments,
// proxies or apiResources allow all. With an operationGroup (Apigee X),
// the call must match an operation config whose apiSource is the proxy, one
// of its resources and one of its methods (none listed = all); proxies and
// apiResources are then not consulted.
func (p *Product) Allows(call Call) (Match, bool) {
	if len(p.Environments) > 0 && !slices.Contains(p.Environments, call.Env) {
		return Match{}, false
	}
	if p.hasOps {
		return p.allowsOperation(call)
	}
	if len(p.Proxies) > 0 && !slices.Contains(p.Proxies, call.Proxy) {
		return Match{}, false
	}
	if len(p.resources) > 0 && !slices.ContainsFunc(p.resources, func(r pattern) bool { return r.match(call.PathSuffix) }) {
		return Match{}, false
	}
	return Match{Product: p, Quota: p.Quota, Attributes: p.Attributes}, true
}

func (p *Product) allowsOperation(call Call) (Match, bool) {
	for _, oc := range p.operations {
		if oc.apiSource != call.Proxy {
			continue
		}
		for _, op := range oc.operations {
			if !op.resource.match(call.PathSuffix) {
				continue
			}
			if len(op.methods) > 0 && !slices.Contains(op.methods, strings.ToUpper(call.Verb)) {
				continue
			}
			m := Match{Product: p, Quota: p.Quota, Attributes: p.Attributes}
			if oc.quota != nil {
				m.Quota = *oc.quota
			}
			if len(oc.attributes) > 0 {
				m.Attributes = oc.attributes
			}
			return m, true
		}
	}
	return Match{}, false
}

// pattern is a compiled apiResources entry. "/" and "/**" cover every
// path, the base path included [?]; a trailing "/**" covers every path
// below its prefix at any depth, "/*" exactly one segment below; "*" inside
// a segment is a glob over that segment; any other path matches itself,
// with or without a trailing slash.
type pattern struct {
	segs []string // split on "/", without the leading empty segment
	all  bool
}

func compilePattern(s string) pattern {
	s = strings.TrimSpace(s)
	if s == "" || s == "/" || s == "/**" {
		return pattern{all: true}
	}
	return pattern{segs: strings.Split(strings.Trim(s, "/"), "/")}
}

func (p pattern) match(suffix string) bool {
	if p.all {
		return true
	}
	return matchSegs(p.segs, strings.Split(strings.Trim(suffix, "/"), "/"))
}

func matchSegs(pat, segs []string) bool {
	if len(segs) == 1 && segs[0] == "" {
		segs = nil
	}
	for i, ps := range pat {
		if ps == "**" {
			rest := pat[i+1:]
			// "**" takes at least one segment.
			for j := i + 1; j <= len(segs); j++ {
				if matchSegs(rest, segs[j:]) {
					return true
				}
			}
			return false
		}
		if i >= len(segs) {
			return false
		}
		if ok, _ := path.Match(ps, segs[i]); !ok && ps != segs[i] {
			return false
		}
	}
	return len(segs) == len(pat)
}

// Errors of Check, in the order Apigee checks.
var (
	ErrAppNotApproved    = errors.New("app or credential not approved")
	ErrDeveloperInactive = errors.New("developer not active")
	ErrKeyExpired        = errors.New("consumer key expired")
	ErrNoProductForCall  = errors.New("no approved product covers the call")
	ErrUnknownKey        = errors.New("unknown consumer key")
	ErrWrongSecret       = errors.New("consumer secret does not match")
)

// Check reports whether the credential may be used at now: the
// credential and its app approved, the developer active, the credential
// not expired.
func (c *Credential) Check(now time.Time) error {
	if !strings.EqualFold(c.Status, "approved") || !strings.EqualFold(c.App.Status, "approved") {
		return ErrAppNotApproved
	}
	if !strings.EqualFold(c.App.Developer.Status, "active") {
		return ErrDeveloperInactive
	}
	if c.ExpiresAt > 0 && now.UnixMilli() >= c.ExpiresAt {
		return ErrKeyExpired
	}
	return nil
}

// Match returns the first approved product of the credential, in the
// credential's order, that allows call.
func (c *Credential) Match(call Call) (Match, bool) {
	return MatchProducts(c.ApprovedProducts(), call)
}

// ApprovedProducts lists the credential's products whose approval is
// "approved" (and which the data defines), in order.
func (c *Credential) ApprovedProducts() []*Product {
	var out []*Product
	for _, a := range c.Products {
		if a.Product != nil && strings.EqualFold(a.Status, "approved") {
			out = append(out, a.Product)
		}
	}
	return out
}

// MatchProducts returns the first product of ps that allows call.
func MatchProducts(ps []*Product, call Call) (Match, bool) {
	for _, p := range ps {
		if m, ok := p.Allows(call); ok {
			return m, true
		}
	}
	return Match{}, false
}

// Authenticate returns the credential of key, with ErrUnknownKey when
// there is none and ErrWrongSecret (and the credential) when secret is not
// its secret.
func (r *Registry) Authenticate(key, secret string) (*Credential, error) {
	c, ok := r.byKey[key]
	if !ok {
		return nil, ErrUnknownKey
	}
	if subtle.ConstantTimeCompare([]byte(c.ConsumerSecret), []byte(secret)) != 1 {
		return c, ErrWrongSecret
	}
	return c, nil
}
