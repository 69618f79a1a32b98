package apitest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/apigo/apigo/flow"
)

// Runner runs test files. The zero value runs every case of every file and
// discards the results; set Reporter to see them.
type Runner struct {
	// Reporter receives results in file order, each case as soon as the
	// files before it are done; its methods are never called concurrently.
	// Nil discards.
	Reporter Reporter
	// Run selects the cases whose name it matches; nil runs all (--run).
	Run *regexp.Regexp
	// Trace keeps the trace of passing cases too (--trace); failing cases
	// always carry theirs.
	Trace bool
	// Parallel is how many files run at once; default GOMAXPROCS.
	Parallel int
	// Coverage, when set, counts the elements and condition outcomes the
	// cases reached (--coverage).
	Coverage *Coverage
	// Network sends the calls no mock answers in files that say
	// `network: true`; default http.DefaultTransport.
	Network http.RoundTripper
	// CaseTimeout bounds one case; default 30 seconds.
	CaseTimeout time.Duration
}

// Summary counts a run's results.
type Summary struct {
	Passed int `json:"passed"`
	Failed int `json:"failed"`
	// Errors counts files that could not run (bad YAML, bundles that do not
	// load).
	Errors int `json:"errors"`
}

// ExitCode is apigo test's status: 2 when a file could not run, 1 when a
// case failed, else 0.
func (s Summary) ExitCode() int {
	switch {
	case s.Errors > 0:
		return 2
	case s.Failed > 0:
		return 1
	}
	return 0
}

// CaseResult is the outcome of one case.
type CaseResult struct {
	File     string        `json:"file"`
	Name     string        `json:"name"`
	Line     int           `json:"line"`
	Passed   bool          `json:"passed"`
	Duration time.Duration `json:"duration_ns"`
	// Failures says, per unmet expectation, what was expected and what
	// came back.
	Failures []string `json:"failures,omitempty"`
	Status   int      `json:"status"`
	Body     string   `json:"body,omitempty"` // the response body, cut to 4 KiB
	Calls    []Call   `json:"calls,omitempty"`
	// Trace is the exchange's trace: always for a failing case, for a
	// passing one with Runner.Trace. Nil when no proxy matched the path.
	Trace *flow.Trace `json:"trace,omitempty"`
}

// FileResult is the outcome of one file.
type FileResult struct {
	Path string `json:"file"`
	// Err is a *FileError when the file could not run.
	Err      error         `json:"-"`
	Cases    []*CaseResult `json:"-"`
	Warnings []string      `json:"warnings,omitempty"`
	Duration time.Duration `json:"duration_ns"`
}

// Passed and Failed count the file's cases.
func (fr *FileResult) Passed() int { return fr.count(true) }

// Failed counts the file's failing cases.
func (fr *FileResult) Failed() int { return fr.count(false) }

func (fr *FileResult) count(passed bool) int {
	n := 0
	for _, c := range fr.Cases {
		if c.Passed == passed {
			n++
		}
	}
	return n
}

// RunPaths finds the test files under paths (see Find) and runs them.
func (r *Runner) RunPaths(ctx context.Context, paths []string) Summary {
	files, errs := Find(paths)
	var s Summary
	for _, err := range errs {
		r.report(func(rep Reporter) { rep.File(&FileResult{Path: err.Path, Err: err}) })
		s.Errors++
	}
	s2 := r.RunFiles(ctx, files)
	s2.Errors += s.Errors
	return s2
}

// RunFiles runs files, Parallel at a time, and reports in their order.
func (r *Runner) RunFiles(ctx context.Context, files []string) Summary {
	runs := make([]*fileRun, len(files))
	for i := range runs {
		runs[i] = newFileRun()
	}
	work := make(chan int)
	var wg sync.WaitGroup
	for range r.parallel(len(files)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				runs[i].finish(r.runFile(ctx, files[i], runs[i].add))
			}
		}()
	}
	go func() {
		for i := range files {
			work <- i
		}
		close(work)
	}()
	var s Summary
	for _, fr := range runs {
		res := fr.drain(func(c *CaseResult) { r.report(func(rep Reporter) { rep.Case(c) }) })
		r.report(func(rep Reporter) { rep.File(res) })
		s.Passed += res.Passed()
		s.Failed += res.Failed()
		if res.Err != nil {
			s.Errors++
		}
	}
	wg.Wait()
	r.report(func(rep Reporter) { rep.Done(s) })
	return s
}

