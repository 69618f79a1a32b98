package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const corpus = "../../../shared/corpus"

// corpusBundles lists the bundle folders of the corpus manifest.
func corpusBundles(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(corpus, "MANIFEST.tsv"))
	if err != nil {
		t.Skipf("corpus not available: %v", err)
	}
	defer f.Close()
	seen := map[string]bool{}
	var out []string
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		dir, _, _ := strings.Cut(sc.Text(), "\t")
		if dir != "" && !seen[dir] {
			seen[dir] = true
			out = append(out, dir)
		}
	}
	return out
}

var positioned = regexp.MustCompile(`^.+\.(xml|json|properties|zip|js|xsl|yaml)[^:]*:\d+:\d+: `)

// TestValidateCorpus runs `apigo validate` over every corpus bundle: no
// panic anywhere, every problem positioned, and the apigeelint fixtures
// that are broken in ways a runtime must catch get an error.
func TestValidateCorpus(t *testing.T) {
	brokenOnPurpose := map[string]string{
		"apigeelint/test/fixtures/resources/BN010-missing-policy":  "missing policy",
		"apigeelint/test/fixtures/resources/BN011-well-formed-xml": "",
		"apigeelint/test/fixtures/resources/PD001-missing-target":  "missing TargetEndpoint",
	}
	clean, withErrors := 0, 0
	for _, dir := range corpusBundles(t) {
		var out, errOut bytes.Buffer
		code := run([]string{"validate", filepath.Join(corpus, dir)}, &out, &errOut)
		if code == 2 {
			t.Errorf("%s: usage error: %s", dir, errOut.String())
			continue
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		for _, l := range lines {
			if strings.HasPrefix(l, "ok: ") || strings.Contains(l, " error(s), ") || strings.HasPrefix(l, "0 errors") || l == "" {
				continue
			}
			if !positioned.MatchString(l) {
				t.Errorf("%s: problem without file:line:col: %q", dir, l)
			}
		}
		if code == 0 {
			clean++
		} else {
			withErrors++
		}
		if want, ok := brokenOnPurpose[dir]; ok {
			if code != 1 || !strings.Contains(out.String(), want) {
				t.Errorf("%s is broken on purpose: exit %d, output:\n%s", dir, code, out.String())
			}
		}
	}
	t.Logf("corpus: %d bundles validate with no errors, %d with errors", clean, withErrors)
}

func TestValidateExitCodes(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"validate", "../../testdata/hello"}, &out, &errOut); code != 0 {
		t.Errorf("validate testdata/hello = %d:\n%s%s", code, out.String(), errOut.String())
	}
	if code := run([]string{"validate", "--bogus"}, &out, &errOut); code != 2 {
		t.Errorf("bad flag exit = %d, want 2", code)
	}
	dir := t.TempDir()
	writeBundle(t, dir, map[string]string{
		"apiproxy/proxies/default.xml": `<ProxyEndpoint name="default">
  <PreFlow><Request><Step><Name>Missing</Name></Step></Request></PreFlow>
  <Flows><Flow name="f"><Condition>request.verb = = "GET"</Condition></Flow></Flows>
  <HTTPProxyConnection><BasePath>/x</BasePath></HTTPProxyConnection>
  <RouteRule name="r"><TargetEndpoint>nowhere</TargetEndpoint></RouteRule>
</ProxyEndpoint>`,
		"apiproxy/policies/Odd.xml":  `<NotAPolicy name="Odd"/>`,
		"apiproxy/policies/Soon.xml": `<Ldap name="Soon"/>`,
	})
	out.Reset()
	if code := run([]string{"validate", dir}, &out, &errOut); code != 1 {
		t.Fatalf("broken bundle exit = %d, want 1:\n%s", code, out.String())
	}
	for _, want := range []string{
		"apiproxy/proxies/default.xml:2:",
		"Missing",
		"apiproxy/proxies/default.xml:3:",
		"nowhere",
		"apiproxy/policies/Odd.xml:1:1: policy \"Odd\": unknown policy type <NotAPolicy>",
		"apiproxy/policies/Soon.xml:1:1: warning:",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
