package template

import (
	"fmt"
	"sync"
	"testing"
)

// TestConcurrentRender renders one template from many goroutines, with patterns held
// in variables so the shared compile caches are exercised (run with -race).
func TestConcurrentRender(t *testing.T) {
	tp := MustParse(`{replaceAll(s,re,'-')}|{jsonPath(p,j)}|{jsonPath($..b[?(@.n>1)].v,j)}|{timeFormatUTCMs(f,ts)}|{xpath(x,doc)}|{a}`)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				k := (g + i) % 5
				v := MapVars{
					"s": "a1b2", "re": fmt.Sprintf("[0-%d]", k+1), "p": fmt.Sprintf("$.a[%d]", k%2),
					"j": `{"a":["x","y"],"b":[{"n":1,"v":"no"},{"n":2,"v":"ok"}]}`, "f": "yyyy", "ts": int64(1700000000000),
					"x": "/r/v", "doc": "<r><v>9</v></r>", "a": k,
				}
				want := fmt.Sprintf("a-b%s|%s|ok|2023|<v>9</v>|%d", map[bool]string{true: "-", false: "2"}[k >= 1], []string{"x", "y"}[k%2], k)
				if got := tp.Render(v); got != want {
					t.Errorf("Render = %q, want %q", got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}
