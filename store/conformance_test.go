package store

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeClock is an injectable clock that tests advance instead of sleeping.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2030, 1, 2, 3, 4, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// opener opens a store on the clock. Stores opened twice in one test share
// their state when the implementation is shared (Redis: two clients on one
// server, as two apigo instances are).
type opener struct {
	open   func(t *testing.T, now func() time.Time) Store
	shared bool
}

// conformance runs the behaviour every Store must have.
func conformance(t *testing.T, o opener) {
	tests := []struct {
		name string
		run  func(t *testing.T, o opener)
	}{
		{"FixedWindow", testFixedWindow},
		{"SlidingWindow", testSlidingWindow},
		{"Refund", testRefund},
		{"GCRA", testGCRA},
		{"CacheTTL", testCacheTTL},
		{"SetNX", testSetNX},
		{"DeletePrefix", testDeletePrefix},
		{"KVM", testKVM},
		{"ConcurrentIncr", testConcurrentIncr},
		{"ConcurrentSliding", testConcurrentSliding},
		{"ConcurrentTake", testConcurrentTake},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, o) })
	}
}

func testFixedWindow(t *testing.T, o opener) {
	ctx := context.Background()
	clock := newFakeClock()
	s := o.open(t, clock.Now)
	end := clock.Now().Add(time.Minute)
	steps := []struct {
		advance  time.Duration
		delta    int64
		expireAt time.Time
		want     int64
	}{
		{0, 1, end, 1},
		{10 * time.Second, 2, end, 3},
		// A later expireAt does not extend a running window.
		{10 * time.Second, 1, end.Add(time.Hour), 4},
		{39*time.Second + 999*time.Millisecond, 5, end, 9},
		// The window has passed: the counter starts again.
		{time.Millisecond, 1, end.Add(time.Minute), 1},
		{59 * time.Second, 3, end.Add(2 * time.Minute), 4},
		{time.Second, 2, end.Add(2 * time.Minute), 2},
	}
	for i, st := range steps {
		clock.Advance(st.advance)
		got, err := s.Incr(ctx, "fixed", st.delta, st.expireAt)
		if err != nil || got != st.want {
			t.Fatalf("step %d: Incr(fixed, %d) = %d, %v, want %d", i, st.delta, got, err, st.want)
		}
		if peek, err := s.Peek(ctx, "fixed"); err != nil || peek != st.want {
			t.Fatalf("step %d: Peek(fixed) = %d, %v, want %d", i, peek, err, st.want)
		}
	}
	clock.Advance(2 * time.Minute)
	if peek, err := s.Peek(ctx, "fixed"); err != nil || peek != 0 {
		t.Errorf("Peek after the window = %d, %v, want 0", peek, err)
	}
	if peek, err := s.Peek(ctx, "absent"); err != nil || peek != 0 {
		t.Errorf("Peek(absent) = %d, %v, want 0", peek, err)
	}
	if got, err := s.Incr(ctx, "other", 7, clock.Now().Add(time.Second)); err != nil || got != 7 {
		t.Errorf("Incr(other, 7) = %d, %v, want 7 (keys are independent)", got, err)
	}
}

func testSlidingWindow(t *testing.T, o opener) {
	ctx := context.Background()
	clock := newFakeClock()
	s := o.open(t, clock.Now)
	t0 := clock.Now()
	const window = 10 * time.Second
	steps := []struct {
		at    time.Duration // since t0
		delta int64
		want  int64
	}{
		{0, 1, 1},
		{3 * time.Second, 2, 3},
		{3 * time.Second, 1, 4}, // same instant: both count
		{9 * time.Second, 1, 5},
		{10 * time.Second, 1, 5}, // t0 leaves: (now-window, now]
		{13 * time.Second, 0, 2}, // the two at 3s leave; a zero delta reads
		{19*time.Second + time.Millisecond, 4, 5},
		{40 * time.Second, 1, 1},
	}
	for i, st := range steps {
		got, err := s.SlidingIncr(ctx, "rolling", st.delta, window, t0.Add(st.at))
		if err != nil || got != st.want {
			t.Fatalf("step %d: SlidingIncr(rolling, %d, t0+%v) = %d, %v, want %d", i, st.delta, st.at, got, err, st.want)
		}
	}
}

