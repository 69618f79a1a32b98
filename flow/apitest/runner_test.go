package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// collector is a Reporter that keeps everything.
type collector struct {
	cases   []*CaseResult
	files   []*FileResult
	summary *Summary
}

func (c *collector) Case(r *CaseResult) { c.cases = append(c.cases, r) }
func (c *collector) File(r *FileResult) { c.files = append(c.files, r) }
func (c *collector) Done(s Summary)     { c.summary = &s }

func (c *collector) byName() map[string]*CaseResult {
	out := map[string]*CaseResult{}
	for _, r := range c.cases {
		out[r.Name] = r
	}
	return out
}

func runPaths(t *testing.T, r *Runner, paths ...string) (*collector, Summary) {
	t.Helper()
	col := &collector{}
	if r.Reporter == nil {
		r.Reporter = col
	} else {
		r.Reporter = Reporters(r.Reporter, col)
	}
	s := r.RunPaths(context.Background(), paths)
	if col.summary == nil || *col.summary != s {
		t.Fatalf("Done got %+v, RunPaths returned %+v", col.summary, s)
	}
	return col, s
}

// TestPassingFiles runs the fixtures that must pass, and the repository's
// own example tests.
func TestPassingFiles(t *testing.T) {
	for _, path := range []string{"testdata/shop.test.yaml", "testdata/mocks.test.yaml", "../../testdata/hello.test.yaml"} {
		t.Run(path, func(t *testing.T) {
			f, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			col, s := runPaths(t, &Runner{}, path)
			for _, c := range col.cases {
				if !c.Passed {
					t.Errorf("case %q failed: %v", c.Name, c.Failures)
				}
				if c.Trace != nil {
					t.Errorf("case %q passed but kept its trace without Runner.Trace", c.Name)
				}
			}
			if want := (Summary{Passed: len(f.Cases)}); s != want {
				t.Errorf("RunPaths(%s) = %+v, want %+v", path, s, want)
			}
			if s.ExitCode() != 0 {
				t.Errorf("ExitCode() = %d, want 0", s.ExitCode())
			}
		})
	}
}

// TestFailureMessages checks that each kind of unmet expectation says what
// was expected and what came back.
func TestFailureMessages(t *testing.T) {
	col, s := runPaths(t, &Runner{}, "testdata/failing")
	tests := []struct{ name, want string }{
		{"status", "status: expected 201, got 200"},
		{"header", `header Content-Type: expected "text/plain", got "application/json"`},
		{"header regex", `header X-Source: expected /^internal\./, got "api.example.com"`},
		{"body", `body: expected "{\"id\": 8}", got "{\"id\": 7}"`},
		{"body_contains", `body: expected to contain "\"name\"", got "{\"id\": 7}"`},
		{"body_json", "body_json $.id: expected 8, got 7"},
		{"body_json no match", `body_json $.name: expected "x", got no match`},
		{"variable", `variable order.seen: expected "no", got "yes"`},
		{"variable unset", `variable order.missing: expected "x", got unset`},
		{"fault expected", `fault: expected "RaiseFault", got none`},
		{"fault unexpected", `fault: expected none, got "RaiseFault"`},
		{"mock calls", "target_called api: expected 2 calls, got 1"},
		{"unmocked call", "unmocked call: POST https://api.example.com/v1/orders (no mock matches it; add one, or set network: true)"},
	}
	got := col.byName()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := got[tt.name]
			if c == nil {
				t.Fatalf("case %q was not reported", tt.name)
			}
			if c.Passed || len(c.Failures) != 1 || c.Failures[0] != tt.want {
				t.Errorf("Failures = %q, want [%q]", c.Failures, tt.want)
			}
			if c.Trace == nil || len(c.Trace.Events) == 0 {
				t.Errorf("failing case %q has no trace", tt.name)
			}
		})
	}
	if want := (Summary{Failed: len(tests)}); s != want || s.ExitCode() != 1 {
		t.Errorf("summary = %+v (exit %d), want %+v (exit 1)", s, s.ExitCode(), want)
	}
}