func (r *Runner) parallel(files int) int {
	n := r.Parallel
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return max(1, min(n, files))
}

func (r *Runner) report(fn func(Reporter)) {
	if r.Reporter != nil {
		fn(r.Reporter)
	}
}

// runFile loads, builds and runs one file, handing each case to emit.
func (r *Runner) runFile(ctx context.Context, path string, emit func(*CaseResult)) *FileResult {
	start := time.Now()
	fr := &FileResult{Path: path}
	defer func() { fr.Duration = time.Since(start) }()
	f, err := Load(path)
	if err != nil {
		fr.Err = err
		return fr
	}
	fx, err := r.setup(f)
	if err != nil {
		fr.Err = err
		return fr
	}
	defer fx.eng.Close()
	fr.Warnings = fx.warnings
	for _, c := range f.Cases {
		if r.Run != nil && !r.Run.MatchString(c.Name) {
			continue
		}
		cr := r.runCase(ctx, fx, c)
		fr.Cases = append(fr.Cases, cr)
		emit(cr)
	}
	return fr
}

// maxBody bounds the response body a result keeps.
const maxBody = 4096

// runCase sends one request through a fresh exchange and checks it.
func (r *Runner) runCase(ctx context.Context, fx *fixture, c *Case) *CaseResult {
	timeout := r.CaseTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	fx.mocks.reset()
	req, err := c.Request.build(ctx)
	if err != nil {
		return &CaseResult{File: fx.file.Path, Name: c.Name, Line: c.Line, Failures: []string{"request: " + err.Error()}}
	}
	rec := httptest.NewRecorder()
	start := time.Now()
	x, tr := fx.eng.ServeExchange(rec, req, true)
	res := &CaseResult{File: fx.file.Path, Name: c.Name, Line: c.Line, Duration: time.Since(start), Status: rec.Code}
	o := &outcome{status: rec.Code, header: rec.Result().Header, body: rec.Body.Bytes(), x: x, calls: fx.mocks.taken()}
	res.Failures = c.Expect.check(o)
	if x == nil && len(res.Failures) > 0 {
		res.Failures = append(res.Failures, "note: no proxy serves "+req.URL.Path+"; check the request path against the base paths")
	}
	res.Passed = len(res.Failures) == 0
	res.Calls = o.calls
	res.Body = string(o.body[:min(len(o.body), maxBody)])
	if r.Coverage != nil && tr != nil {
		r.Coverage.AddTrace(tr)
	}
	if !res.Passed || r.Trace {
		res.Trace = tr
	}
	return res
}

// build makes the inbound request of a case; the engine reads it as a
// server request from 127.0.0.1.
func (rq *Request) build(ctx context.Context) (*http.Request, error) {
	var body io.Reader
	if len(rq.Body) > 0 {
		body = bytes.NewReader(rq.Body)
	}
	req, err := http.NewRequestWithContext(ctx, rq.Method, rq.url.String(), body)
	if err != nil {
		return nil, err
	}
	req.Header = rq.Header.Clone()
	if len(rq.Body) > 0 {
		req.Header.Set("Content-Length", strconv.Itoa(len(rq.Body)))
	}
	req.RequestURI = rq.url.RequestURI()
	req.RemoteAddr = "127.0.0.1:50000"
	return req, nil
}

// fileRun hands one file's results from its worker to the reporting loop.
type fileRun struct {
	mu    sync.Mutex
	cond  *sync.Cond
	cases []*CaseResult
	res   *FileResult
}

func newFileRun() *fileRun {
	fr := &fileRun{}
	fr.cond = sync.NewCond(&fr.mu)
	return fr
}

func (fr *fileRun) add(c *CaseResult) {
	fr.mu.Lock()
	fr.cases = append(fr.cases, c)
	fr.mu.Unlock()
	fr.cond.Signal()
}

func (fr *fileRun) finish(res *FileResult) {
	fr.mu.Lock()
	fr.res = res
	fr.mu.Unlock()
	fr.cond.Signal()
}

// drain emits cases as they come and returns the file's result when done.
func (fr *fileRun) drain(emit func(*CaseResult)) *FileResult {
	next := 0
	fr.mu.Lock()
	defer fr.mu.Unlock()
	for {
		for next < len(fr.cases) {
			c := fr.cases[next]
			next++
			fr.mu.Unlock()
			emit(c)
			fr.mu.Lock()
		}
		if fr.res != nil {
			return fr.res
		}
		fr.cond.Wait()
	}
}
