package httptarget

import (
	"fmt"
	"time"
)

// DefaultReadmitAfter is how long a server taken out of rotation stays out
// when no HealthMonitor watches it (reference 7.2: "checks it every five
// minutes").
const DefaultReadmitAfter = 5 * time.Minute

// eligible returns the servers a request may try, not counting those in
// tried: the primaries in rotation, else (only when no primary is in
// rotation) the fallbacks in rotation. A downed server whose ReadmitAfter has
// passed counts as in rotation; pick then lets one request try it.
func (lb *loadBalancer) eligible(tried uint64, now *int64) uint64 {
	up := lb.primary | lb.fallback
	if lb.downCount.Load() > 0 {
		up = 0
		for m := lb.primary | lb.fallback; m != 0; m &= m - 1 {
			i := trailing(m)
			if lb.usable(lb.servers[i], now) {
				up |= 1 << i
			}
		}
	}
	if p := up & lb.primary; p != 0 {
		return p &^ tried
	}
	return up & lb.fallback &^ tried
}

func trailing(m uint64) int { return nthBit(m, 0) }

// usable reports whether s is in rotation or may be tried half-open.
func (lb *loadBalancer) usable(s *Server, now *int64) bool {
	if !s.down.Load() {
		return true
	}
	if lb.monitored || s.probing.Load() {
		return false
	}
	if *now == 0 {
		*now = time.Now().UnixNano()
	}
	return *now-s.downSince.Load() >= int64(lb.readmitAfter)
}

// pick chooses a server outside tried, or nil when none is left. A downed
// server is handed to one request at a time (half-open).
func (lb *loadBalancer) pick(tried uint64) *Server {
	var now int64
	cand := lb.eligible(tried, &now)
	for cand != 0 {
		i := lb.balancer.Pick(lb.servers, cand)
		if i < 0 || i >= len(lb.servers) || cand&(1<<i) == 0 {
			return nil
		}
		s := lb.servers[i]
		if !s.down.Load() || s.probing.CompareAndSwap(false, true) {
			return s
		}
		cand &^= 1 << i
	}
	return nil
}

// next picks the server a retry goes to: the first eligible one after
// prev in <Server> order, wrapping around; nil when none is left. It leaves
// the balancer's state alone, so retries do not skew the distribution.
func (lb *loadBalancer) next(prev *Server, tried uint64) *Server {
	var now int64
	cand := lb.eligible(tried, &now)
	n := len(lb.servers)
	for k := 1; k < n && cand != 0; k++ {
		i := (prev.index + k) % n
		if cand&(1<<i) == 0 {
			continue
		}
		s := lb.servers[i]
		if !s.down.Load() || s.probing.CompareAndSwap(false, true) {
			return s
		}
		cand &^= 1 << i
	}
	return nil
}

// succeeded records a response that is not a failure: the count resets and
// a downed server (tried half-open, or probed healthy) is back.
func (lb *loadBalancer) succeeded(s *Server, why string) {
	if s.failures.Load() != 0 {
		s.failures.Store(0)
	}
	if s.down.Load() {
		s.probing.Store(false)
		if s.down.CompareAndSwap(true, false) {
			lb.downCount.Add(-1)
			lb.logf("target server %s is back in rotation (%s)", s.name, why)
		}
	}
}

// failed records a failure (no response, an unhealthy response code or a
// failed probe) and takes the server out at MaxFailures.
func (lb *loadBalancer) failed(s *Server, why string) {
	n := s.failures.Add(1)
	if s.down.Load() {
		if s.probing.Load() {
			s.downSince.Store(time.Now().UnixNano())
			s.probing.Store(false)
		}
		return
	}
	if lb.maxFailures <= 0 || (n < lb.maxFailures && !lb.firstFailure) {
		return
	}
	s.downSince.Store(time.Now().UnixNano())
	if s.down.CompareAndSwap(false, true) {
		lb.downCount.Add(1)
		lb.logf("target server %s is out of rotation after %d consecutive failures (last: %s)", s.name, n, why)
	}
}

func (lb *loadBalancer) logf(format string, args ...any) {
	if lb.log != nil {
		lb.log(fmt.Sprintf(format, args...))
	}
}
