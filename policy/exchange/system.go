package exchange

import (
	"crypto/rand"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// computed serves the variables nobody stores: system.* (unless the engine
// stored an override), propertyset.<set>.<key> and the is.error default.
func (x *Exchange) computed(name string) (any, bool) {
	if rest, ok := strings.CutPrefix(name, "propertyset."); ok {
		v, found := x.props[rest]
		return v, found
	}
	if rest, ok := strings.CutPrefix(name, "system."); ok {
		return x.systemVar(rest)
	}
	if name == "is.error" && x.IsErrorFalseBeforeFault {
		return false, true
	}
	return nil, false
}

func (x *Exchange) now() time.Time {
	if x.Now != nil {
		return x.Now()
	}
	return time.Now()
}

// systemTimeLayout renders system.time as Apigee does:
// "Wed, 21 Aug 2013 19:16:47 UTC".
const systemTimeLayout = "Mon, 02 Jan 2006 15:04:05 MST"

// systemVar serves system.*. Times are UTC; system.time.month is 1-12 and
// system.time.dayofweek follows java.util.Calendar (Sunday = 1). [?]
func (x *Exchange) systemVar(rest string) (any, bool) {
	switch rest {
	case "uuid":
		return processUUID(), true
	case "pod.name":
		return podName(), true
	case "region.name":
		return "local", true
	case "timestamp":
		return x.now().UnixMilli(), true
	case "time":
		return x.now().UTC().Format(systemTimeLayout), true
	}
	part, ok := strings.CutPrefix(rest, "time.")
	if !ok {
		return nil, false
	}
	t := x.now().UTC()
	switch part {
	case "year":
		return t.Year(), true
	case "month":
		return int(t.Month()), true
	case "day":
		return t.Day(), true
	case "dayofweek":
		return int(t.Weekday()) + 1, true
	case "hour":
		return t.Hour(), true
	case "minute":
		return t.Minute(), true
	case "second":
		return t.Second(), true
	case "millisecond":
		return t.Nanosecond() / int(time.Millisecond), true
	case "zone":
		return "UTC", true
	}
	return nil, false
}

// processUUID is system.uuid: one UUID per process (Apigee's is the
// message processor's, not per request).
var processUUID = sync.OnceValue(func() any { return newUUID() })

// podName is system.pod.name: the host name, as a pod name is one.
var podName = sync.OnceValue(func() any {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "localhost"
})

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