// testRefund checks negative deltas, which Quota uses to give back a
// request it counted and then rejected (at the same instant, so that the
// refund leaves a rolling window with the request).
func testRefund(t *testing.T, o opener) {
	ctx := context.Background()
	clock := newFakeClock()
	s := o.open(t, clock.Now)
	now := clock.Now()
	end := now.Add(time.Minute)
	fixed := []struct{ delta, want int64 }{{3, 3}, {-2, 1}, {5, 6}, {-6, 0}}
	for i, st := range fixed {
		if got, err := s.Incr(ctx, "q", st.delta, end); err != nil || got != st.want {
			t.Fatalf("step %d: Incr(q, %d) = %d, %v, want %d", i, st.delta, got, err, st.want)
		}
	}
	sliding := []struct {
		at          time.Duration
		delta, want int64
	}{{0, 3, 3}, {0, -3, 0}, {time.Second, 2, 2}, {time.Second, -1, 1}, {60 * time.Second, 0, 1}, {61 * time.Second, 0, 0}}
	for i, st := range sliding {
		if got, err := s.SlidingIncr(ctx, "s", st.delta, time.Minute, now.Add(st.at)); err != nil || got != st.want {
			t.Fatalf("step %d: SlidingIncr(s, %d, now+%v) = %d, %v, want %d", i, st.delta, st.at, got, err, st.want)
		}
	}
}

func testGCRA(t *testing.T, o opener) {
	ctx := context.Background()
	clock := newFakeClock()
	s := o.open(t, clock.Now)
	t0 := clock.Now()
	const interval = 100 * time.Millisecond
	steps := []struct {
		at        time.Duration // since t0
		burst     int64
		cost      int64
		allowed   bool
		retryWant time.Duration
	}{
		{0, 3, 1, true, 0},
		{0, 3, 1, true, 0},
		{0, 3, 1, true, 0},
		{0, 3, 1, false, interval}, // burst spent
		{40 * time.Millisecond, 3, 1, false, 60 * time.Millisecond},
		{100 * time.Millisecond, 3, 1, true, 0}, // one interval later, one more
		{100 * time.Millisecond, 3, 1, false, interval},
		{300 * time.Millisecond, 3, 2, true, 0}, // cost 2 needs two intervals
		{300 * time.Millisecond, 3, 2, false, 2 * interval},
		{2 * time.Second, 3, 1, true, 0}, // idle: full burst again
		{2 * time.Second, 3, 1, true, 0},
		{2 * time.Second, 3, 1, true, 0},
		{2 * time.Second, 3, 1, false, interval},
	}
	for i, st := range steps {
		allowed, retry, err := s.Take(ctx, "gcra", interval, st.burst, st.cost, t0.Add(st.at))
		if err != nil || allowed != st.allowed || retry != st.retryWant {
			t.Fatalf("step %d: Take(gcra, burst %d, cost %d, t0+%v) = %v, %v, %v, want %v, %v",
				i, st.burst, st.cost, st.at, allowed, retry, err, st.allowed, st.retryWant)
		}
	}
	// Burst below one behaves as one.
	for i, want := range []bool{true, false} {
		if allowed, _, err := s.Take(ctx, "gcra0", time.Second, 0, 1, t0); err != nil || allowed != want {
			t.Errorf("Take(gcra0, burst 0) #%d = %v, %v, want %v", i, allowed, err, want)
		}
	}
}

