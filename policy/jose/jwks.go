package jose

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	gojose "github.com/go-jose/go-jose/v4"

	"github.com/apigo/apigo/policy/httptarget"
)

// DefaultJWKSTTL is how long a fetched JWKS is kept [?]: Apigee caches a
// JWKS for five minutes.
const DefaultJWKSTTL = 5 * time.Minute

// maxJWKSSize bounds a JWKS response (1 MiB).
const maxJWKSSize = 1 << 20

// Fetcher gets JWK sets by URL and keeps each for TTL. It is safe for
// concurrent use; concurrent misses on one URL share one fetch.
type Fetcher struct {
	// Transport sends the requests; nil means http.DefaultTransport.
	Transport http.RoundTripper
	// MapURL rewrites URLs before the request (--map-url); the first
	// matching prefix wins.
	MapURL []httptarget.URLMap
	// Now is the cache clock; nil means time.Now.
	Now func() time.Time
	// TTL is how long a set is kept; zero means DefaultJWKSTTL.
	TTL time.Duration
	// Timeout bounds one fetch; zero means 10 seconds.
	Timeout time.Duration

	mu      sync.Mutex
	entries map[string]*jwksEntry
}

type jwksEntry struct {
	ready   chan struct{} // closed when set/err are final
	set     *gojose.JSONWebKeySet
	err     error
	expires time.Time
}

// Get returns the set at url, from the cache when fresh. A failed fetch is
// not cached.
func (f *Fetcher) Get(ctx context.Context, url string) (*gojose.JSONWebKeySet, error) {
	now := f.now()
	f.mu.Lock()
	if f.entries == nil {
		f.entries = map[string]*jwksEntry{}
	}
	e, ok := f.entries[url]
	if ok {
		select {
		case <-e.ready:
			if e.err == nil && now.Before(e.expires) {
				f.mu.Unlock()
				return e.set, nil
			}
			ok = false
		default: // a fetch is under way: wait for it below
		}
	}
	if !ok {
		e = &jwksEntry{ready: make(chan struct{})}
		f.entries[url] = e
		f.mu.Unlock()
		e.set, e.err = f.fetch(ctx, url)
		e.expires = f.now().Add(f.ttl())
		if e.err != nil {
			f.mu.Lock()
			if f.entries[url] == e {
				delete(f.entries, url)
			}
			f.mu.Unlock()
		}
		close(e.ready)
		return e.set, e.err
	}
	f.mu.Unlock()
	select {
	case <-e.ready:
		return e.set, e.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (f *Fetcher) fetch(ctx context.Context, url string) (*gojose.JSONWebKeySet, error) {
	target := url
	for _, m := range f.MapURL {
		if strings.HasPrefix(target, m.From) {
			target = m.To + target[len(m.From):]
			break
		}
	}
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, fmt.Errorf("JWKS %s: %w", url, err)
	}
	req.Header.Set("Accept", "application/json")
	rt := f.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("JWKS %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("JWKS %s: status %d", url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSSize+1))
	if err != nil {
		return nil, fmt.Errorf("JWKS %s: %w", url, err)
	}
	if len(body) > maxJWKSSize {
		return nil, fmt.Errorf("JWKS %s: larger than %d bytes", url, maxJWKSSize)
	}
	return ParseJWKS(body)
}

func (f *Fetcher) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

func (f *Fetcher) ttl() time.Duration {
	if f.TTL > 0 {
		return f.TTL
	}
	return DefaultJWKSTTL
}
