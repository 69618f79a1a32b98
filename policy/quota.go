package policy

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
	"github.com/apigo/apigo/store"
)

func init() { Register("Quota", "ratelimit", buildQuota) }

// Quota types (the type attribute).
const (
	QuotaDefault  = ""              // fixed windows aligned to the start of the unit
	QuotaCalendar = "calendar"      // fixed windows laid from StartTime
	QuotaRolling  = "rollingwindow" // sliding window over the previous interval
	QuotaFlexi    = "flexi"         // window starts at the identifier's first request
)

// Quota is a built <Quota> policy. Counts live in the Store, keyed by org,
// environment, proxy (or shared flow), policy name (or SharedName),
// identifier, class and window, so that engines sharing one store share
// counts exactly: with a single store, Distributed and Synchronous are
// always in effect. Choices where Apigee's behaviour is not documented:
// default-type windows of N units are laid end to end from the Unix epoch
// (weeks from Monday 1970-01-05), all in UTC; a class has a counter of its
// own; a rejected request gives its weight back; a flexi window starts at
// the identifier's first request and, while its start record lives,
// later windows follow it end to end.
type Quota struct {
	Name string
	Type string // one of the Quota* constants
	// Allow is <Allow count countRef> (or <Allow countRef>N</Allow>).
	Allow RateSetting
	// ClassRef and Classes are <Allow><Class ref><Allow class count/>...;
	// a class value not listed uses Allow.
	ClassRef string
	Classes  map[string]int64
	Interval RateSetting
	TimeUnit RateSetting
	// StartTime is the calendar type's origin (zero when absent).
	StartTime     time.Time
	Identifier    string // ref, "" when none
	MessageWeight string // ref, "" when none
	// Distributed and Synchronous are read and kept; one store makes every
	// instance's counts exact whatever they say.
	Distributed, Synchronous bool
	SharedName               string
	// CountOnly counts without ever failing; EnforceOnly fails when the
	// counter is used up without counting this request.
	CountOnly, EnforceOnly bool
	// ProductStep is UseQuotaConfigInAPIProduct's stepName ("" when
	// absent); Defaults is its DefaultConfig.
	ProductStep string
	Defaults    QuotaDefaultConfig

	store store.Store
	proxy string
	now   func() time.Time
}

// QuotaDefaultConfig is UseQuotaConfigInAPIProduct's <DefaultConfig>, used
// when the product sets no quota ("" for a field it does not give).
type QuotaDefaultConfig struct{ Allow, Interval, TimeUnit string }

var quotaIgnored = map[string]bool{
	"DisplayName": true, "Description": true, "Properties": true, "FaultRules": true,
	"AsynchronousConfiguration": true, "PreciseAtSecondsLevel": true, "DataStoreFailureModeOpen": true,
}

func buildQuota(bc *BuildContext, p *bundle.Policy) Policy {
	before := countErrors(bc.Problems)
	q := &Quota{Name: p.Name, store: bc.Store, proxy: rlBundleName(bc), now: rlClock(bc)}
	q.Type = strings.ToLower(strings.TrimSpace(p.Element.SelectAttrValue("type", "")))
	switch q.Type {
	case QuotaDefault, QuotaCalendar, QuotaRolling, QuotaFlexi:
	default:
		bc.Problems.Errorf(p.Doc.Pos(p.Element), "<Quota> type %q is not calendar, rollingwindow or flexi", q.Type)
	}
	var startEl *etree.Element
	for _, el := range p.Element.ChildElements() {
		if el.Tag == "StartTime" {
			startEl = el
		}
		q.readChild(bc, p, el)
	}
	q.checkStartTime(bc, p, startEl)
	if !q.Allow.isSet() && q.ProductStep == "" && len(q.Classes) == 0 {
		bc.Problems.Errorf(p.Doc.Pos(p.Element), "<Quota> needs <Allow> or <UseQuotaConfigInAPIProduct>")
	}
	if q.CountOnly && q.EnforceOnly {
		bc.Problems.Errorf(p.Doc.Pos(p.Element), "<Quota>: CountOnly and EnforceOnly cannot both be true")
	}
	if countErrors(bc.Problems) > before {
		return nil
	}
	return q
}

