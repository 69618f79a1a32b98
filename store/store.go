// Package store keeps what policies remember between requests: counters
// with windows (Quota, SpikeArrest), cache entries with expiry (the cache
// policies), key value maps (KeyValueMapOperations) and tokens (OAuthV2).
// Two implementations share the interface: Memory, the default, and Redis,
// so that several apigo instances share quotas, caches, KVMs and tokens
// exactly. Counter updates are atomic in both (Lua scripts in Redis, never
// read-modify-write).
package store

import (
	"context"
	"errors"
	"time"
)

// Store is safe for concurrent use. Keys are opaque strings built by the
// policies (they include the scope: org, env, proxy, policy); a Store adds
// its own namespace prefix.
type Store interface {
	Counters
	Cache
	KVM
	// Close releases connections and background goroutines.
	Close() error
}

// Counters back Quota and SpikeArrest.
type Counters interface {
	// Incr adds delta to a fixed-window counter and returns the new total.
	// The counter expires at expireAt (the end of its window); a key whose
	// window has passed starts again from zero.
	Incr(ctx context.Context, key string, delta int64, expireAt time.Time) (int64, error)
	// SlidingIncr adds delta at time now to a rolling-window counter and
	// returns the total over (now-window, now], this request included.
	SlidingIncr(ctx context.Context, key string, delta int64, window time.Duration, now time.Time) (int64, error)
	// Take is a generic cell rate limiter (GCRA): one unit is admitted every
	// interval, with up to burst units admitted at once; cost units are taken
	// when allowed. It returns whether the request is admitted and, when
	// not, how long until it would be.
	Take(ctx context.Context, key string, interval time.Duration, burst, cost int64, now time.Time) (allowed bool, retryAfter time.Duration, err error)
	// Peek returns a fixed-window counter's current total (0 when absent).
	Peek(ctx context.Context, key string) (int64, error)
}

// Cache backs ResponseCache, LookupCache, PopulateCache, InvalidateCache and
// token storage.
type Cache interface {
	// Get returns an entry and whether it exists and has not expired.
	Get(ctx context.Context, key string) ([]byte, bool, error)
	// Set stores an entry; ttl <= 0 means no expiry.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// SetNX stores an entry only when the key is absent, reporting whether
	// it did.
	SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error)
	// Delete removes an entry (no error when absent).
	Delete(ctx context.Context, key string) error
	// DeletePrefix removes every entry whose key starts with prefix
	// (InvalidateCache PurgeChildEntries).
	DeletePrefix(ctx context.Context, prefix string) error
}

// KVM backs KeyValueMapOperations. A map is identified by a string the
// policy builds from scope, owner and map name.
type KVM interface {
	// KVMGet returns a map entry's value.
	KVMGet(ctx context.Context, mapID, key string) (string, bool, error)
	// KVMPut stores a value; with override false an existing value is kept
	// and stored reports false.
	KVMPut(ctx context.Context, mapID, key, value string, override bool) (stored bool, err error)
	// KVMDelete removes an entry (no error when absent).
	KVMDelete(ctx context.Context, mapID, key string) error
	// KVMKeys lists a map's keys, sorted.
	KVMKeys(ctx context.Context, mapID string) ([]string, error)
}

// ErrUnavailable wraps errors from a store that cannot be reached; policies
// turn it into their ExecutionFailed faults.
var ErrUnavailable = errors.New("store unavailable")
