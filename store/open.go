package store

import (
	"fmt"
	"strings"
	"time"
)

// Open opens the store a --store flag names: "" or "memory" for a Memory
// store, redis://host:port/db or rediss://host:port/db for a Redis one
// (pinged at open; add ?prefix=NAME to share a server between
// deployments). now is the clock; nil means time.Now.
func Open(spec string, now func() time.Time) (Store, error) {
	switch {
	case spec == "" || spec == "memory":
		return NewMemory(MemoryOptions{Now: now}), nil
	case strings.HasPrefix(spec, "redis://") || strings.HasPrefix(spec, "rediss://"):
		r, err := NewRedis(spec, RedisOptions{Now: now})
		if err != nil {
			return nil, err
		}
		return r, nil
	}
	return nil, fmt.Errorf("store: unknown store %q: want \"memory\" or redis://host:port/db", redact(spec))
}
