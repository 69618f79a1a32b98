package httptarget

import (
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"time"

	"github.com/apigo/apigo/bundle"
	"github.com/beevik/etree"
)

// loadBalancer is a compiled <LoadBalancer> with the health of its servers.
// Counters are per LoadBalancer (per TargetEndpoint), as in Apigee.
type loadBalancer struct {
	servers      []*Server
	balancer     Balancer
	algorithm    string
	maxFailures  int64 // 0: never take a server out
	firstFailure bool  // Options.TakeOutOnFirstFailure
	retry        bool
	unhealthy    map[int]bool // ServerUnhealthyResponse codes
	primary      uint64       // enabled, non-fallback servers
	fallback     uint64       // enabled fallback servers
	readmitAfter time.Duration
	monitored    bool // an enabled HealthMonitor re-admits servers
	downCount    atomic.Int64
	log          func(string)
}

var algorithms = []string{"RoundRobin", "Weighted", "LeastConnections"}

// readLoadBalancer compiles the <LoadBalancer> element; servers get their
// scheme, address and transport later (see Build).
func readLoadBalancer(r reader, e *etree.Element, env *bundle.Environment, opts Options) *loadBalancer {
	r.unknown(e, "Algorithm", "Server", "MaxFailures", "RetryEnabled", "ServerUnhealthyResponse", "TargetDisableSecs")
	lb := &loadBalancer{algorithm: "RoundRobin", retry: r.boolOf(e, "RetryEnabled", true),
		maxFailures: int64(r.intOf(e, "MaxFailures", 0, 0, math.MaxInt32)), firstFailure: opts.TakeOutOnFirstFailure,
		unhealthy: map[int]bool{}, readmitAfter: opts.ReadmitAfter, log: opts.Log}
	if lb.readmitAfter <= 0 {
		lb.readmitAfter = DefaultReadmitAfter
	}
	if s := r.secondsOf(e, "TargetDisableSecs", 0); s > 0 {
		lb.readmitAfter = time.Duration(s * float64(time.Second))
	}
	if a := e.SelectElement("Algorithm"); a != nil {
		lb.algorithm = r.algorithm(a)
	}
	if u := e.SelectElement("ServerUnhealthyResponse"); u != nil {
		r.unknown(u, "ResponseCode")
		for _, c := range u.SelectElements("ResponseCode") {
			if n := r.code(c); n > 0 {
				lb.unhealthy[n] = true
			}
		}
	}
	lb.readServers(r, e, env)
	return lb
}

func (r reader) algorithm(a *etree.Element) string {
	s := r.text(a)
	for _, k := range algorithms {
		if strings.EqualFold(s, k) {
			if s != k {
				r.ps.Warnf(r.doc.TextPos(a), "<Algorithm> %q is spelt %q in Apigee", s, k)
			}
			return k
		}
	}
	r.ps.Errorf(r.doc.TextPos(a), "<Algorithm> %q is not one of %s", s, strings.Join(algorithms, ", "))
	return "RoundRobin"
}

// code reads a status code element.
func (r reader) code(e *etree.Element) int {
	s := r.text(e)
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil || n < 100 || n > 999 || fmt.Sprint(n) != s {
		r.ps.Errorf(r.doc.TextPos(e), "<%s>: %q is not an HTTP status code", e.Tag, s)
		return 0
	}
	return n
}

func (lb *loadBalancer) readServers(r reader, e *etree.Element, env *bundle.Environment) {
	seen := map[string]bundle.Pos{}
	fallbacks := 0
	for _, se := range e.SelectElements("Server") {
		r.unknown(se, "Weight", "IsFallback")
		name := strings.TrimSpace(se.SelectAttrValue("name", ""))
		pos := r.pos(se)
		switch {
		case name == "":
			r.ps.Errorf(pos, "<Server> has no name attribute")
			continue
		case seen[name] != bundle.Pos{}:
			r.ps.Errorf(pos, "<Server name=%q> is listed twice (also at %s)", name, seen[name])
			continue
		}
		seen[name] = pos
		ts := lookupServer(env, name)
		if ts == nil {
			r.ps.Errorf(pos, "<Server name=%q>: no such target server in the environment%s", name, envWhere(env))
			continue
		}
		if len(lb.servers) == maxServers {
			r.ps.Errorf(pos, "a LoadBalancer may list at most %d servers", maxServers)
			return
		}
		s := &Server{name: name, index: len(lb.servers), host: ts.Host, port: ts.Port, enabled: ts.IsEnabled,
			weight: r.intOf(se, "Weight", 1, 1, 1<<20), isFallback: r.boolOf(se, "IsFallback", false)}
		if s.isFallback {
			if fallbacks++; fallbacks == 2 {
				r.ps.Warnf(pos, "more than one <IsFallback> server (Apigee allows one; apigo uses them all in turn)")
			}
		}
		lb.servers = append(lb.servers, s)
	}
	if len(e.SelectElements("Server")) == 0 {
		r.ps.Errorf(r.pos(e), "<LoadBalancer> lists no <Server>")
	}
}

func lookupServer(env *bundle.Environment, name string) *bundle.TargetServer {
	if env == nil {
		return nil
	}
	return env.TargetServers[name]
}

func envWhere(env *bundle.Environment) string {
	switch {
	case env == nil || env.Name == "" && env.Dir == "":
		return " (no environment with a targetservers.json was loaded)"
	case env.Dir != "":
		return fmt.Sprintf(" (%s/targetservers.json)", env.Dir)
	}
	return fmt.Sprintf(" %q", env.Name)
}

// finish computes the masks and the balancer once the servers are known.
func (lb *loadBalancer) finish(r reader, e *etree.Element) {
	for i, s := range lb.servers {
		switch {
		case !s.enabled:
		case s.isFallback:
			lb.fallback |= 1 << i
		default:
			lb.primary |= 1 << i
		}
	}
	if len(lb.servers) > 0 && lb.primary|lb.fallback == 0 {
		r.ps.Warnf(r.pos(e), "every server of the LoadBalancer is disabled: requests fail with NoActiveTargets")
	}
	switch lb.algorithm {
	case "Weighted":
		if w := NewWeighted(lb.servers); w != nil {
			lb.balancer = w
		} else {
			r.ps.Errorf(r.pos(e), "server weights are too large (their sum, divided by their greatest common divisor, must be at most %d)", maxWeightCycle)
			lb.balancer = &RoundRobin{}
		}
	case "LeastConnections":
		lb.balancer = LeastConnections{}
	default:
		lb.balancer = &RoundRobin{}
	}
}