func testCacheTTL(t *testing.T, o opener) {
	ctx := context.Background()
	clock := newFakeClock()
	s := o.open(t, clock.Now)
	mustSet := func(key, value string, ttl time.Duration) {
		t.Helper()
		if err := s.Set(ctx, key, []byte(value), ttl); err != nil {
			t.Fatalf("Set(%q) = %v", key, err)
		}
	}
	mustSet("short", "one", 10*time.Second)
	mustSet("forever", "two", 0)
	mustSet("empty", "", time.Hour)
	mustSet("replaced", "old", time.Hour)
	mustSet("replaced", "new", time.Hour)
	checks := []struct {
		advance time.Duration
		key     string
		want    string
		found   bool
	}{
		{0, "short", "one", true},
		{0, "forever", "two", true},
		{0, "empty", "", true},
		{0, "replaced", "new", true},
		{0, "absent", "", false},
		{9*time.Second + 999*time.Millisecond, "short", "one", true},
		{time.Millisecond, "short", "", false},
		{1000 * time.Hour, "forever", "two", true},
		{0, "replaced", "", false},
	}
	for i, c := range checks {
		clock.Advance(c.advance)
		got, found, err := s.Get(ctx, c.key)
		if err != nil || found != c.found || !bytes.Equal(got, []byte(c.want)) {
			t.Fatalf("check %d: Get(%q) = %q, %v, %v, want %q, %v", i, c.key, got, found, err, c.want, c.found)
		}
	}
	if err := s.Delete(ctx, "forever"); err != nil {
		t.Fatalf("Delete(forever) = %v", err)
	}
	if _, found, _ := s.Get(ctx, "forever"); found {
		t.Errorf("Get(forever) after Delete found it")
	}
	if err := s.Delete(ctx, "never-set"); err != nil {
		t.Errorf("Delete(never-set) = %v, want nil", err)
	}
}

func testSetNX(t *testing.T, o opener) {
	ctx := context.Background()
	clock := newFakeClock()
	s := o.open(t, clock.Now)
	steps := []struct {
		advance time.Duration
		value   string
		stored  bool
		holds   string
	}{
		{0, "first", true, "first"},
		{0, "second", false, "first"},
		{4 * time.Second, "third", false, "first"},
		{time.Second, "fourth", true, "fourth"}, // expired: the key is absent again
	}
	for i, st := range steps {
		clock.Advance(st.advance)
		stored, err := s.SetNX(ctx, "lock", []byte(st.value), 5*time.Second)
		if err != nil || stored != st.stored {
			t.Fatalf("step %d: SetNX(lock, %q) = %v, %v, want %v", i, st.value, stored, err, st.stored)
		}
		got, _, _ := s.Get(ctx, "lock")
		if string(got) != st.holds {
			t.Fatalf("step %d: Get(lock) = %q, want %q", i, got, st.holds)
		}
	}
}

func testDeletePrefix(t *testing.T, o opener) {
	ctx := context.Background()
	clock := newFakeClock()
	s := o.open(t, clock.Now)
	keys := []string{"a/1", "a/2", "a/2/x", "ab", "b", "x*[y]?/1", "x*[y]?/2", "x*zz"}
	for _, k := range keys {
		if err := s.Set(ctx, k, []byte(k), time.Hour); err != nil {
			t.Fatalf("Set(%q) = %v", k, err)
		}
	}
	for _, prefix := range []string{"a/", "x*[y]?/", "nothing"} {
		if err := s.DeletePrefix(ctx, prefix); err != nil {
			t.Fatalf("DeletePrefix(%q) = %v", prefix, err)
		}
	}
	want := map[string]bool{"ab": true, "b": true, "x*zz": true}
	for _, k := range keys {
		if _, found, _ := s.Get(ctx, k); found != want[k] {
			t.Errorf("after DeletePrefix, Get(%q) found = %v, want %v", k, found, want[k])
		}
	}
}

