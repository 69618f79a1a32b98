package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestTestCommand runs `apigo test` as .ci/run does, and with each flag.
func TestTestCommand(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.test.yaml")
	if err := os.WriteFile(bad, []byte("serve: x\ncases:\n  - request: {path: /}\n    expect: {status: ok}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		code     int
		lastLine string
		contains []string
	}{
		{"hello", []string{"../../testdata/hello.test.yaml"}, 0, "5 passed, 0 failed", []string{"PASS ../../testdata/hello.test.yaml:7: GET greets the world ("}},
		{"failures", []string{"--run", "^(status|mock calls)$", "../../flow/apitest/testdata/failing"}, 1, "0 passed, 2 failed",
			[]string{"    status: expected 201, got 200\n", "    target_called api: expected 2 calls, got 1\n", "µs step endpoint=ProxyEndpoint default flow=get-order name=AM-Source"}},
		{"bad file", []string{bad, "../../testdata/hello.test.yaml"}, 2, "5 passed, 0 failed",
			[]string{"ERROR " + bad + `:4:22: status: want a whole number from 100 to 999, got "ok"`, "1 file could not run\n"}},
		{"trace", []string{"--trace", "--run", "greets the world", "../../testdata/hello.test.yaml"}, 0, "1 passed, 0 failed", []string{"      ", "step endpoint=ProxyEndpoint default flow=greeting name=AM-Greeting"}},
		{"coverage", []string{"--coverage", "../../testdata/hello.test.yaml"}, 0, "5 passed, 0 failed", []string{"coverage of proxy hello:\n", "  Steps                  4/4    100%\n"}},
		{"no files", []string{dir + "/none"}, 2, "0 passed, 0 failed", []string{"cannot read"}},
		{"bad regex", []string{"--run", "(", "../../testdata/hello.test.yaml"}, 2, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"test"}, tt.args...), &stdout, &stderr)
			out := stdout.String()
			if code != tt.code {
				t.Errorf("apigo test %v = %d, want %d\n%s%s", tt.args, code, tt.code, out, stderr.String())
			}
			lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
			if tt.lastLine != "" && lines[len(lines)-1] != tt.lastLine {
				t.Errorf("last line = %q, want %q", lines[len(lines)-1], tt.lastLine)
			}
			for _, want := range tt.contains {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

// TestExamples is what .ci/run does: every example in testdata/ passes.
func TestExamples(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"test", "../../testdata"}, &stdout, &stderr)
	lines := strings.Split(strings.TrimRight(stdout.String(), "\n"), "\n")
	if code != 0 || !regexp.MustCompile(`^[1-9][0-9]* passed, 0 failed$`).MatchString(lines[len(lines)-1]) {
		t.Errorf("apigo test ../../testdata = %d:\n%s%s", code, stdout.String(), stderr.String())
	}
}

// TestTestCommandFiles: --junit, --json and --coverage-out write what CI
// tools read.
func TestTestCommandFiles(t *testing.T) {
	dir := t.TempDir()
	junit, cov := filepath.Join(dir, "junit.xml"), filepath.Join(dir, "coverage.json")
	var stdout, stderr bytes.Buffer
	code := run([]string{"test", "--json", "--junit", junit, "--coverage-out", cov, "../../testdata/hello.test.yaml"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, stdout.String(), stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var last struct {
		Type   string `json:"type"`
		Passed int    `json:"passed"`
	}
	if len(lines) != 7 || json.Unmarshal([]byte(lines[6]), &last) != nil || last.Type != "summary" || last.Passed != 5 {
		t.Errorf("--json output (%d lines) ends with %q, want 5 cases, a file and the summary", len(lines), lines[len(lines)-1])
	}
	var suites struct {
		Suites []struct {
			Name  string `xml:"name,attr"`
			Tests int    `xml:"tests,attr"`
		} `xml:"testsuite"`
	}
	b, err := os.ReadFile(junit)
	if err != nil || xml.Unmarshal(b, &suites) != nil || len(suites.Suites) != 1 || suites.Suites[0].Tests != 5 {
		t.Errorf("--junit file does not hold one suite of 5 tests (%v): %s", err, b)
	}
	var rep struct {
		Bundles []struct {
			Proxy    string `json:"proxy"`
			Elements []struct {
				Reached int `json:"reached"`
			} `json:"elements"`
		} `json:"bundles"`
	}
	b, err = os.ReadFile(cov)
	if err != nil || json.Unmarshal(b, &rep) != nil || len(rep.Bundles) != 1 || rep.Bundles[0].Proxy != "hello" || len(rep.Bundles[0].Elements) != 8 {
		t.Errorf("--coverage-out file = %s (%v), want hello's 8 elements", b, err)
	}
}
