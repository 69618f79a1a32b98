package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"

	"github.com/apigo/apigo/flow/apitest"
)

// test runs `apigo test [flags] [FILE|DIR...]`: it wires flags to an
// apitest.Runner. Exit 0 when every case passes, 1 when one fails, 2 when a
// file cannot run.
func test(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("apigo test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	runRE := fs.String("run", "", "run only the cases whose name matches `REGEX`")
	junit := fs.String("junit", "", "write JUnit XML to `FILE` (one testsuite per test file)")
	jsonOut := fs.Bool("json", false, "write results as JSON lines instead of text")
	trace := fs.Bool("trace", false, "print traces of passing cases too")
	coverage := fs.Bool("coverage", false, "report which flows, steps, route rules, fault rules and condition outcomes the cases reached")
	coverageOut := fs.String("coverage-out", "", "write the coverage report as JSON to `FILE`")
	parallel := fs.Int("parallel", 0, "test files run at once (default GOMAXPROCS)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: apigo test [flags] [FILE|DIR...]   (default .; folders are searched for *.test.yaml)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return usageExit(err)
	}
	r := &apitest.Runner{Trace: *trace, Parallel: *parallel}
	if *runRE != "" {
		re, err := regexp.Compile(*runRE)
		if err != nil {
			fmt.Fprintf(stderr, "apigo test: --run: %v\n", err)
			return 2
		}
		r.Run = re
	}
	if *coverage || *coverageOut != "" {
		r.Coverage = apitest.NewCoverage()
	}
	var reps []apitest.Reporter
	if *jsonOut {
		reps = append(reps, &apitest.JSONReporter{W: stdout})
	} else {
		tr := &apitest.TextReporter{W: stdout}
		if *coverage {
			tr.Coverage = r.Coverage
		}
		reps = append(reps, tr)
	}
	var ju *apitest.JUnitReporter
	if *junit != "" {
		f, err := os.Create(*junit)
		if err != nil {
			fmt.Fprintf(stderr, "apigo test: --junit: %v\n", err)
			return 2
		}
		defer f.Close()
		ju = &apitest.JUnitReporter{W: f}
		reps = append(reps, ju)
	}
	r.Reporter = apitest.Reporters(reps...)
	paths := fs.Args()
	if len(paths) == 0 {
		paths = []string{"."}
	}
	sum := r.RunPaths(context.Background(), paths)
	if *coverage && *jsonOut {
		r.Coverage.Report().WriteText(stderr)
	}
	code := sum.ExitCode()
	if sum.Passed+sum.Failed+sum.Errors == 0 {
		fmt.Fprintf(stderr, "apigo test: no cases found in %v (test files end in %s)\n", paths, apitest.Suffix)
		code = 2
	}
	if ju != nil && ju.Err != nil {
		fmt.Fprintf(stderr, "apigo test: --junit: %v\n", ju.Err)
		code = 2
	}
	if *coverageOut != "" {
		if c := writeCoverage(r.Coverage.Report(), *coverageOut, stderr); c > code {
			code = c
		}
	}
	return code
}

// writeCoverage writes the JSON coverage report. (The text report comes
// before the summary line, from the text reporter; with --json it goes to
// stderr.)
func writeCoverage(rep *apitest.CoverageReport, out string, stderr io.Writer) int {
	f, err := os.Create(out)
	if err == nil {
		err = rep.WriteJSON(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "apigo test: --coverage-out: %v\n", err)
		return 2
	}
	return 0
}
