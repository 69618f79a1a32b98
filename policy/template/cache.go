package template

import (
	"sync"
	"sync/atomic"
)

// compileCache memoizes compilations of patterns that are only known at render time
// (a regex, JSONPath, XPath or date format held in a flow variable). It is bounded: past
// maxCached entries new patterns are compiled but not stored.
type compileCache[T any] struct {
	m     sync.Map
	n     atomic.Int32
	build func(string) (T, error)
}

const maxCached = 1024

type cacheEntry[T any] struct {
	v   T
	err error
}

func newCache[T any](build func(string) (T, error)) *compileCache[T] {
	return &compileCache[T]{build: build}
}

func (c *compileCache[T]) get(key string) (T, error) {
	if x, ok := c.m.Load(key); ok {
		e := x.(*cacheEntry[T])
		return e.v, e.err
	}
	v, err := c.build(key)
	if c.n.Load() < maxCached {
		if _, loaded := c.m.LoadOrStore(key, &cacheEntry[T]{v, err}); !loaded {
			c.n.Add(1)
		}
	}
	return v, err
}
