package policy

import (
	"bytes"
	"context"
	"encoding/binary"
	"log"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/conditions"
	"github.com/apigo/apigo/policy/exchange"
	"github.com/apigo/apigo/store"
)

func init() { Register("ResponseCache", "responsecache", buildResponseCache) }

// ResponseCache is a built <ResponseCache> policy. The same policy is
// attached twice: in a request segment it looks the response up (a hit
// becomes the response and the policy returns ErrResponseReady, so the
// engine skips the target); in a response segment it stores the response
// (unless this exchange's lookup was a hit).
//
// It sets responsecache.<name>.cachehit, .cachekey, .cachename and
// .invalidentry (an entry that could not be decoded, treated as a miss).
// [?] A store that cannot be reached is a miss on lookup and no write on
// populate, logged: the cache is an optimisation and never fails the
// request.
type ResponseCache struct {
	Name   string
	Key    CacheKey
	Expiry ExpirySettings
	// SkipLookup and SkipPopulation are the <SkipCacheLookup> and
	// <SkipCachePopulation> conditions; nil never skips.
	SkipLookup, SkipPopulation *conditions.Condition
	// ExcludeErrorResponse caches only 2xx responses. Default false: every
	// status is cached, as in Apigee.
	ExcludeErrorResponse bool
	// UseAcceptHeader appends the request's Accept, Accept-Encoding,
	// Accept-Language and Accept-Charset values to the key.
	UseAcceptHeader bool
	// UseResponseCacheHeaders takes the lifetime from the target
	// response's Cache-Control (s-maxage, max-age) or Expires, and does not
	// store a response marked no-store or private.
	UseResponseCacheHeaders bool

	store store.Store
	now   func() time.Time
	vars  [4]string // cachehit, cachekey, cachename, invalidentry
}

func buildResponseCache(bc *BuildContext, p *bundle.Policy) Policy {
	before := countErrors(bc.Problems)
	rc := &ResponseCache{Name: p.Name, Key: CacheKey{Scope: "Exclusive"}, store: bc.Store, now: bc.Now}
	for _, el := range p.Element.ChildElements() {
		rc.child(bc, p, el)
	}
	pre := "responsecache." + p.Name + "."
	rc.vars = [4]string{pre + "cachehit", pre + "cachekey", pre + "cachename", pre + "invalidentry"}
	if bc.Store == nil {
		bc.Problems.Errorf(p.Doc.Pos(p.Element), "<ResponseCache> %q: no store to cache in", p.Name)
	}
	if countErrors(bc.Problems) > before {
		return nil
	}
	return rc
}

func (rc *ResponseCache) child(bc *BuildContext, p *bundle.Policy, el *etree.Element) {
	if rc.Key.compile(bc, p, el) {
		return
	}
	switch el.Tag {
	case "ExpirySettings":
		rc.Expiry = compileExpiry(bc, p, el)
	case "SkipCacheLookup":
		rc.SkipLookup = compileSkipCondition(bc, p, el)
	case "SkipCachePopulation":
		rc.SkipPopulation = compileSkipCondition(bc, p, el)
	case "ExcludeErrorResponse":
		rc.ExcludeErrorResponse = boolText(bc, p.Doc, el)
	case "UseAcceptHeader":
		rc.UseAcceptHeader = boolText(bc, p.Doc, el)
	case "UseResponseCacheHeaders":
		rc.UseResponseCacheHeaders = boolText(bc, p.Doc, el)
	case "DisplayName", "Description", "Properties", "FaultRules":
	default:
		bc.Problems.Warnf(p.Doc.Pos(el), "unknown element <%s> in <ResponseCache>, ignored", el.Tag)
	}
}

// Execute looks up in a request segment and populates in a response
// segment; in an error segment it does nothing.
func (rc *ResponseCache) Execute(ctx context.Context, x *exchange.Exchange) error {
	switch x.CurrentName() {
	case "request":
		return rc.lookup(ctx, x)
	case "response":
		return rc.populate(ctx, x)
	}
	return nil
}

// A stored response is "RC2", then uvarint-length-prefixed fields: the
// status, the reason, the header count, each header's name, value count
// and values, and last the raw body. A binary form keeps hits cheap (no
// JSON, no base64).
const cachedMagic = "RC2"

