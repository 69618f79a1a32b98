package apitest

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/apigo/apigo/flow"
)

// Coverage counts, per deployed proxy, which Flows, Steps, RouteRules,
// FaultRules and DefaultFaultRules the cases reached and which outcomes
// (true, false) each condition took. Elements are keyed by source position,
// so files serving the same bundle by the same path add up. It is safe for
// concurrent use.
type Coverage struct {
	mu       sync.Mutex
	elements map[string]*ElementCoverage
}

// NewCoverage returns an empty Coverage.
func NewCoverage() *Coverage {
	return &Coverage{elements: map[string]*ElementCoverage{}}
}

// ElementCoverage is one element and what reached it.
type ElementCoverage struct {
	flow.Element
	// Reached counts the exchanges that selected the Flow, ran the Step,
	// took the RouteRule or ran the FaultRule.
	Reached int `json:"reached"`
	// True and False count the outcomes of the element's condition.
	True  int `json:"true"`
	False int `json:"false"`
}

// AddElements registers the elements of a built engine.
func (c *Coverage) AddElements(els []flow.Element) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, el := range els {
		if _, ok := c.elements[el.ID]; !ok {
			c.elements[el.ID] = &ElementCoverage{Element: el}
		}
	}
}

// AddTrace counts what one exchange reached.
func (c *Coverage) AddTrace(t *flow.Trace) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ev := range t.Events {
		el := c.elements[ev.Element]
		if ev.Element == "" || el == nil {
			continue
		}
		switch {
		case ev.Kind == "condition" && ev.Result != nil:
			if *ev.Result {
				el.True++
			} else {
				el.False++
			}
		case ev.Kind == "flow" && ev.Name == "selected", ev.Kind == "step", ev.Kind == "route", ev.Kind == "faultrule":
			el.Reached++
		}
	}
}

// CoverageReport is coverage per proxy, as --coverage-out writes it.
type CoverageReport struct {
	Bundles []BundleCoverage `json:"bundles"`
}

// BundleCoverage is one proxy's coverage.
type BundleCoverage struct {
	Proxy    string            `json:"proxy"`
	Totals   []KindTotal       `json:"totals"`
	Elements []ElementCoverage `json:"elements"`
}

// KindTotal counts one kind of element (or "condition outcomes": two per
// condition).
type KindTotal struct {
	Kind    string `json:"kind"`
	Reached int    `json:"reached"`
	Total   int    `json:"total"`
}

// coverageKinds are the rows of a report, in order.
var coverageKinds = []string{"Flow", "Step", "RouteRule", "FaultRule", "DefaultFaultRule"}

// outcomesKind names the condition-outcome row.
const outcomesKind = "condition outcome"

// Report summarises what has been counted, proxies and elements sorted.
func (c *Coverage) Report() *CoverageReport {
	c.mu.Lock()
	defer c.mu.Unlock()
	byProxy := map[string][]ElementCoverage{}
	for _, el := range c.elements {
		byProxy[el.Proxy] = append(byProxy[el.Proxy], *el)
	}
	r := &CoverageReport{Bundles: []BundleCoverage{}}
	for proxy, els := range byProxy {
		sort.Slice(els, func(i, j int) bool { return lessID(els[i].ID, els[j].ID) })
		r.Bundles = append(r.Bundles, BundleCoverage{Proxy: proxy, Elements: els, Totals: totals(els)})
	}
	sort.Slice(r.Bundles, func(i, j int) bool { return r.Bundles[i].Proxy < r.Bundles[j].Proxy })
	return r
}

func totals(els []ElementCoverage) []KindTotal {
	out := make([]KindTotal, 0, len(coverageKinds)+1)
	for _, k := range coverageKinds {
		t := KindTotal{Kind: k}
		for _, el := range els {
			if el.Kind == k {
				t.Total++
				if el.Reached > 0 {
					t.Reached++
				}
			}
		}
		out = append(out, t)
	}
	cond := KindTotal{Kind: outcomesKind}
	for _, el := range els {
		if el.Condition != "" {
			cond.Total += 2
			cond.Reached += btoi(el.True > 0) + btoi(el.False > 0)
		}
	}
	return append(out, cond)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// lessID orders file:line:col IDs by file, then numerically.
func lessID(a, b string) bool {
	fa, la, ca := splitID(a)
	fb, lb, cb := splitID(b)
	if fa != fb {
		return fa < fb
	}
	if la != lb {
		return la < lb
	}
	return ca < cb
}

// splitID splits file:LINE:COL; a file name may itself hold colons.
func splitID(id string) (file string, line, col int) {
	i := strings.LastIndexByte(id, ':')
	if i < 0 {
		return id, 0, 0
	}
	j := strings.LastIndexByte(id[:i], ':')
	if j < 0 {
		return id, 0, 0
	}
	l, err1 := strconv.Atoi(id[j+1 : i])
	c, err2 := strconv.Atoi(id[i+1:])
	if err1 != nil || err2 != nil {
		return id, 0, 0
	}
	return id[:j], l, c
}

// WriteJSON writes the report as indented JSON.
func (r *CoverageReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes, per proxy, a table of totals, the elements never
// reached and the condition outcomes never seen.
func (r *CoverageReport) WriteText(w io.Writer) {
	for _, b := range r.Bundles {
		fmt.Fprintf(w, "coverage of proxy %s:\n", b.Proxy)
		for _, t := range b.Totals {
			fmt.Fprintf(w, "  %-19s %4d/%-4d %s\n", t.Kind+"s", t.Reached, t.Total, percent(t.Reached, t.Total))
		}
		var missed, outcomes []string
		for _, el := range b.Elements {
			where := fmt.Sprintf("%s %s (%s)", el.Kind, el.Name, el.Endpoint)
			if el.Reached == 0 {
				missed = append(missed, fmt.Sprintf("%s  %s", el.ID, where))
			}
			if el.Condition != "" && (el.True == 0 || el.False == 0) {
				outcomes = append(outcomes, fmt.Sprintf("%s  %s: %s  %q", el.ID, where, never(el), el.Condition))
			}
		}
		writeList(w, "never reached", missed)
		writeList(w, "condition outcomes never seen", outcomes)
	}
}

func never(el ElementCoverage) string {
	switch {
	case el.True == 0 && el.False == 0:
		return "never evaluated"
	case el.True == 0:
		return "never true"
	}
	return "never false"
}

func writeList(w io.Writer, title string, lines []string) {
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(w, "  %s:\n", title)
	for _, l := range lines {
		fmt.Fprintf(w, "    %s\n", l)
	}
}

func percent(n, total int) string {
	if total == 0 {
		return "   -"
	}
	return fmt.Sprintf("%3d%%", n*100/total)
}
