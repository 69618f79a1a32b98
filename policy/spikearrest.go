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

func init() { Register("SpikeArrest", "ratelimit", buildSpikeArrest) }

// SpikeArrest is a built <SpikeArrest> policy. A rate of N per second or
// minute is smoothed into one request every period/N (a generic cell rate
// limiter with a burst of one: 30pm admits one request every 2 s, 10ps one
// every 100 ms). With UseEffectiveCount the same cell admits bursts of up to
// N (a token bucket refilled at the rate). State is in the Store, keyed by
// org, environment, proxy, policy and identifier, so engines sharing a
// store share the limit exactly.
type SpikeArrest struct {
	Name string
	// Rate is <Rate ref="v">30pm</Rate>; the ref wins when it resolves to
	// a valid rate.
	Rate              RateSetting
	Identifier        string // ref, "" when none
	MessageWeight     string // ref, "" when none
	UseEffectiveCount bool

	store store.Store
	proxy string
	now   func() time.Time
}

// SpikeRate is a parsed rate: Count messages per Period (a second or a
// minute).
type SpikeRate struct {
	Count  int64
	Period time.Duration
}

// ParseSpikeRate reads "10ps" or "30pm" (the count a positive integer).
func ParseSpikeRate(s string) (SpikeRate, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	var per time.Duration
	switch {
	case strings.HasSuffix(s, "ps"):
		per = time.Second
	case strings.HasSuffix(s, "pm"):
		per = time.Minute
	default:
		return SpikeRate{}, false
	}
	n, err := strconv.ParseInt(s[:len(s)-2], 10, 64)
	if err != nil || n <= 0 || n > int64(per) {
		return SpikeRate{}, false
	}
	return SpikeRate{Count: n, Period: per}, true
}

func isSpikeRate(s string) bool { _, ok := ParseSpikeRate(s); return ok }

// messageRate is Apigee X's rendering of a rate in the violation's
// faultstring.
func (r SpikeRate) messageRate(burst int64) string {
	return "MessageRate{messagesPerPeriod=" + strconv.FormatInt(r.Count, 10) +
		", periodInMicroseconds=" + strconv.FormatInt(r.Period.Microseconds(), 10) +
		", maxBurstMessageCount=" + strconv.FormatInt(burst, 10) + ".0}"
}

var spikeIgnored = map[string]bool{
	"DisplayName": true, "Description": true, "Properties": true, "FaultRules": true,
}

func buildSpikeArrest(bc *BuildContext, p *bundle.Policy) Policy {
	before := countErrors(bc.Problems)
	sa := &SpikeArrest{Name: p.Name, store: bc.Store, proxy: rlBundleName(bc), now: rlClock(bc)}
	for _, el := range p.Element.ChildElements() {
		sa.readChild(bc, p, el)
	}
	if !sa.Rate.isSet() {
		bc.Problems.Errorf(p.Doc.Pos(p.Element), "<SpikeArrest> needs a <Rate>")
	}
	if countErrors(bc.Problems) > before {
		return nil
	}
	return sa
}

func (sa *SpikeArrest) readChild(bc *BuildContext, p *bundle.Policy, el *etree.Element) {
	switch el.Tag {
	case "Rate":
		sa.Rate = rlReadRef(el, "ref")
		rlCheckLiteral(bc, p, el, sa.Rate.Text, isSpikeRate, "a rate such as 10ps or 30pm")
	case "Identifier":
		sa.Identifier = strings.TrimSpace(el.SelectAttrValue("ref", ""))
	case "MessageWeight":
		sa.MessageWeight = strings.TrimSpace(el.SelectAttrValue("ref", ""))
	case "UseEffectiveCount":
		sa.UseEffectiveCount = boolText(bc, p.Doc, el)
	default:
		if !spikeIgnored[el.Tag] {
			rlWarnUnknown(bc, p, el, "SpikeArrest")
		}
	}
}

// Execute admits or rejects the request (SpikeArrestViolation, 429). A
// store that fails does not reject: the policy fails open, setting
// ratelimit.<name>.failed, as Apigee's does.
func (sa *SpikeArrest) Execute(ctx context.Context, x *exchange.Exchange) error {
	rs, fromRef, ok := sa.Rate.resolve(x, isSpikeRate)
	if !ok {
		return rlFault(sa.Name, "FailedToResolveSpikeArrestRate",
			"Failed to resolve Spike Arrest Rate reference "+sa.Rate.Ref+" in SpikeArrest policy "+sa.Name, http.StatusInternalServerError, nil)
	}
	rate, _ := ParseSpikeRate(rs)
	weight, err := rlWeight(x, sa.MessageWeight, sa.Name)
	if err != nil {
		return err
	}
	burst := int64(1)
	if sa.UseEffectiveCount {
		burst = rate.Count
	}
	p := "ratelimit." + sa.Name + "."
	set := func(name string, v any) { _ = x.Set(p+name, v) }
	set("allowed.count", burst)
	admitted, err := sa.take(ctx, x, rate, burst, weight, fromRef)
	if err != nil {
		set("failed", true)
		admitted = true
	}
	if admitted {
		set("used.count", weight)
		set("available.count", burst)
		set("exceed.count", int64(0))
		return nil
	}
	set("used.count", int64(0))
	set("available.count", int64(0))
	set("exceed.count", weight)
	f := rlFault(sa.Name, "SpikeArrestViolation",
		"Spike arrest violation. Allowed rate : "+rate.messageRate(burst), http.StatusTooManyRequests, nil)
	// ratelimit.<name>.failed means an internal failure for SpikeArrest,
	// never a violation (reference 8.8); Quota keeps it on a violation,
	// which FaultRules in the wild test.
	f.NoFailureFlag = true
	return f
}

// take asks the store's cell rate limiter. A request heavier than the
// burst is allowed a burst of its own weight, so that it can pass once the
// cell is empty rather than never.
func (sa *SpikeArrest) take(ctx context.Context, x *exchange.Exchange, rate SpikeRate, burst, weight int64, fromRef bool) (bool, error) {
	if sa.store == nil {
		return false, store.ErrUnavailable
	}
	interval := rate.Period / time.Duration(rate.Count)
	key := rlScope(x, "spike", sa.proxy, sa.Name) + "\x1f" + rlIdentifier(x, sa.Identifier)
	if fromRef {
		// A rate set per request gets its own cell: mixing intervals in
		// one cell would make neither rate hold.
		key += "\x1f" + strconv.FormatInt(int64(interval), 10) + "/" + strconv.FormatInt(burst, 10)
	}
	ok, _, err := sa.store.Take(ctx, key, interval, max(burst, weight), weight, sa.now())
	return ok, err
}
