package policy

// What Quota and SpikeArrest share: values given literally and/or by
// reference, message weights, identifiers, counter keys scoped to
// org/env/proxy, window arithmetic on calendar units, and their faults.

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
)

// RateSetting is a Quota or SpikeArrest setting written as literal text
// and/or a ref attribute (`<Interval ref="v">1</Interval>`): the referenced
// variable wins when it resolves to a valid non-empty value.
type RateSetting struct {
	Ref  string // variable name, "" when none
	Text string // literal, trimmed; "" when none
}

func (r RateSetting) isSet() bool { return r.Ref != "" || r.Text != "" }

// resolve returns the referenced value when it is set and accepted by ok,
// else the literal when ok accepts it. fromRef tells which one won.
func (r RateSetting) resolve(x *exchange.Exchange, ok func(string) bool) (val string, fromRef, found bool) {
	if r.Ref != "" {
		if v, set := x.GetString(r.Ref); set {
			if v = strings.TrimSpace(v); v != "" && ok(v) {
				return v, true, true
			}
		}
	}
	if r.Text != "" && ok(r.Text) {
		return r.Text, false, true
	}
	return "", false, false
}

func rlReadRef(el *etree.Element, attr string) RateSetting {
	if el == nil {
		return RateSetting{}
	}
	return RateSetting{Ref: strings.TrimSpace(el.SelectAttrValue(attr, "")), Text: strings.TrimSpace(el.Text())}
}

// rlIsCount accepts a non-negative decimal integer.
func rlIsCount(s string) bool {
	n, err := strconv.ParseInt(s, 10, 64)
	return err == nil && n >= 0
}

// rlIsPositive accepts a positive decimal integer.
func rlIsPositive(s string) bool {
	n, err := strconv.ParseInt(s, 10, 64)
	return err == nil && n > 0
}

