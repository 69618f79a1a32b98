package policy

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/conditions"
	"github.com/apigo/apigo/policy/exchange"
	"github.com/apigo/apigo/policy/template"
)

// This file holds what the four cache policies share: <CacheKey>,
// <Scope>, <CacheResource>, <CacheContext> and <ExpirySettings>. Identical
// key and scope settings build identical keys in every cache policy, so a
// PopulateCache entry is found by a LookupCache and removed by an
// InvalidateCache.

// DefaultCacheTimeout is the lifetime of a cache entry whose policy has no
// <ExpirySettings>. [?] Apigee documents no default; 300 s matches the
// KVM read-through cache default.
const DefaultCacheTimeout = 300 * time.Second

// CacheKey is a compiled <CacheKey> with the settings that qualify it.
type CacheKey struct {
	// Prefix is <CacheKey>/<Prefix>; when set it replaces the scope-based
	// prefix, as in Apigee.
	Prefix string
	// Fragments are the <KeyFragment>s in order.
	Fragments []KeyFragment
	// Scope is Global, Application, Proxy, Target or Exclusive (the
	// default).
	Scope string
	// Resource is <CacheResource>, "" for the environment's shared cache.
	Resource string
	// Context is InvalidateCache's <CacheContext>: names that replace the
	// current proxy, proxy endpoint and target endpoint in the scope
	// prefix ("" keeps the current one).
	Context CacheContext
}

// KeyFragment is a literal fragment or a variable reference.
type KeyFragment struct {
	Ref, Literal string
}

// CacheContext is InvalidateCache's <CacheContext>.
type CacheContext struct {
	APIProxyName, ProxyName, TargetName string
}

var cacheScopes = map[string]string{
	"global": "Global", "application": "Application", "proxy": "Proxy", "target": "Target", "exclusive": "Exclusive",
}

// compile reads the key-related children of a cache policy
// element; it returns whether el was one of them.
func (k *CacheKey) compile(bc *BuildContext, p *bundle.Policy, el *etree.Element) bool {
	switch el.Tag {
	case "CacheKey":
		k.compileKey(bc, p, el)
	case "Scope":
		s := strings.TrimSpace(el.Text())
		canon, ok := cacheScopes[strings.ToLower(s)]
		if !ok {
			bc.Problems.Errorf(p.Doc.TextPos(el), "<Scope> %q is not Global, Application, Proxy, Target or Exclusive", s)
			return true
		}
		k.Scope = canon
	case "CacheResource":
		k.Resource = strings.TrimSpace(el.Text())
	default:
		return false
	}
	return true
}

func (k *CacheKey) compileKey(bc *BuildContext, p *bundle.Policy, el *etree.Element) {
	for _, ch := range el.ChildElements() {
		switch ch.Tag {
		case "Prefix":
			k.Prefix = strings.TrimSpace(ch.Text())
		case "KeyFragment":
			f := KeyFragment{Ref: strings.TrimSpace(ch.SelectAttrValue("ref", "")), Literal: strings.TrimSpace(ch.Text())}
			if f.Ref == "" && f.Literal == "" {
				bc.Problems.Warnf(p.Doc.Pos(ch), "empty <KeyFragment> adds an empty fragment to the key")
			}
			k.Fragments = append(k.Fragments, f)
		default:
			bc.Problems.Warnf(p.Doc.Pos(ch), "unknown element <%s> in <CacheKey>, ignored", ch.Tag)
		}
	}
}

// Key is the cache key as Apigee builds it: the prefix (<Prefix>, or the
// scope's names) and each fragment, joined with "__". A fragment whose
// reference is unset contributes "". extra fragments follow (ResponseCache
// UseAcceptHeader).
func (k *CacheKey) Key(x *exchange.Exchange, extra ...string) string {
	var b strings.Builder
	if k.Prefix != "" {
		b.WriteString(k.Prefix)
	} else {
		k.scopePrefix(&b, x)
	}
	for _, f := range k.Fragments {
		b.WriteString("__")
		if f.Ref == "" {
			b.WriteString(f.Literal)
		} else if v, ok := x.Lookup(f.Ref); ok {
			b.WriteString(template.Format(v))
		}
	}
	for _, e := range extra {
		b.WriteString("__")
		b.WriteString(e)
	}
	return b.String()
}

