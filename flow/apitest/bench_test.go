package apitest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchFile writes a bundle of 20 policies (10 request and 10 response
// AssignMessage steps, half of them conditional, behind a target) and a test
// file of 100 cases against it.
func benchFile(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	write := func(name, text string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	var req, rsp strings.Builder
	for i := range 10 {
		write(fmt.Sprintf("bench/apiproxy/policies/AM-Req%d.xml", i), fmt.Sprintf(
			`<AssignMessage name="AM-Req%d"><AssignVariable><Name>v%d</Name><Value>%d</Value></AssignVariable><Set><Headers><Header name="X-Req-%d">{request.header.x-id}</Header></Headers></Set><AssignTo createNew="false" type="request"/></AssignMessage>`, i, i, i, i))
		write(fmt.Sprintf("bench/apiproxy/policies/AM-Rsp%d.xml", i), fmt.Sprintf(
			`<AssignMessage name="AM-Rsp%d"><Set><Headers><Header name="X-Rsp-%d">{v%d}</Header></Headers></Set></AssignMessage>`, i, i, i))
		cond := ""
		if i%2 == 1 {
			cond = `<Condition>request.verb = "GET"</Condition>`
		}
		fmt.Fprintf(&req, "<Step>%s<Name>AM-Req%d</Name></Step>", cond, i)
		fmt.Fprintf(&rsp, "<Step>%s<Name>AM-Rsp%d</Name></Step>", cond, i)
	}
	write("bench/apiproxy/bench.xml", `<APIProxy name="bench"/>`)
	write("bench/apiproxy/proxies/default.xml", `<ProxyEndpoint name="default">
<PreFlow><Request>`+req.String()+`</Request><Response>`+rsp.String()+`</Response></PreFlow>
<Flows><Flow name="items"><Condition>proxy.pathsuffix MatchesPath "/items/*"</Condition></Flow></Flows>
<HTTPProxyConnection><BasePath>/bench</BasePath></HTTPProxyConnection>
<RouteRule name="default"><TargetEndpoint>default</TargetEndpoint></RouteRule>
</ProxyEndpoint>`)
	write("bench/apiproxy/targets/default.xml", `<TargetEndpoint name="default"><HTTPTargetConnection><URL>https://backend.test/api</URL></HTTPTargetConnection></TargetEndpoint>`)
	var cases strings.Builder
	for i := range 100 {
		fmt.Fprintf(&cases, `  - name: item %d
    request: {path: /bench/items/%d, headers: {x-id: id-%d}}
    expect:
      status: 200
      headers: {x-rsp-3: "3", content-type: application/json}
      body_json: {"$.id": 7}
      variables: {v9: "9"}
      fault: null
      target_called: {backend: 1}
`, i, i, i)
	}
	write("bench.test.yaml", `serve: bench
mocks:
  - name: backend
    url: https://backend.test/api
    path: /api/items/*
    respond: {status: 200, headers: {content-type: application/json}, body: '{"id": 7}'}
cases:
`+cases.String())
	return filepath.Join(dir, "bench.test.yaml")
}

// BenchmarkRunFile: one file of 100 cases against a bundle of 20 policies,
// loaded, built and run (issue #6 wants under 2 seconds).
func BenchmarkRunFile(b *testing.B) {
	file := benchFile(b)
	r := &Runner{}
	if s := r.RunFiles(context.Background(), []string{file}); s.Passed != 100 {
		col := &collector{}
		(&Runner{Reporter: col}).RunFiles(context.Background(), []string{file})
		b.Fatalf("summary %+v, first failure %v", s, col.cases[0].Failures)
	}
	b.ResetTimer()
	for b.Loop() {
		r.RunFiles(context.Background(), []string{file})
	}
}
