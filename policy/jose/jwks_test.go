package jose

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apigo/apigo/policy/httptarget"
)

const oneKeyJWKS = `{"keys":[{"kty":"oct","kid":"h1","k":"` + rfcKey + `"}]}`

func TestFetcherCachesSharesAndRetriesFailures(t *testing.T) {
	var hits atomic.Int32
	var fail atomic.Bool
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		<-release
		if fail.Load() {
			http.Error(w, "down", 503)
			return
		}
		w.Write([]byte(oneKeyJWKS))
	}))
	defer srv.Close()
	now := time.Unix(1e9, 0)
	var mu sync.Mutex
	f := &Fetcher{
		MapURL: []httptarget.URLMap{{From: "https://idp", To: srv.URL}},
		Now:    func() time.Time { mu.Lock(); defer mu.Unlock(); return now },
		TTL:    time.Minute,
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			set, err := f.Get(context.Background(), "https://idp/jwks")
			if err != nil || len(set.Keys) != 1 {
				t.Errorf("Get = %v, %v; want one key", set, err)
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	if n := hits.Load(); n != 1 {
		t.Errorf("8 concurrent misses made %d fetches, want 1", n)
	}
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	fail.Store(true)
	if _, err := f.Get(context.Background(), "https://idp/jwks"); err == nil {
		t.Error("Get after expiry with the IdP down = nil error, want one")
	}
	fail.Store(false)
	if _, err := f.Get(context.Background(), "https://idp/jwks"); err != nil {
		t.Errorf("Get after the IdP recovered = %v, want the set (failures are not cached)", err)
	}
	if n := hits.Load(); n != 3 {
		t.Errorf("fetches = %d, want 3", n)
	}
}

func TestSelectKey(t *testing.T) {
	set, err := ParseJWKS([]byte(oneKeyJWKS))
	if err != nil {
		t.Fatal(err)
	}
	hs, _ := LookupAlgorithm("HS256")
	rs, _ := LookupAlgorithm("RS256")
	if k, err := SelectKey(set, "h1", hs); err != nil || len(k.([]byte)) != 64 {
		t.Errorf("SelectKey(h1, HS256) = %v, %v; want the 64-byte secret", k, err)
	}
	for _, tc := range []struct {
		kid string
		a   Algorithm
	}{{"h2", hs}, {"h1", rs}} {
		if _, err := SelectKey(set, tc.kid, tc.a); err != ErrNoMatchingKey {
			t.Errorf("SelectKey(%s, %s) = %v, want ErrNoMatchingKey", tc.kid, tc.a.Name, err)
		}
	}
}
