package store

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
	"time"
)

const noRedis = "no Redis: set APIGO_TEST_REDIS=redis://127.0.0.1:6379/0"

// runPrefix keeps parallel test runs on one server apart.
var runPrefix = "test-" + newNonce()

var (
	redisOnce sync.Once
	redisErr  error
)

// testRedisURL returns APIGO_TEST_REDIS, skipping the test when it is unset
// or the server does not answer.
func testRedisURL(tb testing.TB) string {
	url := os.Getenv("APIGO_TEST_REDIS")
	if url == "" {
		tb.Skip(noRedis)
	}
	redisOnce.Do(func() {
		r, err := NewRedis(url, RedisOptions{})
		if err == nil {
			r.Close()
		}
		redisErr = err
	})
	if redisErr != nil {
		tb.Skipf("%s (%v)", noRedis, redisErr)
	}
	return url
}

// openTestRedis opens a client whose keys are private to this test; a
// second call in the same test shares them, as two apigo instances do.
func openTestRedis(tb testing.TB, now func() time.Time) *Redis {
	url := testRedisURL(tb)
	r, err := NewRedis(url, RedisOptions{Prefix: runPrefix + ":" + tb.Name(), Now: now})
	if err != nil {
		tb.Fatalf("NewRedis(%q) = %v", url, err)
	}
	tb.Cleanup(func() {
		ctx := context.Background()
		keys, _ := r.client.Keys(ctx, globEscape(r.ns)+"*").Result()
		if len(keys) > 0 {
			r.client.Unlink(ctx, keys...)
		}
		r.Close()
	})
	return r
}

func TestRedisConformance(t *testing.T) {
	testRedisURL(t)
	conformance(t, opener{shared: true, open: func(t *testing.T, now func() time.Time) Store {
		return openTestRedis(t, now)
	}})
}

// TestRedisPrefixes checks that prefixes keep deployments apart and that
// every key lives under apigo:.
func TestRedisPrefixes(t *testing.T) {
	ctx := context.Background()
	a := openTestRedis(t, nil)
	url := testRedisURL(t)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	b, err := NewRedis(url+sep+"prefix="+runPrefix+"-other", RedisOptions{})
	if err != nil {
		t.Fatalf("NewRedis with ?prefix = %v", err)
	}
	defer b.Close()
	if want := "apigo:" + runPrefix + "-other:"; b.ns != want {
		t.Errorf("namespace from ?prefix = %q, want %q", b.ns, want)
	}
	a.KVMPut(ctx, "m", "k", "v", true)
	defer a.KVMDelete(ctx, "m", "k")
	if _, found, _ := b.KVMGet(ctx, "m", "k"); found {
		t.Errorf("a KVM entry under one prefix is visible under another")
	}
	keys, err := a.client.Keys(ctx, globEscape(a.ns)+"*").Result()
	if err != nil || len(keys) != 1 || keys[0] != a.ns+"m:m" {
		t.Errorf("keys under the namespace = %q, %v, want [%sm:m]", keys, err, a.ns)
	}
}

func TestOpen(t *testing.T) {
	tests := []struct {
		spec    string
		kind    string // "memory", "redis" or "" for an error
		errWant string
		unavail bool
	}{
		{"", "memory", "", false},
		{"memory", "memory", "", false},
		{"memcached://x", "", `unknown store "memcached://x"`, false},
		{"redis://127.0.0.1:1/0?dial_timeout=1s&max_retries=-1", "", "does not answer", true},
		{"redis://:secret@127.0.0.1:1/0", "", "xxxxx", true},
		{"redis://127.0.0.1:6379/0?bogus=1", "", "bad Redis URL", false},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			s, err := Open(tt.spec, nil)
			if tt.kind == "" {
				if err == nil || !strings.Contains(err.Error(), tt.errWant) || errors.Is(err, ErrUnavailable) != tt.unavail {
					t.Fatalf("Open(%q) error = %v, want one containing %q (unavailable %v)", tt.spec, err, tt.errWant, tt.unavail)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("Open(%q) error shows the password: %v", tt.spec, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open(%q) = %v", tt.spec, err)
			}
			defer s.Close()
			if _, ok := s.(*Memory); !ok && tt.kind == "memory" {
				t.Errorf("Open(%q) = %T, want *Memory", tt.spec, s)
			}
		})
	}
	t.Run("redis", func(t *testing.T) {
		url := testRedisURL(t)
		s, err := Open(url, nil)
		if err != nil {
			t.Fatalf("Open(%q) = %v", url, err)
		}
		defer s.Close()
		if _, ok := s.(*Redis); !ok {
			t.Errorf("Open(%q) = %T, want *Redis", url, s)
		}
	})
}