// scopePrefix writes Apigee's scope prefix: org__env for Global, then the
// API proxy, then revision and endpoint names. [?] Exclusive uses the
// proxy endpoint only (Apigee adds the target endpoint, which is not known
// yet in a request flow), so a lookup before routing meets a populate
// after it.
func (k *CacheKey) scopePrefix(b *strings.Builder, x *exchange.Exchange) {
	str := func(name string) string { s, _ := x.GetString(name); return s }
	b.WriteString(str("organization.name"))
	b.WriteString("__")
	b.WriteString(str("environment.name"))
	if k.Scope == "Global" {
		return
	}
	b.WriteString("__")
	b.WriteString(cacheOr(k.Context.APIProxyName, str("apiproxy.name")))
	if k.Scope == "Application" {
		return
	}
	b.WriteString("__")
	b.WriteString(str("apiproxy.revision"))
	b.WriteString("__")
	if k.Scope == "Target" {
		t := cacheOr(k.Context.TargetName, str("target.name"))
		b.WriteString(cacheOr(t, str("route.target")))
		return
	}
	b.WriteString(cacheOr(k.Context.ProxyName, str("proxy.name")))
}

// StoreKey is where an entry with cache key key lives in the store: the
// environment and the cache resource qualify it, since Apigee caches are
// environment resources.
func (k *CacheKey) StoreKey(x *exchange.Exchange, key string) string {
	env, _ := x.GetString("environment.name")
	return "cache/" + env + "/" + cacheOr(k.Resource, "default") + "/" + key
}

// CacheName is the cache's name for the .cachename variables.
func (k *CacheKey) CacheName() string { return cacheOr(k.Resource, "default") }

func cacheOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// ExpirySettings is a compiled <ExpirySettings>: one of a timeout, a date
// or a time of day, each literal or from a variable (ref), the literal
// being the fallback when the variable is unset or invalid.
type ExpirySettings struct {
	Timeout    time.Duration // TimeoutInSeconds / TimeoutInSec
	TimeoutRef string
	Date       string // ExpiryDate, mm-dd-yyyy
	DateRef    string
	TimeOfDay  string // hh:mm:ss (UTC)
	TimeRef    string
	set        bool
}

func compileExpiry(bc *BuildContext, p *bundle.Policy, el *etree.Element) ExpirySettings {
	var e ExpirySettings
	n := 0
	for _, ch := range el.ChildElements() {
		text, ref := strings.TrimSpace(ch.Text()), strings.TrimSpace(ch.SelectAttrValue("ref", ""))
		if text == "" && ref == "" {
			// The Apigee UI writes <ExpiryDate/> and <TimeOfDay/> placeholders.
			if ch.Tag != "TimeoutInSeconds" && ch.Tag != "TimeoutInSec" && ch.Tag != "ExpiryDate" && ch.Tag != "TimeOfDay" {
				bc.Problems.Warnf(p.Doc.Pos(ch), "unknown element <%s> in <ExpirySettings>, ignored", ch.Tag)
			}
			continue
		}
		switch ch.Tag {
		case "TimeoutInSeconds", "TimeoutInSec":
			n++
			e.TimeoutRef = ref
			if text != "" {
				secs, err := strconv.ParseFloat(text, 64)
				if err != nil || secs < 0 {
					bc.Problems.Errorf(p.Doc.TextPos(ch), "<%s> %q is not a number of seconds", ch.Tag, text)
				}
				e.Timeout = time.Duration(secs * float64(time.Second))
			}
		case "ExpiryDate":
			n++
			e.Date, e.DateRef = text, ref
			if _, err := parseExpiryDate(text); text != "" && err != nil {
				bc.Problems.Errorf(p.Doc.TextPos(ch), "<ExpiryDate>: %v", err)
			}
		case "TimeOfDay":
			n++
			e.TimeOfDay, e.TimeRef = text, ref
			if _, err := parseTimeOfDay(text); text != "" && err != nil {
				bc.Problems.Errorf(p.Doc.TextPos(ch), "<TimeOfDay>: %v", err)
			}
		default:
			bc.Problems.Warnf(p.Doc.Pos(ch), "unknown element <%s> in <ExpirySettings>, ignored", ch.Tag)
		}
	}
	if n > 1 {
		bc.Problems.Warnf(p.Doc.Pos(el), "<ExpirySettings> should hold exactly one of TimeoutInSeconds, ExpiryDate, TimeOfDay; the first that yields a time is used")
	}
	e.set = n > 0
	return e
}

