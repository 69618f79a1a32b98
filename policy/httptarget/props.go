package httptarget

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apigo/apigo/bundle"
)

// Endpoint property defaults (reference 6.7).
const (
	defaultConnectTimeout   = 3000 * time.Millisecond
	defaultIOTimeout        = 55000 * time.Millisecond
	defaultKeepAliveTimeout = 60000 * time.Millisecond
)

// props are the HTTPTargetConnection properties this package honours.
type props struct {
	connect, io, keepAlive time.Duration
	codes                  codeSet
}

func readProps(list []bundle.Property, ps *bundle.Problems) props {
	p := props{connect: defaultConnectTimeout, io: defaultIOTimeout, keepAlive: defaultKeepAliveTimeout,
		codes: defaultSuccessCodes}
	for _, pr := range list {
		switch pr.Name {
		case "connect.timeout.millis":
			p.connect = millis(pr, p.connect, ps)
		case "io.timeout.millis":
			p.io = millis(pr, p.io, ps)
		case "keepalive.timeout.millis":
			p.keepAlive = millis(pr, p.keepAlive, ps)
		case "success.codes":
			if cs, ok := parseCodes(pr.Value); ok {
				p.codes = cs
			} else {
				ps.Errorf(pr.Pos, "property success.codes: %q is not a list of status codes and classes like 1XX,2XX,404", pr.Value)
			}
		}
	}
	return p
}

func millis(pr bundle.Property, def time.Duration, ps *bundle.Problems) time.Duration {
	s := strings.TrimSpace(pr.Value)
	if s == "" {
		return def
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > int64(24*time.Hour/time.Millisecond) {
		ps.Errorf(pr.Pos, "property %s: %q is not a positive number of milliseconds", pr.Name, pr.Value)
		return def
	}
	return time.Duration(n) * time.Millisecond
}

// codeSet holds success codes as classes (1..9 for 1XX..9XX) and codes.
type codeSet struct {
	classes [10]bool
	codes   map[int]bool
}

var defaultSuccessCodes = codeSet{classes: [10]bool{1: true, 2: true, 3: true}}

// parseCodes parses success.codes such as "1XX,2XX,3XX,404"; setting it
// replaces the default set (reference 6.7).
func parseCodes(s string) (codeSet, bool) {
	cs := codeSet{codes: map[int]bool{}}
	for _, part := range strings.Split(s, ",") {
		part = strings.ToUpper(strings.TrimSpace(part))
		if part == "" {
			continue
		}
		if len(part) == 3 && part[1:] == "XX" && part[0] >= '1' && part[0] <= '9' {
			cs.classes[part[0]-'0'] = true
			continue
		}
		n, err := strconv.Atoi(part)
		if err != nil || n < 100 || n > 999 {
			return cs, false
		}
		cs.codes[n] = true
	}
	return cs, true
}

func (cs codeSet) has(code int) bool {
	if cs.codes[code] {
		return true
	}
	c := code / 100
	return c >= 0 && c < 10 && cs.classes[c]
}

// String renders the set as success.codes would spell it.
func (cs codeSet) String() string {
	var parts []string
	for c, ok := range cs.classes {
		if ok {
			parts = append(parts, strconv.Itoa(c)+"XX")
		}
	}
	var codes []int
	for c := range cs.codes {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	for _, c := range codes {
		parts = append(parts, strconv.Itoa(c))
	}
	return strings.Join(parts, ",")
}