func rlInt(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// rlWeight reads <MessageWeight ref="v"/>: 1 when there is none or
// the variable is unset; a value that is not a non-negative integer is
// policies.ratelimit.InvalidMessageWeight.
func rlWeight(x *exchange.Exchange, ref, policyName string) (int64, error) {
	if ref == "" {
		return 1, nil
	}
	v, ok := x.GetString(ref)
	if !ok || strings.TrimSpace(v) == "" {
		return 1, nil
	}
	v = strings.TrimSpace(v)
	if !rlIsCount(v) {
		return 0, rlFault(policyName, "InvalidMessageWeight", "Invalid message weight value "+v, http.StatusInternalServerError, nil)
	}
	return rlInt(v), nil
}

// rlIdentifier resolves <Identifier ref="v"/>; "" when there is none or it
// does not resolve (one counter for every caller).
func rlIdentifier(x *exchange.Exchange, ref string) string {
	if ref == "" {
		return ""
	}
	v, _ := x.GetString(ref)
	return v
}

// rlScope is the part of a counter key that says whose counter it is:
// organization, environment and the proxy (or shared flow) holding the
// policy. Org and env are read per request because two engines sharing a
// store may serve different environments.
func rlScope(x *exchange.Exchange, kind, proxy, name string) string {
	org, _ := x.GetString("organization.name")
	env, _ := x.GetString("environment.name")
	var b strings.Builder
	b.Grow(len(kind) + len(org) + len(env) + len(proxy) + len(name) + 5)
	b.WriteString(kind)
	for _, s := range [...]string{org, env, proxy, name} {
		b.WriteByte('\x1f') // unit separator: cannot collide with names
		b.WriteString(s)
	}
	return b.String()
}

func rlFault(policyName, name, text string, status int, cause error) *Fault {
	return &Fault{
		Name: name, Code: "policies.ratelimit." + name, FaultString: text,
		Status: status, Source: "policy", Policy: policyName, Cause: cause,
	}
}

// rlStoreFault is what a store error becomes (Quota; SpikeArrest fails open).
func rlStoreFault(policyName string, err error) *Fault {
	return rlFault(policyName, "ExecutionFailed",
		"Execution of "+policyName+" failed: the counter store is unavailable", http.StatusInternalServerError, err)
}

func rlBundleName(bc *BuildContext) string {
	if bc.Bundle == nil {
		return ""
	}
	return bc.Bundle.Name
}

func rlClock(bc *BuildContext) func() time.Time {
	if bc.Options != nil && bc.Options.Now != nil {
		return bc.Options.Now
	}
	return time.Now
}

func rlWarnUnknown(bc *BuildContext, p *bundle.Policy, el *etree.Element, in string) {
	bc.Problems.Warnf(p.Doc.Pos(el), "unknown element <%s> in <%s>, ignored", el.Tag, in)
}

// quotaUnit is a Quota time unit.
type quotaUnit int

// Quota time units. unitSecond is accepted as Apigee X accepts it for
// rollingwindow and flexi quotas.
const (
	unitSecond quotaUnit = iota
	unitMinute
	unitHour
	unitDay
	unitWeek
	unitMonth
)

var quotaUnits = map[string]quotaUnit{
	"second": unitSecond, "minute": unitMinute, "hour": unitHour, "day": unitDay, "week": unitWeek, "month": unitMonth,
}

// parseQuotaUnit reads a <TimeUnit> value, case-insensitively.
func parseQuotaUnit(s string) (quotaUnit, bool) {
	u, ok := quotaUnits[strings.ToLower(strings.TrimSpace(s))]
	return u, ok
}

func isQuotaUnit(s string) bool { _, ok := parseQuotaUnit(s); return ok }

// fixedDur is the length of units that have one (all but Month).
func (u quotaUnit) fixedDur() time.Duration {
	switch u {
	case unitSecond:
		return time.Second
	case unitMinute:
		return time.Minute
	case unitHour:
		return time.Hour
	case unitDay:
		return 24 * time.Hour
	case unitWeek:
		return 7 * 24 * time.Hour
	}
	return 0
}

// maxWindow bounds a window's length so that time arithmetic never
// overflows: an Interval of a million weeks reads as a century.
const maxWindow = 100 * 366 * 24 * time.Hour

// clampInterval limits n units to maxWindow.
func (u quotaUnit) clampInterval(n int64) int {
	limit := int64(maxWindow / (31 * 24 * time.Hour))
	if u != unitMonth {
		limit = int64(maxWindow / u.fixedDur())
	}
	return int(max(min(n, limit), 1))
}

// addQuotaUnits returns t plus n units; months are calendar months, a day past
// the target month's end clamps to its last day (Jan 31 + 1 month = Feb 28).
func addQuotaUnits(t time.Time, u quotaUnit, n int) time.Time {
	if u != unitMonth {
		return t.Add(time.Duration(n) * u.fixedDur())
	}
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d, last)-1)
}

// quotaWindow returns the window [start, end) of n units that contains now,
// windows being laid end to end from origin (backwards too).
func quotaWindow(origin, now time.Time, u quotaUnit, n int) (start, end time.Time) {
	var k int
	if u == unitMonth {
		k = rlFloorDiv((now.Year()-origin.Year())*12+int(now.Month()-origin.Month()), n)
	} else {
		k = int(rlFloorDiv64(int64(now.Sub(origin)), int64(time.Duration(n)*u.fixedDur())))
	}
	for addQuotaUnits(origin, u, k*n).After(now) {
		k--
	}
	for !addQuotaUnits(origin, u, (k+1)*n).After(now) {
		k++
	}
	return addQuotaUnits(origin, u, k*n), addQuotaUnits(origin, u, (k+1)*n)
}

func rlFloorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func rlFloorDiv64(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// quotaOrigin is where default-type windows are laid from: the Unix epoch,
// except weeks, which start on Monday 00:00 UTC (1970-01-05).
func quotaOrigin(u quotaUnit) time.Time {
	if u == unitWeek {
		return time.Date(1970, 1, 5, 0, 0, 0, 0, time.UTC)
	}
	return time.Unix(0, 0).UTC()
}

// parseQuotaStart reads Quota's <StartTime> (yyyy-M-d HH:mm:ss, UTC).
func parseQuotaStart(s string) (time.Time, error) {
	return time.ParseInLocation("2006-1-2 15:04:05", strings.TrimSpace(s), time.UTC)
}
