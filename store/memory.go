package store

import (
	"context"
	"hash/maphash"
	"sort"
	"sync"
	"time"
)

// DefaultMaxCacheEntries bounds a Memory store's cache when
// MemoryOptions.MaxCacheEntries is zero or less.
const DefaultMaxCacheEntries = 100_000

// counterShards spreads counters over independent locks so that unrelated
// quotas do not contend.
const counterShards = 64

// MemoryOptions configure NewMemory.
type MemoryOptions struct {
	// Now is the clock for expiry; nil means time.Now.
	Now func() time.Time
	// MaxCacheEntries bounds the cache; the least recently used entry is
	// evicted beyond it. Zero or less means DefaultMaxCacheEntries.
	MaxCacheEntries int
}

// Memory is the in-process Store: exact under concurrency (every update
// happens under a lock), expiring by its clock. Expired entries are dropped
// when read and by a sweep amortised over writes, so memory stays
// proportional to the live entries; the cache is also bounded by an LRU.
type Memory struct {
	now    func() time.Time
	seed   maphash.Seed
	shards [counterShards]counterShard
	cache  *lruCache
	kvm    kvmMaps
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty memory store.
func NewMemory(opts MemoryOptions) *Memory {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	max := opts.MaxCacheEntries
	if max <= 0 {
		max = DefaultMaxCacheEntries
	}
	m := &Memory{now: now, seed: maphash.MakeSeed(), cache: newLRUCache(max)}
	for i := range m.shards {
		m.shards[i].init()
	}
	m.kvm.maps = map[string]map[string]string{}
	return m
}

// Close implements Store; a Memory store holds no background resources.
func (m *Memory) Close() error { return nil }

func (m *Memory) shard(key string) *counterShard {
	return &m.shards[maphash.String(m.seed, key)%counterShards]
}

// Incr implements Counters.
func (m *Memory) Incr(ctx context.Context, key string, delta int64, expireAt time.Time) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	now := m.now()
	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.fixed[key]
	if !ok || !now.Before(c.expireAt) {
		c = fixedCounter{expireAt: expireAt}
	}
	c.n += delta
	s.fixed[key] = c
	s.wrote(now)
	return c.n, nil
}

// Peek implements Counters.
func (m *Memory) Peek(ctx context.Context, key string) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	now := m.now()
	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.fixed[key]
	if !ok || !now.Before(c.expireAt) {
		return 0, nil
	}
	return c.n, nil
}

// SlidingIncr implements Counters. Every request is remembered (merged with
// others at the same instant) until it leaves the window, so the total is
// exact, as with Redis's sorted set.
func (m *Memory) SlidingIncr(ctx context.Context, key string, delta int64, window time.Duration, now time.Time) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.sliding[key]
	if l == nil {
		l = &slidingLog{}
		s.sliding[key] = l
	}
	l.window = window
	l.prune(now.UnixNano() - int64(window))
	l.add(now.UnixNano(), delta)
	s.wrote(now)
	return l.total, nil
}

// Take implements Counters with the generic cell rate algorithm: the
// theoretical arrival time (TAT) advances by cost×interval per admitted
// request, and a request is admitted while TAT stays within burst×interval
// of now.
func (m *Memory) Take(ctx context.Context, key string, interval time.Duration, burst, cost int64, now time.Time) (bool, time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return false, 0, err
	}
	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	tat, ok := s.gcra[key]
	nowNS := now.UnixNano()
	allowed, newTAT, retry := gcra(tat, ok, nowNS, int64(interval), burst, cost)
	if allowed {
		s.gcra[key] = newTAT
		s.wrote(now)
	}
	return allowed, time.Duration(retry), nil
}

// gcra decides one Take in integer time units (nanoseconds here,
// microseconds in the Redis script, which mirrors it).
func gcra(tat int64, ok bool, now, interval, burst, cost int64) (allowed bool, newTAT, retryAfter int64) {
	if burst < 1 {
		burst = 1
	}
	if !ok || tat < now {
		tat = now
	}
	newTAT = tat + cost*interval
	over := newTAT - burst*interval - now
	if over > 0 {
		return false, tat, over
	}
	return true, newTAT, 0
}

// fixedCounter is one fixed-window counter.
type fixedCounter struct {
	n        int64
	expireAt time.Time
}

// counterShard holds the counters whose keys hash to it.
type counterShard struct {
	mu      sync.Mutex
	fixed   map[string]fixedCounter
	sliding map[string]*slidingLog
	gcra    map[string]int64
	writes  int // since the last sweep
	swept   int // entries left by the last sweep
}

func (s *counterShard) init() {
	s.fixed = map[string]fixedCounter{}
	s.sliding = map[string]*slidingLog{}
	s.gcra = map[string]int64{}
}

// wrote counts a write and sweeps expired entries once the writes since the
// last sweep reach what that sweep left: amortised O(1) per write, and the
// shard never holds more than about twice its live entries (plus 64).
func (s *counterShard) wrote(now time.Time) {
	s.writes++
	if s.writes < max(64, s.swept) {
		return
	}
	s.writes = 0
	defer func() { s.swept = len(s.fixed) + len(s.sliding) + len(s.gcra) }()
	for k, c := range s.fixed {
		if !now.Before(c.expireAt) {
			delete(s.fixed, k)
		}
	}
	nowNS := now.UnixNano()
	for k, l := range s.sliding {
		if l.prune(nowNS - int64(l.window)); len(l.events) == 0 {
			delete(s.sliding, k)
		}
	}
	for k, tat := range s.gcra {
		if tat <= nowNS {
			delete(s.gcra, k)
		}
	}
}

// slidingLog is a rolling window's events, oldest first.
type slidingLog struct {
	events []slidingEvent
	total  int64
	window time.Duration
}

type slidingEvent struct {
	at    int64 // Unix nanoseconds
	delta int64
}

// prune drops the events at or before cutoff.
func (l *slidingLog) prune(cutoff int64) {
	i := 0
	for i < len(l.events) && l.events[i].at <= cutoff {
		l.total -= l.events[i].delta
		i++
	}
	if i > 0 {
		l.events = append(l.events[:0], l.events[i:]...)
	}
}

// add records delta at time at, keeping events ordered even when clocks
// step back.
func (l *slidingLog) add(at, delta int64) {
	l.total += delta
	n := len(l.events)
	if n > 0 && l.events[n-1].at == at {
		l.events[n-1].delta += delta
		return
	}
	if n == 0 || l.events[n-1].at < at {
		l.events = append(l.events, slidingEvent{at, delta})
		return
	}
	i := sort.Search(n, func(i int) bool { return l.events[i].at >= at })
	if l.events[i].at == at {
		l.events[i].delta += delta
		return
	}
	l.events = append(l.events, slidingEvent{})
	copy(l.events[i+1:], l.events[i:])
	l.events[i] = slidingEvent{at, delta}
}