// TestNetworkLetsCallsThrough: with network: true an unmocked call goes to
// Runner.Network and is not a failure.
func TestNetworkLetsCallsThrough(t *testing.T) {
	dir := t.TempDir()
	file := writeTestFile(t, dir, "net.test.yaml", `
serve: `+abs(t, "testdata/shop")+`
env: dev
network: true
cases:
  - name: passes through
    request: {path: /v1/orders/7, headers: {x-apikey: k}}
    expect: {status: 200, body: from the network}
`)
	net := &mockTransport{mocks: []*Mock{{Name: "net", URL: "https://api.example.com", Responses: []*MockResponse{{Status: 200, Body: []byte("from the network")}}}}}
	net.reset()
	col, s := runPaths(t, &Runner{Network: net}, file)
	if s.Passed != 1 {
		t.Fatalf("summary %+v: %v", s, col.cases[0].Failures)
	}
	if calls := col.cases[0].Calls; len(calls) != 1 || !calls[0].Network {
		t.Errorf("Calls = %+v, want one network call", calls)
	}
}

// TestRunFilter selects cases by name.
func TestRunFilter(t *testing.T) {
	col, s := runPaths(t, &Runner{Run: regexp.MustCompile("^body")}, "testdata/failing")
	var names []string
	for _, c := range col.cases {
		names = append(names, c.Name)
	}
	if want := "body,body_contains,body_json,body_json no match"; strings.Join(names, ",") != want || s.Failed != 4 {
		t.Errorf("--run ^body ran %q (%+v), want %q", names, s, want)
	}
}

