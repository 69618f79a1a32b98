package apitest

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// JUnitReporter collects results and writes JUnit XML when the run is done:
// one <testsuite> per file, one <testcase> per case. A file that could not
// run is a suite with one <error>.
type JUnitReporter struct {
	W      io.Writer
	suites []JUnitSuite
	// Err is the error writing the XML, if any.
	Err error
}

// JUnitSuites is the document root, <testsuites>.
type JUnitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []JUnitSuite `xml:"testsuite"`
}

// JUnitSuite is one test file.
type JUnitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr,omitempty"`
	Cases     []JUnitCase `xml:"testcase"`
}

// JUnitCase is one case.
type JUnitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Time      string        `xml:"time,attr"`
	Failure   *JUnitFailure `xml:"failure,omitempty"`
	Error     *JUnitFailure `xml:"error,omitempty"`
	SystemOut *JUnitText    `xml:"system-out,omitempty"`
}

// JUnitFailure is a <failure> or <error>: the first message as an
// attribute, everything in the text.
type JUnitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",cdata"`
}

// JUnitText is element text written as CDATA, for readable traces.
type JUnitText struct {
	Text string `xml:",cdata"`
}

// Case is collected with its file.
func (j *JUnitReporter) Case(*CaseResult) {}

// File adds a suite.
func (j *JUnitReporter) File(f *FileResult) {
	s := JUnitSuite{Name: f.Path, Time: seconds(f.Duration), Timestamp: time.Now().UTC().Format(time.RFC3339)}
	if f.Err != nil {
		s.Errors = 1
		s.Cases = append(s.Cases, JUnitCase{Name: "load", Classname: f.Path, File: f.Path, Time: "0",
			Error: &JUnitFailure{Message: firstLine(f.Err.Error()), Type: "FileError", Text: f.Err.Error()}})
	}
	for _, c := range f.Cases {
		jc := JUnitCase{Name: c.Name, Classname: f.Path, File: c.File, Line: c.Line, Time: seconds(c.Duration)}
		if !c.Passed {
			s.Failures++
			jc.Failure = &JUnitFailure{Message: firstLine(strings.Join(c.Failures, "\n")), Type: "ExpectationFailed", Text: xmlSafe(failureText(c))}
		} else if c.Trace != nil {
			jc.SystemOut = &JUnitText{Text: xmlSafe(traceText(c))}
		}
		s.Tests++
		s.Cases = append(s.Cases, jc)
	}
	j.suites = append(j.suites, s)
}

// Done writes the document.
func (j *JUnitReporter) Done(sum Summary) {
	doc := JUnitSuites{Name: "apigo test", Tests: sum.Passed + sum.Failed, Failures: sum.Failed, Errors: sum.Errors, Suites: j.suites}
	var total float64
	for _, s := range j.suites {
		var t float64
		_, _ = fmt.Sscan(s.Time, &t)
		total += t
	}
	doc.Time = fmt.Sprintf("%.3f", total)
	if _, err := io.WriteString(j.W, xml.Header); err != nil {
		j.Err = err
		return
	}
	enc := xml.NewEncoder(j.W)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		j.Err = err
		return
	}
	_, j.Err = io.WriteString(j.W, "\n")
}

func failureText(c *CaseResult) string {
	var b strings.Builder
	for _, f := range c.Failures {
		b.WriteString(f + "\n")
	}
	fmt.Fprintf(&b, "response: %d %s\n", c.Status, shown(c.Body))
	if c.Trace != nil {
		b.WriteString(traceText(c))
	}
	return b.String()
}

func traceText(c *CaseResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "trace (%s %s, %dµs):\n", c.Trace.Request.Verb, c.Trace.Request.URI, c.Trace.DurationUS)
	for _, ev := range c.Trace.Events {
		b.WriteString(ev.String() + "\n")
	}
	return b.String()
}

// xmlSafe replaces what XML 1.0 cannot hold (control characters, invalid
// UTF-8): CDATA is written as is.
func xmlSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return r
		case r < 0x20, r == 0xFFFE, r == 0xFFFF, r == utf8.RuneError:
			return '\uFFFD'
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
