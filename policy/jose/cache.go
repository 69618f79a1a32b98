package jose

import (
	"sync"
	"sync/atomic"
)

// KeyCache memoizes key parsing by the key's text, so a key held in a
// flow variable (the usual <Value ref="private.key"/>) is parsed once, not
// per request. It keeps at most MaxKeyCacheEntries results and then
// parses without caching. Safe for concurrent use; the zero value is
// ready.
type KeyCache struct {
	m sync.Map // cacheKey -> cached
	n atomic.Int32
}

// MaxKeyCacheEntries bounds a KeyCache.
const MaxKeyCacheEntries = 256

type cacheKey struct {
	kind       byte
	text, pass string
}

type cached struct {
	v   any
	err error
}

func (c *KeyCache) get(k cacheKey, parse func() (any, error)) (any, error) {
	if v, ok := c.m.Load(k); ok {
		e := v.(cached)
		return e.v, e.err
	}
	v, err := parse()
	if c.n.Load() < MaxKeyCacheEntries {
		if _, loaded := c.m.LoadOrStore(k, cached{v, err}); !loaded {
			c.n.Add(1)
		}
	}
	return v, err
}

// PublicKey is ParsePublicKey, cached.
func (c *KeyCache) PublicKey(text string) (any, error) {
	return c.get(cacheKey{'p', text, ""}, func() (any, error) { return ParsePublicKey(text) })
}

// Certificate is ParseCertificate, cached.
func (c *KeyCache) Certificate(text string) (any, error) {
	return c.get(cacheKey{'c', text, ""}, func() (any, error) { return ParseCertificate(text) })
}

// PrivateKey is ParsePrivateKey, cached.
func (c *KeyCache) PrivateKey(text, password string) (any, error) {
	return c.get(cacheKey{'k', text, password}, func() (any, error) { return ParsePrivateKey(text, password) })
}

// JWKS is ParseJWKS, cached.
func (c *KeyCache) JWKS(text string) (*KeySet, error) {
	v, err := c.get(cacheKey{'j', text, ""}, func() (any, error) { return ParseJWKS([]byte(text)) })
	if err != nil {
		return nil, err
	}
	return v.(*KeySet), nil
}
