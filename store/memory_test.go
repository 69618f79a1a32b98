package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestMemoryConformance(t *testing.T) {
	conformance(t, opener{open: func(t *testing.T, now func() time.Time) Store {
		return NewMemory(MemoryOptions{Now: now})
	}})
}

func TestMemoryCacheLRU(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(MemoryOptions{MaxCacheEntries: 3})
	for _, k := range []string{"a", "b", "c"} {
		if err := m.Set(ctx, k, []byte(k), 0); err != nil {
			t.Fatal(err)
		}
	}
	m.Get(ctx, "a") // a is now the most recently used; b the least
	if err := m.Set(ctx, "d", []byte("d"), 0); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]bool{"a": true, "b": false, "c": true, "d": true} {
		if _, found, _ := m.Get(ctx, k); found != want {
			t.Errorf("Get(%q) found = %v, want %v (LRU of 3)", k, found, want)
		}
	}
	if n := m.cache.order.Len(); n != 3 {
		t.Errorf("cache holds %d entries, want 3", n)
	}
}

func TestMemoryCacheCopies(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(MemoryOptions{})
	v := []byte("abc")
	m.Set(ctx, "k", v, 0)
	v[0] = 'X'
	got, _, _ := m.Get(ctx, "k")
	got[1] = 'Y'
	if again, _, _ := m.Get(ctx, "k"); string(again) != "abc" {
		t.Errorf("Get(k) = %q after the caller changed its slices, want abc", again)
	}
}

// TestMemorySweep checks that expired counters do not accumulate: a stream
// of distinct short-lived keys keeps the store near its live size.
func TestMemorySweep(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	m := NewMemory(MemoryOptions{Now: clock.Now})
	const keys = 30_000
	for i := range keys {
		now := clock.Now()
		m.Incr(ctx, fmt.Sprintf("q%d", i), 1, now.Add(time.Second))
		m.SlidingIncr(ctx, fmt.Sprintf("s%d", i), 1, time.Second, now)
		m.Take(ctx, fmt.Sprintf("g%d", i), time.Second, 1, 1, now)
		clock.Advance(10 * time.Millisecond) // about 100 keys of each kind live
	}
	held := 0
	for i := range m.shards {
		s := &m.shards[i]
		held += len(s.fixed) + len(s.sliding) + len(s.gcra)
	}
	// 300 live entries; each shard may hold up to max(64, 2×live) before a
	// sweep.
	if limit := counterShards * 64 * 2; held > limit {
		t.Errorf("store holds %d counters after %d short-lived keys, want at most %d", held, 3*keys, limit)
	}
}

func TestMemoryCanceledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m := NewMemory(MemoryOptions{})
	if _, err := m.Incr(ctx, "k", 1, time.Now().Add(time.Minute)); err == nil {
		t.Errorf("Incr with a canceled context = nil error, want context.Canceled")
	}
	if _, _, err := m.Get(ctx, "k"); err == nil {
		t.Errorf("Get with a canceled context = nil error, want context.Canceled")
	}
}

func BenchmarkMemoryIncr(b *testing.B) {
	ctx := context.Background()
	m := NewMemory(MemoryOptions{})
	end := time.Now().Add(time.Hour)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Incr(ctx, "quota", 1, end)
		}
	})
}

func BenchmarkMemoryTake(b *testing.B) {
	ctx := context.Background()
	m := NewMemory(MemoryOptions{})
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Take(ctx, "spike", time.Microsecond, 1000, 1, time.Now())
		}
	})
}

func BenchmarkMemoryCacheGet(b *testing.B) {
	ctx := context.Background()
	m := NewMemory(MemoryOptions{})
	m.Set(ctx, "k", make([]byte, 1024), time.Hour)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Get(ctx, "k")
		}
	})
}