func (q *Quota) readChild(bc *BuildContext, p *bundle.Policy, el *etree.Element) {
	switch el.Tag {
	case "Allow":
		q.readAllow(bc, p, el)
	case "Interval":
		q.Interval = rlReadRef(el, "ref")
		rlCheckLiteral(bc, p, el, q.Interval.Text, rlIsPositive, "a positive integer")
	case "TimeUnit":
		q.TimeUnit = rlReadRef(el, "ref")
		rlCheckLiteral(bc, p, el, q.TimeUnit.Text, isQuotaUnit, "second, minute, hour, day, week or month")
	case "StartTime":
		t, err := parseQuotaStart(el.Text())
		if err != nil {
			bc.Problems.Errorf(p.Doc.TextPos(el), "<StartTime> %q is not yyyy-M-d HH:mm:ss", strings.TrimSpace(el.Text()))
		}
		q.StartTime = t
	case "Identifier":
		q.Identifier = strings.TrimSpace(el.SelectAttrValue("ref", ""))
	case "MessageWeight":
		q.MessageWeight = strings.TrimSpace(el.SelectAttrValue("ref", ""))
	case "Distributed":
		q.Distributed = boolText(bc, p.Doc, el)
	case "Synchronous":
		q.Synchronous = boolText(bc, p.Doc, el)
	case "SharedName":
		q.SharedName = strings.TrimSpace(el.Text())
	case "CountOnly":
		q.CountOnly = boolText(bc, p.Doc, el)
	case "EnforceOnly":
		q.EnforceOnly = boolText(bc, p.Doc, el)
	case "UseQuotaConfigInAPIProduct":
		q.readProductConfig(bc, p, el)
	default:
		if !quotaIgnored[el.Tag] {
			rlWarnUnknown(bc, p, el, "Quota")
		}
	}
}

func rlCheckLiteral(bc *BuildContext, p *bundle.Policy, el *etree.Element, text string, ok func(string) bool, what string) {
	if text != "" && !ok(text) {
		bc.Problems.Errorf(p.Doc.TextPos(el), "<%s> %q is not %s", el.Tag, text, what)
	}
}

func (q *Quota) checkStartTime(bc *BuildContext, p *bundle.Policy, el *etree.Element) {
	switch {
	case q.Type == QuotaCalendar && el == nil:
		bc.Problems.Warnf(p.Doc.Pos(p.Element), "calendar <Quota> without <StartTime>: windows are aligned to the start of the unit")
	case q.Type != QuotaCalendar && el != nil:
		bc.Problems.Warnf(p.Doc.Pos(el), "<StartTime> applies to calendar quotas only, ignored")
		q.StartTime = time.Time{}
	}
}

// readAllow reads <Allow count="N" countRef="v"/>, <Allow countRef="v">N</Allow>
// and the class form <Allow count="N"><Class ref="v"><Allow class="gold" count="M"/></Class></Allow>.
func (q *Quota) readAllow(bc *BuildContext, p *bundle.Policy, el *etree.Element) {
	q.Allow = RateSetting{Ref: strings.TrimSpace(el.SelectAttrValue("countRef", ""))}
	if c := el.SelectAttr("count"); c != nil {
		q.Allow.Text = strings.TrimSpace(c.Value)
	} else if len(el.ChildElements()) == 0 {
		q.Allow.Text = strings.TrimSpace(el.Text())
	}
	rlCheckLiteral(bc, p, el, q.Allow.Text, rlIsCount, "a non-negative integer count")
	cls := el.SelectElement("Class")
	if cls == nil {
		return
	}
	q.ClassRef = strings.TrimSpace(cls.SelectAttrValue("ref", ""))
	if q.ClassRef == "" {
		bc.Problems.Errorf(p.Doc.Pos(cls), "<Class> needs a ref attribute")
	}
	q.Classes = map[string]int64{}
	for _, a := range cls.SelectElements("Allow") {
		name, count := a.SelectAttrValue("class", ""), strings.TrimSpace(a.SelectAttrValue("count", ""))
		if name == "" || !rlIsCount(count) {
			bc.Problems.Errorf(p.Doc.Pos(a), "<Allow> in <Class> needs class and a non-negative integer count")
			continue
		}
		q.Classes[name] = rlInt(count)
	}
}

func (q *Quota) readProductConfig(bc *BuildContext, p *bundle.Policy, el *etree.Element) {
	q.ProductStep = strings.TrimSpace(el.SelectAttrValue("stepName", ""))
	if q.ProductStep == "" {
		bc.Problems.Errorf(p.Doc.Pos(el), "<UseQuotaConfigInAPIProduct> needs a stepName")
	} else if bc.Bundle != nil && bc.Bundle.Policies != nil {
		if vp := bc.Bundle.Policies[q.ProductStep]; vp == nil || vp.Type != "VerifyAPIKey" && vp.Type != "OAuthV2" {
			// apigeelint PO035: the product's quota comes from that policy's
			// variables, so the DefaultConfig always applies.
			bc.Problems.Warnf(p.Doc.Pos(el), "<UseQuotaConfigInAPIProduct> stepName %q is not a VerifyAPIKey or OAuthV2 policy of this bundle; the product quota will never be found", q.ProductStep)
		}
	}
	dc := el.SelectElement("DefaultConfig")
	if dc == nil {
		return
	}
	for _, ch := range dc.ChildElements() {
		text := strings.TrimSpace(ch.Text())
		switch ch.Tag {
		case "Allow":
			rlCheckLiteral(bc, p, ch, text, rlIsCount, "a non-negative integer count")
			q.Defaults.Allow = text
		case "Interval":
			rlCheckLiteral(bc, p, ch, text, rlIsPositive, "a positive integer")
			q.Defaults.Interval = text
		case "TimeUnit":
			rlCheckLiteral(bc, p, ch, text, isQuotaUnit, "second, minute, hour, day, week or month")
			q.Defaults.TimeUnit = text
		default:
			rlWarnUnknown(bc, p, ch, "DefaultConfig")
		}
	}
}

