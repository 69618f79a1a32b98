package apitest

import (
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/apigo/apigo/policy/template"
)

// File is one compiled test file.
type File struct {
	Path      string   // as given (or found)
	Serve     []string // bundle paths, resolved against the file's folder
	Env       string
	Data      []string
	Org       string     // variables: organization.name
	Variables []Variable // other fixed variables
	Network   bool       // let unmocked calls reach the network
	Mocks     []*Mock
	Cases     []*Case
}

// Variable is one fixed flow variable of a file.
type Variable struct {
	Name, Value string
	Line        int
}

// Mock answers outgoing calls. It matches by TargetServer name or by URL
// prefix (either one when both are given), then by method, path glob and
// headers.
type Mock struct {
	Name         string // name, else target_server, else url
	Line         int
	TargetServer string
	URL          string
	Method       string
	path         *regexp.Regexp
	headers      []headerMatch
	Responses    []*MockResponse // used in turn; the last one repeats
}

// MockResponse is one answer of a mock.
type MockResponse struct {
	Status  int // default 200
	Headers http.Header
	Body    []byte
	Delay   time.Duration
	Fail    string // "", refused, timeout, connect_timeout, reset
}

type headerMatch struct {
	name   string
	want   textMatch
	absent bool // written as null: the header must be missing
}

// Case is one request and its expectations.
type Case struct {
	Name    string
	Line    int
	Request Request
	Expect  Expect
}

// Request is the request a case sends.
type Request struct {
	Method string // default GET
	Path   string // may carry a query string
	Host   string // default localhost
	Header http.Header
	Query  [][2]string
	Body   []byte
	url    *url.URL // built at load from Host, Path and Query
}

// Expect holds what a case checks; zero fields are not checked.
type Expect struct {
	Status       int
	Headers      []headerMatch
	Body         *string
	BodyContains []string
	BodyJSON     []jsonExpect
	Variables    []varExpect
	Fault        *faultExpect
	TargetCalled []callExpect
}

type jsonExpect struct {
	path *template.JSONPath
	want any        // normalised JSON value
	re   *textMatch // a /regex/ against the value's text
}

type varExpect struct {
	name   string
	want   textMatch
	absent bool
}

// faultExpect: none means `fault: null`.
type faultExpect struct {
	none bool
	name string
}

type callExpect struct {
	mock      string
	count     int
	line, col int
}
