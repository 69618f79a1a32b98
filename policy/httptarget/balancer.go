package httptarget

import (
	"math/bits"
	"net/http"
	"sync/atomic"
	"time"
)

// maxServers bounds a LoadBalancer's servers so that sets of servers fit a
// uint64 bit mask (no allocation per pick).
const maxServers = 64

// Server is one <Server> of a LoadBalancer, resolved against the
// environment's TargetServers, with its health. Health is atomic state shared
// by concurrent requests; balancers only read it.
type Server struct {
	name       string
	index      int
	host       string
	port       int
	scheme     string
	base       string // scheme://host:port
	weight     int
	isFallback bool
	enabled    bool
	transport  http.RoundTripper
	tls        *sslInfo // the server's sSLInfo, else the endpoint's SSLInfo

	failures  atomic.Int64
	down      atomic.Bool
	downSince atomic.Int64 // unix nanoseconds
	probing   atomic.Bool  // a half-open request is trying the downed server
	inFlight  atomic.Int64
}

// Name is the TargetServer name.
func (s *Server) Name() string { return s.name }

// BaseURL is scheme://host:port.
func (s *Server) BaseURL() string { return s.base }

// Weight is the <Weight> (1 when absent).
func (s *Server) Weight() int { return s.weight }

// IsFallback reports <IsFallback>true</IsFallback>.
func (s *Server) IsFallback() bool { return s.isFallback }

// Enabled reports the TargetServer's isEnabled.
func (s *Server) Enabled() bool { return s.enabled }

// Healthy reports whether the server is in rotation.
func (s *Server) Healthy() bool { return !s.down.Load() }

// Failures is the count of consecutive failures.
func (s *Server) Failures() int { return int(s.failures.Load()) }

// InFlight is the number of requests sent to the server and not yet done.
func (s *Server) InFlight() int { return int(s.inFlight.Load()) }

// DownSince is when the server was last taken out of rotation (zero if it
// is in rotation).
func (s *Server) DownSince() time.Time {
	if !s.down.Load() {
		return time.Time{}
	}
	return time.Unix(0, s.downSince.Load())
}

// Balancer is one load-balancing algorithm. Pick returns the index into
// servers of the server to use, choosing among those whose bit is set in
// eligible (never zero), or -1. Pick is called concurrently and must not
// block.
type Balancer interface {
	Pick(servers []*Server, eligible uint64) int
}

// RoundRobin hands requests to the eligible servers in the order listed,
// one each in turn (Apigee's default algorithm). The cursor is one atomic
// counter; with servers out of rotation the turn passes evenly among the
// rest.
type RoundRobin struct {
	_      [56]byte // keep the hot cursor on its own cache line
	cursor atomic.Uint64
	_      [56]byte
}

// Pick implements Balancer.
func (rr *RoundRobin) Pick(_ []*Server, eligible uint64) int {
	n := bits.OnesCount64(eligible)
	if n == 0 {
		return -1
	}
	t := rr.cursor.Add(1) - 1
	return nthBit(eligible, int(t%uint64(n)))
}

// nthBit returns the index of the n-th (0-based) set bit of m.
func nthBit(m uint64, n int) int {
	for ; n > 0; n-- {
		m &= m - 1
	}
	return bits.TrailingZeros64(m)
}

// Weighted sends requests in proportion to the servers' weights, with
// nginx's smooth weighted round robin interleaving (weights 5,1,1 give
// a a b a c a a). The sequence of one cycle is computed once; a pick is one
// atomic increment. While some servers are out of rotation, picks are
// spread over the rest in proportion to their weights (in blocks rather
// than smoothly).
type Weighted struct {
	_      [56]byte
	cursor atomic.Uint64
	_      [56]byte
	seq    []uint8 // server indexes of one cycle
	full   uint64  // the servers seq covers
	weight []int
}

// maxWeightCycle bounds the smooth sequence (after dividing weights by their
// greatest common divisor).
const maxWeightCycle = 1 << 16

// NewWeighted builds the balancer for servers; fallback servers take no
// part in the smooth cycle. It returns nil if the weights (divided by their
// greatest common divisor) add up to more than 65536.
func NewWeighted(servers []*Server) *Weighted {
	w := &Weighted{weight: make([]int, len(servers))}
	g := 0
	for i, s := range servers {
		w.weight[i] = max(s.weight, 1)
		if !s.isFallback {
			g = gcd(g, w.weight[i])
		}
	}
	total := 0
	for i, s := range servers {
		if !s.isFallback {
			total += w.weight[i] / g
			w.full |= 1 << i
		}
	}
	if total > maxWeightCycle {
		return nil
	}
	cur := make([]int, len(servers))
	for range total {
		best := -1
		for i := range servers {
			if w.full&(1<<i) == 0 {
				continue
			}
			cur[i] += w.weight[i] / g
			if best < 0 || cur[i] > cur[best] {
				best = i
			}
		}
		cur[best] -= total
		w.seq = append(w.seq, uint8(best))
	}
	return w
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// Pick implements Balancer.
func (w *Weighted) Pick(_ []*Server, eligible uint64) int {
	if eligible == 0 {
		return -1
	}
	t := w.cursor.Add(1) - 1
	if eligible == w.full && len(w.seq) > 0 {
		return int(w.seq[t%uint64(len(w.seq))])
	}
	total := 0
	for m := eligible; m != 0; m &= m - 1 {
		total += w.weight[bits.TrailingZeros64(m)]
	}
	r := int(t % uint64(total))
	for m := eligible; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(m)
		if r < w.weight[i] {
			return i
		}
		r -= w.weight[i]
	}
	return bits.TrailingZeros64(eligible)
}

// LeastConnections picks the eligible server with the fewest requests in
// flight; ties go to the server listed first.
type LeastConnections struct{}

// Pick implements Balancer.
func (LeastConnections) Pick(servers []*Server, eligible uint64) int {
	best, least := -1, int64(0)
	for m := eligible; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(m)
		if n := servers[i].inFlight.Load(); best < 0 || n < least {
			best, least = i, n
		}
	}
	return best
}
