package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisOptions configure NewRedis.
type RedisOptions struct {
	// Prefix is added after "apigo:" to every key, so that several apigo
	// deployments can share one Redis; "" means none. A URL query parameter
	// prefix=NAME sets it too.
	Prefix string
	// Now is the clock for expiry decisions; nil means time.Now. Instances
	// sharing a Redis should have clocks in step, as Apigee's do.
	Now func() time.Time
}

// Redis is a Store kept in a Redis server, shared by every apigo instance
// that uses the same server and prefix. Counter updates are Lua scripts
// (atomic in Redis); cache entries are strings with TTLs, KVMs hashes.
type Redis struct {
	client *redis.Client
	ns     string // "apigo:" + prefix
	now    func() time.Time
	nonce  string // makes sliding-window members unique across instances
	seq    atomic.Uint64
}

var _ Store = (*Redis)(nil)

// NewRedis connects to the server at rawURL (redis://[user:password@]host:port/db
// or rediss:// for TLS, with go-redis's query options such as
// dial_timeout) and pings it; an unreachable server is an error wrapping
// ErrUnavailable.
func NewRedis(rawURL string, opts RedisOptions) (*Redis, error) {
	rawURL, urlPrefix, err := splitPrefix(rawURL)
	if err != nil {
		return nil, err
	}
	ro, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("store: bad Redis URL %s: %w", redact(rawURL), err)
	}
	prefix := opts.Prefix
	if prefix == "" {
		prefix = urlPrefix
	}
	r := &Redis{client: redis.NewClient(ro), ns: namespace(prefix), now: opts.Now, nonce: newNonce()}
	if r.now == nil {
		r.now = time.Now
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.client.Ping(ctx).Err(); err != nil {
		r.client.Close()
		return nil, fmt.Errorf("store: Redis at %s does not answer: %w: %w", redact(rawURL), ErrUnavailable, err)
	}
	return r, nil
}

// splitPrefix takes apigo's own prefix parameter out of a Redis URL, since
// go-redis rejects query options it does not know.
func splitPrefix(rawURL string) (rest, prefix string, err error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", "", fmt.Errorf("store: bad Redis URL: %w", err)
	}
	q := u.Query()
	if !q.Has("prefix") {
		return rawURL, "", nil
	}
	prefix = q.Get("prefix")
	q.Del("prefix")
	u.RawQuery = q.Encode()
	return u.String(), prefix, nil
}

func redact(rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil {
		return u.Redacted()
	}
	return "(unparsable URL)"
}

func namespace(prefix string) string {
	if prefix != "" && !strings.HasSuffix(prefix, ":") {
		prefix += ":"
	}
	return "apigo:" + prefix
}

func newNonce() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Close implements Store.
func (r *Redis) Close() error { return r.client.Close() }

// Key spaces inside the namespace, one per kind of data.
func (r *Redis) counterKey(key string) string { return r.ns + "c:" + key }
func (r *Redis) slidingKey(key string) string { return r.ns + "s:" + key }
func (r *Redis) slidingTotalKey(key string) string {
	return r.ns + "st:" + key
}
func (r *Redis) gcraKey(key string) string  { return r.ns + "g:" + key }
func (r *Redis) cacheKey(key string) string { return r.ns + "k:" + key }
func (r *Redis) kvmKey(mapID string) string { return r.ns + "m:" + mapID }

// micros is a time in Unix microseconds, as the scripts take it.
func micros(t time.Time) string { return strconv.FormatInt(t.UnixMicro(), 10) }

// fail wraps a Redis error: errors of reaching the server wrap
// ErrUnavailable; errors the server replied with do not (they are bugs).
func fail(op string, err error) error {
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("store: redis %s: %w", op, err)
	}
	var reply redis.Error
	if errors.As(err, &reply) && !unavailableReply(err.Error()) {
		return fmt.Errorf("store: redis %s: %w", op, err)
	}
	return fmt.Errorf("store: redis %s: %w: %w", op, ErrUnavailable, err)
}