func testKVM(t *testing.T, o opener) {
	ctx := context.Background()
	clock := newFakeClock()
	s := o.open(t, clock.Now)
	puts := []struct {
		mapID, key, value string
		override          bool
		stored            bool
		holds             string
	}{
		{"env/m", "k1", "v1", false, true, "v1"},
		{"env/m", "k1", "v2", false, false, "v1"},
		{"env/m", "k1", "v3", true, true, "v3"},
		{"env/m", "a0", "", true, true, ""},
		{"env/other", "k1", "o1", false, true, "o1"},
	}
	for i, p := range puts {
		stored, err := s.KVMPut(ctx, p.mapID, p.key, p.value, p.override)
		if err != nil || stored != p.stored {
			t.Fatalf("put %d: KVMPut(%q, %q, %q, %v) = %v, %v, want %v", i, p.mapID, p.key, p.value, p.override, stored, err, p.stored)
		}
		got, found, err := s.KVMGet(ctx, p.mapID, p.key)
		if err != nil || !found || got != p.holds {
			t.Fatalf("put %d: KVMGet(%q, %q) = %q, %v, %v, want %q", i, p.mapID, p.key, got, found, err, p.holds)
		}
	}
	if keys, err := s.KVMKeys(ctx, "env/m"); err != nil || !slices.Equal(keys, []string{"a0", "k1"}) {
		t.Errorf("KVMKeys(env/m) = %q, %v, want [a0 k1]", keys, err)
	}
	if err := s.KVMDelete(ctx, "env/m", "k1"); err != nil {
		t.Fatalf("KVMDelete = %v", err)
	}
	if err := s.KVMDelete(ctx, "env/m", "never"); err != nil {
		t.Errorf("KVMDelete(never) = %v, want nil", err)
	}
	if _, found, err := s.KVMGet(ctx, "env/m", "k1"); found || err != nil {
		t.Errorf("KVMGet(k1) after delete found = %v, %v", found, err)
	}
	if v, _, _ := s.KVMGet(ctx, "env/other", "k1"); v != "o1" {
		t.Errorf("KVMGet(env/other, k1) = %q, want o1 (maps are independent)", v)
	}
	if keys, err := s.KVMKeys(ctx, "missing"); err != nil || len(keys) != 0 {
		t.Errorf("KVMKeys(missing) = %q, %v, want none", keys, err)
	}
}

// clients returns two stores on the same state when the implementation is
// shared, else the same store twice.
func clients(t *testing.T, o opener, now func() time.Time) [2]Store {
	a := o.open(t, now)
	if o.shared {
		return [2]Store{a, o.open(t, now)}
	}
	return [2]Store{a, a}
}

// hammer runs 50 goroutines × 20 calls of op, alternating between the
// clients, and returns how many calls op reported as counted.
func hammer(t *testing.T, cs [2]Store, op func(s Store) (bool, error)) int {
	const goroutines, calls = 50, 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	counted := 0
	for g := range goroutines {
		wg.Go(func() {
			for range calls {
				ok, err := op(cs[g%2])
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					mu.Lock()
					counted++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return counted
}

func testConcurrentIncr(t *testing.T, o opener) {
	ctx := context.Background()
	clock := newFakeClock()
	cs := clients(t, o, clock.Now)
	end := clock.Now().Add(time.Hour)
	const limit = 10
	admitted := hammer(t, cs, func(s Store) (bool, error) {
		n, err := s.Incr(ctx, "quota", 1, end)
		return n <= limit, err
	})
	if total, err := cs[0].Peek(ctx, "quota"); err != nil || total != 1000 {
		t.Errorf("Peek after 50×20 Incr = %d, %v, want 1000", total, err)
	}
	if admitted != limit {
		t.Errorf("calls seeing a total within %d = %d, want exactly %d", limit, admitted, limit)
	}
}

func testConcurrentSliding(t *testing.T, o opener) {
	ctx := context.Background()
	clock := newFakeClock()
	cs := clients(t, o, clock.Now)
	now := clock.Now()
	hammer(t, cs, func(s Store) (bool, error) {
		_, err := s.SlidingIncr(ctx, "rolling", 1, time.Minute, now)
		return true, err
	})
	if total, err := cs[1].SlidingIncr(ctx, "rolling", 0, time.Minute, now); err != nil || total != 1000 {
		t.Errorf("SlidingIncr total after 50×20 = %d, %v, want 1000", total, err)
	}
}

func testConcurrentTake(t *testing.T, o opener) {
	ctx := context.Background()
	clock := newFakeClock()
	cs := clients(t, o, clock.Now)
	now := clock.Now()
	admitted := hammer(t, cs, func(s Store) (bool, error) {
		ok, _, err := s.Take(ctx, "spike", time.Second, 100, 1, now)
		return ok, err
	})
	if admitted != 100 {
		t.Errorf("Take admitted %d of 1000 concurrent with burst 100, want exactly 100", admitted)
	}
}
