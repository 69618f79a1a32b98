// Package apitest runs offline tests of API proxies: `apigo test`.
//
// A test file (*.test.yaml) names the bundles to serve, mocks for every
// outgoing call (TargetEndpoints, ServiceCallouts) and cases: a request and
// what must come back (status, headers, body, JSONPath values, flow
// variables, the fault raised, the mock calls made). Load parses and
// compiles a file once, with file:line:col errors; a Runner runs files in
// parallel, each case in a fresh exchange, and streams results in file order
// to a Reporter (text, JSON lines, JUnit XML). Coverage counts which Flows,
// Steps, RouteRules, FaultRules and condition outcomes the cases reached.
//
// The command only wires flags to this package, as `opa test` does.
package apitest