// TestOrderedStreaming: with files in parallel, results still come in file
// order, every case before its file.
func TestOrderedStreaming(t *testing.T) {
	paths := []string{"testdata/mocks.test.yaml", "testdata/shop.test.yaml", "testdata/failing", "../../testdata/hello.test.yaml"}
	col, _ := runPaths(t, &Runner{Parallel: 4}, paths...)
	files, _ := Find(paths)
	var order []string
	for _, f := range col.files {
		order = append(order, f.Path)
	}
	if strings.Join(order, ",") != strings.Join(files, ",") {
		t.Errorf("files reported %v, want %v", order, files)
	}
	last := -1
	for _, c := range col.cases {
		i := indexOf(files, c.File)
		if i < last {
			t.Fatalf("case %s of %s reported after a later file", c.Name, c.File)
		}
		last = i
	}
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// TestJUnit writes JUnit XML and reads it back with encoding/xml.
func TestJUnit(t *testing.T) {
	dir := t.TempDir()
	bad := writeTestFile(t, dir, "bad.test.yaml", "serve: x\ncases: [\n")
	var buf bytes.Buffer
	ju := &JUnitReporter{W: &buf}
	runPaths(t, &Runner{Reporter: ju}, "testdata/shop.test.yaml", "testdata/failing", bad)
	if ju.Err != nil {
		t.Fatal(ju.Err)
	}
	type failure struct {
		Message string `xml:"message,attr"`
		Text    string `xml:",chardata"`
	}
	var doc struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Errors   int      `xml:"errors,attr"`
		Suites   []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Errors   int    `xml:"errors,attr"`
			Cases    []struct {
				Name      string   `xml:"name,attr"`
				Classname string   `xml:"classname,attr"`
				Time      string   `xml:"time,attr"`
				Failure   *failure `xml:"failure"`
				Error     *failure `xml:"error"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("JUnit output does not parse: %v\n%s", err, buf.String())
	}
	if doc.Tests != 16 || doc.Failures != 13 || doc.Errors != 1 || len(doc.Suites) != 3 {
		t.Fatalf("testsuites tests=%d failures=%d errors=%d suites=%d, want 16 13 1 3", doc.Tests, doc.Failures, doc.Errors, len(doc.Suites))
	}
	shop, failing, broken := doc.Suites[0], doc.Suites[1], doc.Suites[2]
	if shop.Name != "testdata/shop.test.yaml" || shop.Tests != 3 || shop.Failures != 0 {
		t.Errorf("suite 0 = %s tests=%d failures=%d, want testdata/shop.test.yaml 3 0", shop.Name, shop.Tests, shop.Failures)
	}
	c := failing.Cases[0]
	if c.Name != "status" || c.Failure == nil || c.Failure.Message != "status: expected 201, got 200" || !strings.Contains(c.Failure.Text, "condition") {
		t.Errorf("first failing testcase = %+v, want status with its message and trace", c)
	}
	if broken.Errors != 1 || len(broken.Cases) != 1 || broken.Cases[0].Error == nil || !strings.HasPrefix(broken.Cases[0].Error.Message, bad+":2: ") {
		t.Errorf("broken suite = %+v, want one <error> at %s:2", broken, bad)
	}
}

// TestJUnitControlCharacters: bodies and traces holding bytes XML cannot
// carry still give a document that parses.
func TestJUnitControlCharacters(t *testing.T) {
	var buf bytes.Buffer
	ju := &JUnitReporter{W: &buf}
	ju.File(&FileResult{Path: "x.test.yaml", Cases: []*CaseResult{
		{Name: "a\x00b", Failures: []string{"body: \x01 ]]> \xff"}, Body: "\x02"},
	}})
	ju.Done(Summary{Failed: 1})
	var v struct {
		Suites []struct {
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure string `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &v); err != nil {
		t.Fatalf("JUnit with control characters does not parse: %v\n%s", err, buf.String())
	}
	if !strings.Contains(v.Suites[0].Cases[0].Failure, "]]>") {
		t.Errorf("failure text lost \"]]>\": %q", v.Suites[0].Cases[0].Failure)
	}
}

// TestJSONLines: one JSON object per line, the summary last.
func TestJSONLines(t *testing.T) {
	var buf bytes.Buffer
	runPaths(t, &Runner{Reporter: &JSONReporter{W: &buf}}, "testdata/failing")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 15 {
		t.Fatalf("got %d lines, want 13 cases + file + summary", len(lines))
	}
	var first struct {
		Type     string   `json:"type"`
		Name     string   `json:"name"`
		Passed   bool     `json:"passed"`
		Failures []string `json:"failures"`
		Trace    struct {
			Events []json.RawMessage `json:"events"`
		} `json:"trace"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if first.Type != "case" || first.Name != "status" || first.Passed || len(first.Failures) != 1 || len(first.Trace.Events) == 0 {
		t.Errorf("first line = %s", lines[0])
	}
	var sum struct {
		Type           string
		Passed, Failed int
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil || sum.Type != "summary" || sum.Failed != 13 {
		t.Errorf("last line = %s (%v), want the summary", lines[len(lines)-1], err)
	}
}

// TestTextReporter: a line per case, expected vs got and the trace for a
// failure, the summary alone on the last line.
func TestTextReporter(t *testing.T) {
	var buf bytes.Buffer
	runPaths(t, &Runner{Reporter: &TextReporter{W: &buf}, Run: regexp.MustCompile("^(status|fault unexpected)$")}, "testdata/failing")
	out := buf.String()
	for _, want := range []string{
		"FAIL testdata/failing/failing.test.yaml:10: status (",
		"\n    status: expected 201, got 200\n",
		"\n    response: 200 \"{\\\"id\\\": 7}\"\n",
		"step endpoint=ProxyEndpoint default flow=get-order name=AM-Source policy=AssignMessage",
		"fault endpoint=ProxyEndpoint default flow=PreFlow name=RaiseFault",
		"\n0 passed, 2 failed\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.HasSuffix(out, "\n0 passed, 2 failed\n") {
		t.Errorf("last line is not the summary:\n%s", out)
	}
}

func writeTestFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func abs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