func encodeCachedResponse(m *exchange.Message) []byte {
	h := cacheableHeaders(m.Header)
	out := make([]byte, 0, 64+len(m.Body))
	out = append(out, cachedMagic...)
	out = binary.AppendUvarint(out, uint64(m.Status))
	out = appendString(out, m.Reason)
	out = binary.AppendUvarint(out, uint64(len(h)))
	for k, vs := range h {
		out = appendString(out, k)
		out = binary.AppendUvarint(out, uint64(len(vs)))
		for _, v := range vs {
			out = appendString(out, v)
		}
	}
	return append(out, m.Body...)
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// entryReader reads the fields of a stored response; ok turns false at the
// first malformed field.
type entryReader struct {
	b  []byte
	ok bool
}

func (r *entryReader) uint() uint64 {
	n, w := binary.Uvarint(r.b)
	if w <= 0 {
		r.ok = false
		return 0
	}
	r.b = r.b[w:]
	return n
}

func (r *entryReader) str() string {
	n := r.uint()
	if !r.ok || n > uint64(len(r.b)) {
		r.ok = false
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func decodeCachedResponse(raw []byte) (*exchange.Message, bool) {
	rest, ok := bytes.CutPrefix(raw, []byte(cachedMagic))
	if !ok {
		return nil, false
	}
	r := &entryReader{b: rest, ok: true}
	m := exchange.NewResponse()
	m.Status = int(r.uint())
	m.Reason = r.str()
	nh := r.uint()
	if !r.ok || m.Status < 100 || m.Status > 999 || nh > uint64(len(r.b)) {
		return nil, false
	}
	m.Header = make(http.Header, nh)
	for i := uint64(0); i < nh && r.ok; i++ {
		k := r.str()
		nv := r.uint()
		if nv > uint64(len(r.b)) {
			return nil, false
		}
		vs := make([]string, 0, nv)
		for j := uint64(0); j < nv && r.ok; j++ {
			vs = append(vs, r.str())
		}
		m.Header[k] = vs
	}
	if !r.ok {
		return nil, false
	}
	m.Body = append([]byte(nil), r.b...)
	return m, true
}

func (rc *ResponseCache) key(x *exchange.Exchange) string {
	if !rc.UseAcceptHeader {
		return rc.Key.Key(x)
	}
	var extra []string
	for _, h := range [...]string{"Accept", "Accept-Encoding", "Accept-Language", "Accept-Charset"} {
		if v := x.Request().Header.Values(h); len(v) > 0 {
			extra = append(extra, strings.Join(v, ","))
		}
	}
	return rc.Key.Key(x, extra...)
}

func (rc *ResponseCache) lookup(ctx context.Context, x *exchange.Exchange) error {
	key := rc.key(x)
	_ = x.Set(rc.vars[1], key)
	_ = x.Set(rc.vars[2], rc.Key.CacheName())
	_ = x.Set(rc.vars[0], false)
	_ = x.Set(rc.vars[3], false)
	if rc.SkipLookup != nil && rc.SkipLookup.Eval(x) {
		return nil
	}
	raw, ok, err := rc.store.Get(ctx, rc.Key.StoreKey(x, key))
	if err != nil {
		log.Printf("ResponseCache %s: lookup failed, treated as a miss: %v", rc.Name, err)
		return nil
	}
	if !ok {
		return nil
	}
	m, ok := decodeCachedResponse(raw)
	if !ok {
		_ = x.Set(rc.vars[3], true)
		return nil
	}
	x.SetResponse(m)
	_ = x.Set(rc.vars[0], true)
	return ErrResponseReady
}

func (rc *ResponseCache) populate(ctx context.Context, x *exchange.Exchange) error {
	if x.Bool(rc.vars[0], false) {
		return nil // served from the cache: nothing new to store
	}
	if rc.SkipPopulation != nil && rc.SkipPopulation.Eval(x) {
		return nil
	}
	resp := x.Response()
	if resp == nil || (rc.ExcludeErrorResponse && (resp.Status < 200 || resp.Status > 299)) {
		return nil
	}
	ttl, ok := rc.ttl(x, resp)
	if !ok || ttl <= 0 {
		return nil
	}
	if err := resp.Materialize(); err != nil {
		log.Printf("ResponseCache %s: reading the response: %v", rc.Name, err)
		return nil
	}
	key, _ := x.GetString(rc.vars[1])
	if key == "" {
		key = rc.key(x)
		_ = x.Set(rc.vars[1], key)
		_ = x.Set(rc.vars[2], rc.Key.CacheName())
	}
	if err := rc.store.Set(ctx, rc.Key.StoreKey(x, key), encodeCachedResponse(resp), ttl); err != nil {
		log.Printf("ResponseCache %s: populate failed: %v", rc.Name, err)
	}
	return nil
}

// ttl is the entry's lifetime; ok is false when the response must not be
// stored (Cache-Control no-store or private with UseResponseCacheHeaders).
func (rc *ResponseCache) ttl(x *exchange.Exchange, resp *exchange.Message) (time.Duration, bool) {
	now := rc.now()
	if !rc.UseResponseCacheHeaders {
		return rc.Expiry.TTL(x, now), true
	}
	d, found, store := httpCacheLifetime(resp.Header, now)
	if !store {
		return 0, false
	}
	if found {
		return d, true
	}
	return rc.Expiry.TTL(x, now), true
}

// httpCacheLifetime reads a response's caching headers: s-maxage, then
// max-age, then Expires. store is false for no-store and private.
func httpCacheLifetime(h http.Header, now time.Time) (ttl time.Duration, found, store bool) {
	maxAge, sMaxAge := -1, -1
	for _, line := range h.Values("Cache-Control") {
		for _, dir := range strings.Split(line, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(dir), "=")
			switch strings.ToLower(name) {
			case "no-store", "private":
				return 0, false, false
			case "max-age":
				maxAge = maxAgeSeconds(strings.Trim(val, `"`), -1)
			case "s-maxage":
				sMaxAge = maxAgeSeconds(strings.Trim(val, `"`), -1)
			}
		}
	}
	switch {
	case sMaxAge >= 0:
		return time.Duration(sMaxAge) * time.Second, true, true
	case maxAge >= 0:
		return time.Duration(maxAge) * time.Second, true, true
	}
	if exp := h.Get("Expires"); exp != "" {
		t, err := http.ParseTime(exp)
		if err != nil {
			return 0, true, true // an invalid Expires means already expired
		}
		return t.Sub(now), true, true
	}
	return 0, false, true
}

func maxAgeSeconds(s string, def int) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return def
	}
	return n
}

// cacheableHeaders drops hop-by-hop and length headers, which the server
// recomputes when it writes the cached response.
func cacheableHeaders(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, v := range h {
		switch k {
		case "Connection", "Keep-Alive", "Transfer-Encoding", "Content-Length", "Te", "Trailer", "Upgrade", "Proxy-Connection":
			continue
		}
		out[k] = append([]string(nil), v...)
	}
	return out
}
