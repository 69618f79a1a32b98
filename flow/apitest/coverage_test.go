package apitest

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestCoverageHandCounted runs testdata/shop.test.yaml (3 cases) and
// compares with counts made by hand from the bundle:
//
//	case 1 GET /orders/7 with a key: RF-MissingKey's condition false; Flow
//	  get-order true (selected, AM-Source runs); RouteRule stock-only false,
//	  backend taken.
//	case 2 GET /stock/a1 with a key: RF-MissingKey false; get-order false;
//	  stock true (SC-Stock, AM-Stock run); stock-only true.
//	case 3 no key: RF-MissingKey true (runs, faults); FaultRule missing-key
//	  true (AM-KeyHint runs); no DefaultFaultRule (a FaultRule ran).
func TestCoverageHandCounted(t *testing.T) {
	cov := NewCoverage()
	_, s := runPaths(t, &Runner{Coverage: cov}, "testdata/shop.test.yaml")
	if s.Passed != 3 {
		t.Fatalf("summary %+v", s)
	}
	rep := cov.Report()
	if len(rep.Bundles) != 1 || rep.Bundles[0].Proxy != "orders" {
		t.Fatalf("bundles = %+v, want orders only", rep.Bundles)
	}
	b := rep.Bundles[0]
	wantTotals := map[string][2]int{
		"Flow": {2, 2}, "Step": {5, 7}, "RouteRule": {2, 2}, "FaultRule": {1, 2}, "DefaultFaultRule": {0, 1}, outcomesKind: {8, 12},
	}
	for _, kt := range b.Totals {
		if w := wantTotals[kt.Kind]; [2]int{kt.Reached, kt.Total} != w {
			t.Errorf("%s: %d/%d, want %d/%d", kt.Kind, kt.Reached, kt.Total, w[0], w[1])
		}
	}
	// reached, true, false
	wantElements := map[string][3]int{
		"Step RF-MissingKey":             {1, 1, 2},
		"Flow get-order":                 {1, 1, 1},
		"Flow stock":                     {1, 1, 0},
		"Step AM-Source":                 {1, 0, 0},
		"Step SC-Stock":                  {1, 0, 0},
		"Step AM-Stock":                  {1, 0, 0},
		"RouteRule stock-only":           {1, 1, 1},
		"RouteRule backend":              {1, 0, 0},
		"FaultRule missing-key":          {1, 1, 0},
		"Step AM-KeyHint":                {1, 0, 0},
		"DefaultFaultRule default-fault": {0, 0, 0},
		"Step AM-FaultHeader":            {0, 0, 0},
		"FaultRule target-down":          {0, 0, 0},
		"Step AM-TargetDown":             {0, 0, 0},
	}
	if len(b.Elements) != len(wantElements) {
		t.Errorf("%d elements, want %d", len(b.Elements), len(wantElements))
	}
	for _, el := range b.Elements {
		key := el.Kind + " " + el.Name
		w, ok := wantElements[key]
		if !ok {
			t.Errorf("unexpected element %s at %s", key, el.ID)
			continue
		}
		if got := [3]int{el.Reached, el.True, el.False}; got != w {
			t.Errorf("%s: reached, true, false = %v, want %v", key, got, w)
		}
	}
}

// TestCoverageAddsUp: two files serving the same bundle count together.
func TestCoverageAddsUp(t *testing.T) {
	cov := NewCoverage()
	runPaths(t, &Runner{Coverage: cov}, "testdata/shop.test.yaml", "testdata/mocks.test.yaml")
	b := cov.Report().Bundles
	if len(b) != 1 {
		t.Fatalf("%d bundles, want 1 (same bundle, same path)", len(b))
	}
	for _, kt := range b[0].Totals {
		// mocks.test.yaml reaches the target FaultRule and the DefaultFaultRule.
		if (kt.Kind == "FaultRule" || kt.Kind == "DefaultFaultRule") && kt.Reached != kt.Total {
			t.Errorf("%s: %d/%d, want all reached", kt.Kind, kt.Reached, kt.Total)
		}
	}
}

func TestCoverageOutput(t *testing.T) {
	cov := NewCoverage()
	runPaths(t, &Runner{Coverage: cov}, "testdata/shop.test.yaml")
	rep := cov.Report()
	var text bytes.Buffer
	rep.WriteText(&text)
	for _, want := range []string{
		"coverage of proxy orders:\n",
		"  Steps                  5/7     71%\n",
		"  condition outcomes     8/12    66%\n",
		"  never reached:\n",
		"proxies/default.xml:38:3  DefaultFaultRule default-fault (ProxyEndpoint default)\n",
		`targets/default.xml:7:5  FaultRule target-down (TargetEndpoint default): never evaluated`,
		`proxies/default.xml:18:5  Flow stock (ProxyEndpoint default): never false  "proxy.pathsuffix MatchesPath \"/stock/*\""`,
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back CoverageReport
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Bundles) != 1 || len(back.Bundles[0].Elements) != 14 || back.Bundles[0].Elements[0].ID == "" {
		t.Errorf("JSON report read back = %+v", back)
	}
}

func TestSplitID(t *testing.T) {
	tests := []struct {
		id        string
		file      string
		line, col int
	}{
		{"a/b.xml:12:5", "a/b.xml", 12, 5},
		{"x.zip!apiproxy/p.xml:3:1", "x.zip!apiproxy/p.xml", 3, 1},
		{"C:/w/p.xml:3:1", "C:/w/p.xml", 3, 1},
		{"nocolon", "nocolon", 0, 0},
	}
	for _, tt := range tests {
		f, l, c := splitID(tt.id)
		if f != tt.file || l != tt.line || c != tt.col {
			t.Errorf("splitID(%q) = %q, %d, %d, want %q, %d, %d", tt.id, f, l, c, tt.file, tt.line, tt.col)
		}
	}
	if !lessID("a.xml:9:1", "a.xml:10:1") {
		t.Error("lessID must compare lines as numbers")
	}
}
