package httptarget

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/apigo/apigo/policy/exchange"
)

func TestRoundRobinAlternates(t *testing.T) {
	a, b, c := newBackend(t, "a"), newBackend(t, "b"), newBackend(t, "c")
	conn := build(t, lbXML("", `<Server name="A"/>`, `<Server name="B"/>`, `<Server name="C"/>`),
		env(ts(t, "A", a), ts(t, "B", b), ts(t, "C", c)), Options{})
	var got []string
	for range 9 {
		got = append(got, sendName(t, conn))
	}
	want := []string{"a", "b", "c", "a", "b", "c", "a", "b", "c"}
	if !slices.Equal(got, want) {
		t.Errorf("RoundRobin picks = %v, want %v", got, want)
	}
}

func TestSendPathAndInfo(t *testing.T) {
	a := newBackend(t, "a")
	conn := build(t, lbXML("", `<Server name="A"/>`), env(ts(t, "A", a)), Options{})
	if conn.Path() == nil || conn.Path().String() != "/api" {
		t.Fatalf("Path() = %v, want /api", conn.Path())
	}
	m, info, err := get(t, conn, "/api/items?q=1")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(m.Body), "a GET /api/items?q=1"; got != want {
		t.Errorf("body = %q, want %q", got, want)
	}
	h, p := hostPort(t, a.srv.URL)
	if info.Server != "A" || info.Host != h || info.Port != p || info.Scheme != "http" || info.IsFallback || len(info.FailedServers) != 0 {
		t.Errorf("Info = %+v, want server A at %s:%d over http", info, h, p)
	}
	if info.URL != a.srv.URL+"/api/items?q=1" {
		t.Errorf("Info.URL = %q, want %q", info.URL, a.srv.URL+"/api/items?q=1")
	}
}

func TestWeightedProportion(t *testing.T) {
	a, b := newBackend(t, "a"), newBackend(t, "b")
	conn := build(t, lbXML("<Algorithm>Weighted</Algorithm>",
		`<Server name="A"><Weight>2</Weight></Server>`, `<Server name="B"/>`),
		env(ts(t, "A", a), ts(t, "B", b)), Options{})
	const cycles = 20
	for i := range cycles {
		var got []string
		for range 3 {
			got = append(got, sendName(t, conn))
		}
		// Smooth weighted round robin: each cycle of 3 holds A twice, B once.
		slices.Sort(got)
		if !slices.Equal(got, []string{"a", "a", "b"}) {
			t.Fatalf("cycle %d picks = %v, want two a and one b", i, got)
		}
	}
	if a.hits.Load() != 2*cycles || b.hits.Load() != cycles {
		t.Errorf("hits a=%d b=%d, want %d and %d", a.hits.Load(), b.hits.Load(), 2*cycles, cycles)
	}
}

func TestWeightedSequence(t *testing.T) {
	tests := []struct {
		weights []int
		want    string
	}{
		{[]int{5, 1, 1}, "aabacaa"},
		{[]int{2, 1}, "aba"},
		{[]int{4, 2}, "aba"}, // divided by the gcd
		{[]int{1, 1, 1}, "abc"},
	}
	for _, tt := range tests {
		var servers []*Server
		for i, w := range tt.weights {
			servers = append(servers, &Server{index: i, weight: w, enabled: true})
		}
		w := NewWeighted(servers)
		var got strings.Builder
		for range len(tt.want) {
			got.WriteByte(byte('a' + w.Pick(servers, w.full)))
		}
		if got.String() != tt.want {
			t.Errorf("NewWeighted(%v) picks %q, want %q", tt.weights, got.String(), tt.want)
		}
	}
}

func TestWeightedDegradedKeepsProportion(t *testing.T) {
	servers := []*Server{{index: 0, weight: 3}, {index: 1, weight: 1}, {index: 2, weight: 2}}
	w := NewWeighted(servers)
	counts := map[int]int{}
	for range 300 {
		counts[w.Pick(servers, 0b101)]++ // server 1 out of rotation
	}
	if counts[0] != 180 || counts[2] != 120 || counts[1] != 0 {
		t.Errorf("picks among servers 0 (weight 3) and 2 (weight 2) = %v, want 180/120", counts)
	}
}

func TestLeastConnectionsAvoidsBusyServer(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			entered <- struct{}{}
			<-release
		}
		w.Header().Set("X-Server", "slow")
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })
	b := newBackend(t, "b")
	h, p := hostPort(t, slow.URL)
	e := env(ts(t, "B", b))
	e.TargetServers["S"] = ts(t, "S", b)
	e.TargetServers["S"].Host, e.TargetServers["S"].Port = h, p
	conn := build(t, lbXML("<Algorithm>LeastConnections</Algorithm>", `<Server name="S"/>`, `<Server name="B"/>`), e, Options{})

	done := make(chan error, 1)
	go func() {
		_, _, err := conn.Send(context.Background(), exchange.NewRequest(), "/slow", false)
		done <- err
	}()
	<-entered // S (listed first, tie) holds one request in flight
	if n := conn.Servers()[0].InFlight(); n != 1 {
		t.Fatalf("S in flight = %d, want 1", n)
	}
	for i := range 5 {
		if got := sendName(t, conn); got != "b" {
			t.Errorf("request %d went to %q, want b (S is busy)", i, got)
		}
	}
	release <- struct{}{}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := conn.Servers()[0].InFlight(); n != 0 {
		t.Errorf("S in flight after the slow request = %d, want 0", n)
	}
	if got := sendName(t, conn); got != "slow" {
		t.Errorf("with no load the tie goes to %q, want slow (listed first)", got)
	}
}