// TestRedisUnavailable checks that a store whose server went away reports
// ErrUnavailable rather than a wrong answer.
func TestRedisUnavailable(t *testing.T) {
	r := &Redis{client: redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1}), ns: "apigo:", now: time.Now}
	defer r.Close()
	ctx := context.Background()
	checks := []struct {
		op  string
		err error
	}{
		{"Incr", func() error { _, err := r.Incr(ctx, "k", 1, time.Now().Add(time.Minute)); return err }()},
		{"Take", func() error { _, _, err := r.Take(ctx, "k", time.Second, 1, 1, time.Now()); return err }()},
		{"Get", func() error { _, _, err := r.Get(ctx, "k"); return err }()},
		{"KVMKeys", func() error { _, err := r.KVMKeys(ctx, "m"); return err }()},
	}
	for _, c := range checks {
		if !errors.Is(c.err, ErrUnavailable) {
			t.Errorf("%s on an unreachable server = %v, want ErrUnavailable", c.op, c.err)
		}
	}
}

func TestGlobEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a/b", "a/b"},
		{"x*[y]?", `x\*\[y\]\?`},
		{`back\slash^-`, `back\\slash\^\-`},
	}
	for _, tt := range tests {
		if got := globEscape(tt.in); got != tt.want {
			t.Errorf("globEscape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func BenchmarkRedisIncr(b *testing.B) {
	ctx := context.Background()
	r := openTestRedis(b, nil)
	end := time.Now().Add(time.Hour)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := r.Incr(ctx, "quota", 1, end); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkRedisTake(b *testing.B) {
	ctx := context.Background()
	r := openTestRedis(b, nil)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := r.Take(ctx, "spike", time.Microsecond, 1000, 1, time.Now()); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkRedisCacheGet(b *testing.B) {
	ctx := context.Background()
	r := openTestRedis(b, nil)
	r.Set(ctx, "k", make([]byte, 1024), time.Hour)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := r.Get(ctx, "k"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// TestRedisTTLs checks that Redis frees what expires: every key a counter
// or a cache entry with a TTL writes carries a TTL of about its window.
func TestRedisTTLs(t *testing.T) {
	ctx := context.Background()
	r := openTestRedis(t, nil)
	now := time.Now()
	r.Incr(ctx, "q", 1, now.Add(time.Minute))
	r.SlidingIncr(ctx, "s", 1, time.Minute, now)
	r.Take(ctx, "g", time.Minute, 5, 1, now)
	r.Set(ctx, "c", []byte("v"), time.Minute)
	r.SetNX(ctx, "n", []byte("v"), time.Minute)
	for _, key := range []string{r.counterKey("q"), r.slidingKey("s"), r.slidingTotalKey("s"), r.gcraKey("g"), r.cacheKey("c"), r.cacheKey("n")} {
		ttl, err := r.client.PTTL(ctx, key).Result()
		if err != nil || ttl < 50*time.Second || ttl > 62*time.Second {
			t.Errorf("PTTL(%s) = %v, %v, want about a minute", key, ttl, err)
		}
	}
}

// TestRedisSlidingRecovers checks that a rolling window whose running total
// was lost is recomputed from its requests.
func TestRedisSlidingRecovers(t *testing.T) {
	ctx := context.Background()
	r := openTestRedis(t, nil)
	now := time.Now()
	for i := range 3 {
		r.SlidingIncr(ctx, "s", int64(i+1), time.Minute, now)
	}
	r.client.Del(ctx, r.slidingTotalKey("s"))
	if got, err := r.SlidingIncr(ctx, "s", 1, time.Minute, now); err != nil || got != 7 {
		t.Errorf("SlidingIncr after losing the total = %d, %v, want 7", got, err)
	}
	r.client.Del(ctx, r.slidingKey("s"))
	if got, err := r.SlidingIncr(ctx, "s", 1, time.Minute, now); err != nil || got != 1 {
		t.Errorf("SlidingIncr after losing the requests = %d, %v, want 1", got, err)
	}
}