// TTL is how long an entry written now lives. Without settings it is
// DefaultCacheTimeout; a date in the past gives a negative TTL (callers
// skip the write).
func (e *ExpirySettings) TTL(x *exchange.Exchange, now time.Time) time.Duration {
	if !e.set {
		return DefaultCacheTimeout
	}
	if d, ok := e.timeout(x); ok {
		return d
	}
	if t, ok := e.date(x); ok {
		return t.Sub(now)
	}
	if tod, ok := e.timeOfDay(x); ok {
		return untilTimeOfDay(now, tod)
	}
	return DefaultCacheTimeout
}

func expiryRefText(x *exchange.Exchange, ref string) (string, bool) {
	if ref == "" {
		return "", false
	}
	v, ok := x.Lookup(ref)
	if !ok {
		return "", false
	}
	return strings.TrimSpace(template.Format(v)), true
}

func (e *ExpirySettings) timeout(x *exchange.Exchange) (time.Duration, bool) {
	if s, ok := expiryRefText(x, e.TimeoutRef); ok {
		if secs, err := strconv.ParseFloat(s, 64); err == nil && secs >= 0 {
			return time.Duration(secs * float64(time.Second)), true
		}
	}
	if e.Timeout > 0 {
		return e.Timeout, true
	}
	return 0, false
}

func (e *ExpirySettings) date(x *exchange.Exchange) (time.Time, bool) {
	if s, ok := expiryRefText(x, e.DateRef); ok {
		if t, err := parseExpiryDate(s); err == nil {
			return t, true
		}
	}
	if e.Date == "" {
		return time.Time{}, false
	}
	t, err := parseExpiryDate(e.Date)
	return t, err == nil
}

func (e *ExpirySettings) timeOfDay(x *exchange.Exchange) (time.Duration, bool) {
	if s, ok := expiryRefText(x, e.TimeRef); ok {
		if d, err := parseTimeOfDay(s); err == nil {
			return d, true
		}
	}
	if e.TimeOfDay == "" {
		return 0, false
	}
	d, err := parseTimeOfDay(e.TimeOfDay)
	return d, err == nil
}

// parseExpiryDate reads mm-dd-yyyy; the entry expires at the start of that
// day, UTC. [?] Apigee does not say which time zone.
func parseExpiryDate(s string) (time.Time, error) {
	t, err := time.Parse("01-02-2006", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date mm-dd-yyyy", s)
	}
	return t, nil
}

// parseTimeOfDay reads hh:mm:ss (24-hour clock) as an offset into the day.
func parseTimeOfDay(s string) (time.Duration, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return 0, fmt.Errorf("%q is not a time hh:mm:ss", s)
	}
	var n [3]int
	limits := [3]int{23, 59, 59}
	for i, part := range parts {
		v, err := strconv.Atoi(part)
		if err != nil || v < 0 || v > limits[i] || len(part) > 2 {
			return 0, fmt.Errorf("%q is not a time hh:mm:ss", s)
		}
		n[i] = v
	}
	return time.Duration(n[0])*time.Hour + time.Duration(n[1])*time.Minute + time.Duration(n[2])*time.Second, nil
}

// untilTimeOfDay is the time from now to the next tod (UTC), a full day
// when now is exactly tod.
func untilTimeOfDay(now time.Time, tod time.Duration) time.Duration {
	now = now.UTC()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	next := day.Add(tod)
	if !next.After(now) {
		next = next.AddDate(0, 0, 1)
	}
	return next.Sub(now)
}

// compileSkipCondition compiles a condition element's text (SkipCacheLookup,
// SkipCachePopulation); a syntax error is reported at its column.
func compileSkipCondition(bc *BuildContext, p *bundle.Policy, el *etree.Element) *conditions.Condition {
	text := strings.TrimSpace(el.Text())
	if text == "" {
		return nil
	}
	c, err := conditions.Compile(text)
	if err != nil {
		pos := p.Doc.TextPos(el)
		var se *conditions.SyntaxError
		if errors.As(err, &se) {
			before := text[:min(se.Offset, len(text))]
			if nl := strings.Count(before, "\n"); nl > 0 {
				pos.Line += nl
				pos.Col = se.Col
			} else {
				pos.Col += se.Offset
			}
			bc.Problems.Errorf(pos, "<%s> condition: %s", el.Tag, se.Msg)
		} else {
			bc.Problems.Errorf(pos, "<%s> condition: %v", el.Tag, err)
		}
		return nil
	}
	return c
}