// quotaRun is one execution's resolved settings.
type quotaRun struct {
	allow      int64
	class      string
	interval   int
	unit       quotaUnit
	weight     int64
	identifier string
}

// Execute counts the request and fails with QuotaViolation (429) when the
// window's count would exceed the allowed count. The counter is incremented
// atomically, then compared; a rejected request gives its weight back, so
// the counter holds admitted weight only (a client retrying in a loop is
// not locked out of a rolling window) and no interleaving admits more than
// the allowed count.
func (q *Quota) Execute(ctx context.Context, x *exchange.Exchange) error {
	r, err := q.resolve(x)
	if err != nil {
		return err
	}
	if q.store == nil {
		return rlStoreFault(q.Name, store.ErrUnavailable)
	}
	now := q.now().UTC()
	key, end, err := q.window(ctx, x, r, now)
	if err != nil {
		return rlStoreFault(q.Name, err)
	}
	used, err := q.count(ctx, key, end, r, now)
	if err != nil {
		return rlStoreFault(q.Name, err)
	}
	counter, over := used, max(used-r.allow, 0)
	exceeded := used > r.allow
	switch {
	case q.EnforceOnly:
		exceeded = used+r.weight > r.allow
		over = max(used+r.weight-r.allow, 0)
	case exceeded && !q.CountOnly:
		q.refund(ctx, key, end, r, now)
		counter = used - r.weight
	}
	q.setVariables(x, r, counter, over, end)
	if exceeded && !q.CountOnly {
		ident := r.identifier
		if ident == "" {
			ident = "_default"
		}
		return rlFault(q.Name, "QuotaViolation",
			"Rate limit quota violation. Quota limit  exceeded. Identifier : "+ident, http.StatusTooManyRequests, nil)
	}
	return nil
}

// count adds the weight to the window's counter and returns the total
// (EnforceOnly reads it without adding).
func (q *Quota) count(ctx context.Context, key string, end time.Time, r quotaRun, now time.Time) (int64, error) {
	delta := r.weight
	if q.EnforceOnly {
		delta = 0
	}
	switch {
	case q.Type == QuotaRolling:
		return q.store.SlidingIncr(ctx, key, delta, now.Sub(addQuotaUnits(now, r.unit, -r.interval)), now)
	case delta == 0:
		return q.store.Peek(ctx, key)
	}
	return q.store.Incr(ctx, key, delta, end)
}

// refund takes a rejected request's weight back off the counter. A failed
// refund only makes the window stricter, so its error is dropped.
func (q *Quota) refund(ctx context.Context, key string, end time.Time, r quotaRun, now time.Time) {
	if q.Type == QuotaRolling {
		_, _ = q.store.SlidingIncr(ctx, key, -r.weight, now.Sub(addQuotaUnits(now, r.unit, -r.interval)), now)
		return
	}
	_, _ = q.store.Incr(ctx, key, -r.weight, end)
}

// setVariables sets ratelimit.<name>.*: counter is the window's count
// after this request, over by how much this request exceeded the limit.
func (q *Quota) setVariables(x *exchange.Exchange, r quotaRun, counter, over int64, end time.Time) {
	p := "ratelimit." + q.Name + "."
	set := func(name string, v any) { _ = x.Set(p+name, v) }
	counts := [...]struct {
		name string
		v    int64
	}{
		{"allowed.count", r.allow}, {"used.count", counter}, {"available.count", max(r.allow-counter, 0)},
		{"exceed.count", over}, {"total.exceed.count", over},
	}
	for _, c := range counts {
		set(c.name, c.v)
		if q.ClassRef != "" {
			set("class."+c.name, c.v) // the class's own counter
		}
	}
	ident := r.identifier
	if ident == "" {
		ident = "_default"
	}
	set("identifier", ident)
	if q.ClassRef != "" {
		set("class", r.class)
	}
	if q.Type != QuotaRolling {
		set("expiry.time", end.UnixMilli())
	}
}