// unavailableReply tells the replies of a server that cannot serve yet.
func unavailableReply(msg string) bool {
	for _, p := range []string{"LOADING", "READONLY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "BUSY"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// Incr implements Counters.
func (r *Redis) Incr(ctx context.Context, key string, delta int64, expireAt time.Time) (int64, error) {
	n, err := incrScript.Run(ctx, r.client, []string{r.counterKey(key)},
		delta, micros(expireAt), micros(r.now())).Int64()
	if err != nil {
		return 0, fail("Incr", err)
	}
	return n, nil
}

// Peek implements Counters.
func (r *Redis) Peek(ctx context.Context, key string) (int64, error) {
	vals, err := r.client.HMGet(ctx, r.counterKey(key), "n", "e").Result()
	if err != nil {
		return 0, fail("Peek", err)
	}
	n, _ := vals[0].(string)
	e, _ := vals[1].(string)
	end, err := strconv.ParseInt(e, 10, 64)
	if err != nil || end <= r.now().UnixMicro() {
		return 0, nil
	}
	return strconv.ParseInt(n, 10, 64)
}

// SlidingIncr implements Counters.
func (r *Redis) SlidingIncr(ctx context.Context, key string, delta int64, window time.Duration, now time.Time) (int64, error) {
	member := strconv.FormatInt(delta, 10) + ":" + r.nonce + strconv.FormatUint(r.seq.Add(1), 36)
	ttl := window.Milliseconds() + 1000
	n, err := slidingScript.Run(ctx, r.client, []string{r.slidingKey(key), r.slidingTotalKey(key)},
		delta, micros(now.Add(-window)), micros(now), member, ttl).Int64()
	if err != nil {
		return 0, fail("SlidingIncr", err)
	}
	return n, nil
}

// Take implements Counters.
func (r *Redis) Take(ctx context.Context, key string, interval time.Duration, burst, cost int64, now time.Time) (bool, time.Duration, error) {
	res, err := gcraScript.Run(ctx, r.client, []string{r.gcraKey(key)},
		micros(now), max(interval.Microseconds(), 1), burst, cost).Int64Slice()
	if err != nil {
		return false, 0, fail("Take", err)
	}
	if len(res) != 2 {
		return false, 0, fmt.Errorf("store: redis Take: unexpected reply %v", res)
	}
	return res[0] == 1, time.Duration(res[1]) * time.Microsecond, nil
}

// Cache entries are "expireAt:value", expireAt in Unix microseconds by the
// caller's clock (0: never), stored with the same TTL for Redis to drop
// them.
func (r *Redis) envelope(value []byte, ttl time.Duration) ([]byte, int64) {
	exp, ms := "0", int64(0)
	if ttl > 0 {
		exp = micros(r.now().Add(ttl))
		ms = max(int64((ttl+time.Millisecond-1)/time.Millisecond), 1)
	}
	b := make([]byte, 0, len(exp)+1+len(value))
	b = append(append(append(b, exp...), ':'), value...)
	return b, ms
}

// Get implements Cache.
func (r *Redis) Get(ctx context.Context, key string) ([]byte, bool, error) {
	b, err := r.client.Get(ctx, r.cacheKey(key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fail("Get", err)
	}
	exp, value, ok := bytes.Cut(b, []byte{':'})
	if !ok {
		return nil, false, nil
	}
	end, err := strconv.ParseInt(string(exp), 10, 64)
	if err != nil || (end != 0 && end <= r.now().UnixMicro()) {
		return nil, false, nil
	}
	return value, true, nil
}

// Set implements Cache.
func (r *Redis) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	b, ms := r.envelope(value, ttl)
	if err := r.client.Set(ctx, r.cacheKey(key), b, time.Duration(ms)*time.Millisecond).Err(); err != nil {
		return fail("Set", err)
	}
	return nil
}

// SetNX implements Cache.
func (r *Redis) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	b, ms := r.envelope(value, ttl)
	n, err := setNXScript.Run(ctx, r.client, []string{r.cacheKey(key)}, b, micros(r.now()), ms).Int64()
	if err != nil {
		return false, fail("SetNX", err)
	}
	return n == 1, nil
}

// Delete implements Cache.
func (r *Redis) Delete(ctx context.Context, key string) error {
	if err := r.client.Unlink(ctx, r.cacheKey(key)).Err(); err != nil {
		return fail("Delete", err)
	}
	return nil
}

// DeletePrefix implements Cache with SCAN and UNLINK, a batch at a time, so
// Redis is never blocked on a large cache.
func (r *Redis) DeletePrefix(ctx context.Context, prefix string) error {
	match := globEscape(r.cacheKey(prefix)) + "*"
	var cursor uint64
	for {
		keys, next, err := r.client.Scan(ctx, cursor, match, 1000).Result()
		if err != nil {
			return fail("DeletePrefix", err)
		}
		if len(keys) > 0 {
			if err := r.client.Unlink(ctx, keys...).Err(); err != nil {
				return fail("DeletePrefix", err)
			}
		}
		if cursor = next; cursor == 0 {
			return nil
		}
	}
}

// globEscape quotes the characters SCAN MATCH patterns give a meaning.
func globEscape(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`*?[]\^-`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// KVMGet implements KVM.
func (r *Redis) KVMGet(ctx context.Context, mapID, key string) (string, bool, error) {
	v, err := r.client.HGet(ctx, r.kvmKey(mapID), key).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fail("KVMGet", err)
	}
	return v, true, nil
}

// KVMPut implements KVM.
func (r *Redis) KVMPut(ctx context.Context, mapID, key, value string, override bool) (bool, error) {
	if override {
		if err := r.client.HSet(ctx, r.kvmKey(mapID), key, value).Err(); err != nil {
			return false, fail("KVMPut", err)
		}
		return true, nil
	}
	stored, err := r.client.HSetNX(ctx, r.kvmKey(mapID), key, value).Result()
	if err != nil {
		return false, fail("KVMPut", err)
	}
	return stored, nil
}

// KVMDelete implements KVM.
func (r *Redis) KVMDelete(ctx context.Context, mapID, key string) error {
	if err := r.client.HDel(ctx, r.kvmKey(mapID), key).Err(); err != nil {
		return fail("KVMDelete", err)
	}
	return nil
}

// KVMKeys implements KVM.
func (r *Redis) KVMKeys(ctx context.Context, mapID string) ([]string, error) {
	keys, err := r.client.HKeys(ctx, r.kvmKey(mapID)).Result()
	if err != nil {
		return nil, fail("KVMKeys", err)
	}
	slices.Sort(keys)
	return keys, nil
}
