package apitest

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Reporter receives a run's results: each case of a file, then the file,
// then the summary. The Runner never calls it concurrently.
type Reporter interface {
	Case(*CaseResult)
	File(*FileResult)
	Done(Summary)
}

// Reporters fans results out to several reporters.
func Reporters(rs ...Reporter) Reporter { return multi(rs) }

type multi []Reporter

func (m multi) Case(c *CaseResult) {
	for _, r := range m {
		r.Case(c)
	}
}

func (m multi) File(f *FileResult) {
	for _, r := range m {
		r.File(f)
	}
}

func (m multi) Done(s Summary) {
	for _, r := range m {
		r.Done(s)
	}
}

// TextReporter prints a line per case; a failing case adds what was
// expected, what came back and its trace, one event per line. The last
// line is "N passed, M failed".
type TextReporter struct {
	W io.Writer
	// Coverage, when set, is printed before the summary.
	Coverage *Coverage
}

// Case prints one case.
func (t *TextReporter) Case(c *CaseResult) {
	verdict := "PASS"
	if !c.Passed {
		verdict = "FAIL"
	}
	fmt.Fprintf(t.W, "%s %s:%d: %s (%s)\n", verdict, c.File, c.Line, c.Name, roundDuration(c.Duration))
	for _, f := range c.Failures {
		fmt.Fprintf(t.W, "    %s\n", f)
	}
	if !c.Passed {
		fmt.Fprintf(t.W, "    response: %d %s\n", c.Status, shown(c.Body))
	}
	if c.Trace != nil {
		fmt.Fprintf(t.W, "    trace (%s %s, %dµs):\n", c.Trace.Request.Verb, c.Trace.Request.URI, c.Trace.DurationUS)
		for _, ev := range c.Trace.Events {
			fmt.Fprintf(t.W, "      %s\n", ev)
		}
	}
}

// File prints a file that could not run, and bundle warnings.
func (t *TextReporter) File(f *FileResult) {
	for _, w := range f.Warnings {
		fmt.Fprintf(t.W, "warning: %s\n", w)
	}
	if f.Err != nil {
		for _, line := range strings.Split(f.Err.Error(), "\n") {
			fmt.Fprintf(t.W, "ERROR %s\n", line)
		}
	}
}

// Done prints the summary line.
func (t *TextReporter) Done(s Summary) {
	if t.Coverage != nil {
		t.Coverage.Report().WriteText(t.W)
	}
	if s.Errors > 0 {
		fmt.Fprintf(t.W, "%s could not run\n", plural(s.Errors, "file"))
	}
	fmt.Fprintf(t.W, "%d passed, %d failed\n", s.Passed, s.Failed)
}

func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// JSONReporter writes one JSON object per line: {"type":"case",...} for
// each case, {"type":"file",...} for each file and {"type":"summary",...}
// last.
type JSONReporter struct {
	W io.Writer
}

type jsonCase struct {
	Type string `json:"type"`
	*CaseResult
}

type jsonFile struct {
	Type     string    `json:"type"`
	File     string    `json:"file"`
	Passed   int       `json:"passed"`
	Failed   int       `json:"failed"`
	Duration int64     `json:"duration_ns"`
	Warnings []string  `json:"warnings,omitempty"`
	Error    string    `json:"error,omitempty"`
	Problems []Problem `json:"problems,omitempty"`
}

type jsonSummary struct {
	Type string `json:"type"`
	Summary
}

// Case writes a case line.
func (j *JSONReporter) Case(c *CaseResult) { j.write(jsonCase{"case", c}) }

// File writes a file line.
func (j *JSONReporter) File(f *FileResult) {
	out := jsonFile{Type: "file", File: f.Path, Passed: f.Passed(), Failed: f.Failed(), Duration: int64(f.Duration), Warnings: f.Warnings}
	if f.Err != nil {
		out.Error = f.Err.Error()
		if fe, ok := f.Err.(*FileError); ok {
			out.Problems = fe.Problems
		}
	}
	j.write(out)
}

// Done writes the summary line.
func (j *JSONReporter) Done(s Summary) { j.write(jsonSummary{"summary", s}) }

func (j *JSONReporter) write(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"type": "error", "error": err.Error()})
	}
	_, _ = j.W.Write(append(b, '\n'))
}