// resolve reads this request's weight, identifier, class, allowed count
// and window length. A ref wins over a literal when it resolves to a valid
// value; with UseQuotaConfigInAPIProduct the product's quota (as
// VerifyAPIKey set it) wins, then DefaultConfig, then the policy's own
// elements.
func (q *Quota) resolve(x *exchange.Exchange) (quotaRun, error) {
	r := quotaRun{identifier: rlIdentifier(x, q.Identifier)}
	var err error
	if r.weight, err = rlWeight(x, q.MessageWeight, q.Name); err != nil {
		return r, err
	}
	allow, ok := q.allowed(x, &r)
	if !ok {
		return r, rlFault(q.Name, "FailedToResolveAllowCountRef",
			"Failed to resolve the allowed count reference "+q.Allow.Ref+" of quota policy "+q.Name, http.StatusInternalServerError, nil)
	}
	r.allow = allow
	iv, ok := q.setting(x, "interval", q.Defaults.Interval, q.Interval, rlIsPositive)
	if !ok {
		return r, rlFault(q.Name, "FailedToResolveQuotaIntervalReference",
			"Failed to resolve quota interval reference "+q.Interval.Ref+" of quota policy "+q.Name, http.StatusInternalServerError, nil)
	}
	tu, ok := q.setting(x, "timeunit", q.Defaults.TimeUnit, q.TimeUnit, isQuotaUnit)
	if !ok {
		return r, rlFault(q.Name, "FailedToResolveQuotaIntervalTimeUnitReference",
			"Failed to resolve quota time unit reference "+q.TimeUnit.Ref+" of quota policy "+q.Name, http.StatusInternalServerError, nil)
	}
	r.unit, _ = parseQuotaUnit(tu)
	r.interval = r.unit.clampInterval(rlInt(iv))
	return r, nil
}

// allowed is the class count when the class is listed, else the Allow
// setting.
func (q *Quota) allowed(x *exchange.Exchange, r *quotaRun) (int64, bool) {
	if q.ClassRef != "" {
		r.class, _ = x.GetString(q.ClassRef)
		if n, ok := q.Classes[r.class]; ok {
			return n, true
		}
	}
	v, ok := q.setting(x, "limit", q.Defaults.Allow, q.Allow, rlIsCount)
	return rlInt(v), ok
}

// setting resolves one of allow/interval/timeunit: the product's
// verifyapikey.<step>.apiproduct.developer.quota.<field>, DefaultConfig,
// then the policy element.
func (q *Quota) setting(x *exchange.Exchange, field, def string, own RateSetting, ok func(string) bool) (string, bool) {
	if q.ProductStep != "" {
		pv := RateSetting{Ref: "verifyapikey." + q.ProductStep + ".apiproduct.developer.quota." + field, Text: def}
		if v, _, found := pv.resolve(x, ok); found {
			return v, true
		}
	}
	v, _, found := own.resolve(x, ok)
	return v, found
}

// window returns the counter key of the window holding now, and the
// window's end (zero for rollingwindow).
func (q *Quota) window(ctx context.Context, x *exchange.Exchange, r quotaRun, now time.Time) (string, time.Time, error) {
	name := q.Name
	if q.SharedName != "" {
		name = "shared:" + q.SharedName
	}
	base := rlScope(x, "quota", q.proxy, name) + "\x1f" + r.identifier + "\x1f" + r.class
	var origin time.Time
	switch q.Type {
	case QuotaRolling:
		return base + "\x1frolling", time.Time{}, nil
	case QuotaFlexi:
		start, err := q.flexiStart(ctx, base, r, now)
		if err != nil {
			return "", time.Time{}, err
		}
		origin = start
	case QuotaCalendar:
		origin = q.StartTime
		if origin.IsZero() {
			origin = quotaOrigin(r.unit)
		}
	default:
		origin = quotaOrigin(r.unit)
	}
	start, end := quotaWindow(origin, now, r.unit, r.interval)
	return base + "\x1f" + strconv.FormatInt(start.UnixMilli(), 10), end, nil
}

// flexiStart returns when the identifier's window started: the first
// request stores its time with SetNX (expiring with the window), later ones
// read it. Windows then run end to end from that start until the record
// expires, so instances whose clocks differ still agree on the window.
func (q *Quota) flexiStart(ctx context.Context, base string, r quotaRun, now time.Time) (time.Time, error) {
	key := base + "\x1fflexi"
	ttl := addQuotaUnits(now, r.unit, r.interval).Sub(now)
	stamp := []byte(strconv.FormatInt(now.UnixNano(), 10))
	for range 3 {
		set, err := q.store.SetNX(ctx, key, stamp, ttl)
		if err != nil || set {
			return now, err
		}
		b, found, err := q.store.Get(ctx, key)
		if err != nil {
			return now, err
		}
		if !found {
			continue // expired between the two calls
		}
		if ns, perr := strconv.ParseInt(string(b), 10, 64); perr == nil {
			return time.Unix(0, ns).UTC(), nil
		}
		return now, q.store.Set(ctx, key, stamp, ttl)
	}
	return now, nil
}
