package policy

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
)

func readTestdata(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestTestdataPolicies(t *testing.T) {
	t.Run("AM-BuildCalloutRequest", func(t *testing.T) {
		pol := mustBuild(t, readTestdata(t, "assignmessage/AM-BuildCalloutRequest.xml"), nil)
		x := sampleExchange()
		x.Request().Header.Set("x-fapi-interaction-id", "abc")
		x.Request().Query = exchange.ParseParams("token=tk1&apikey=k&page=2")
		x.Set("private.token", "s3cr3t")
		x.Set("client_id", "app1")
		x.SetPropertySets(map[string]map[string]string{"idp": {"host": "idp.example"}})
		if err := execute(t, pol, x); err != nil {
			t.Fatalf("Execute() = %v", err)
		}
		m := x.Message("calloutRequest")
		if m == nil {
			t.Fatal("calloutRequest = nil")
		}
		want(t, "interaction id", m.Header.Get("X-Fapi-Interaction-Id"), "abc")
		want(t, "authorization", m.Header.Get("Authorization"), "Bearer s3cr3t")
		want(t, "query", m.Query.Encode(), "token=tk1&page=2")
		want(t, "verb", m.Verb, "POST")
		want(t, "path", m.Path, "/introspect")
		wantBody := "{\n                \"token\": \"tk1\",\n                \"client\": \"app1\"\n            }"
		want(t, "body", string(m.Body), wantBody)
		v, _ := x.GetString("callout.target")
		want(t, "callout.target", v, "https://idp.example/introspect")
	})
	t.Run("AM-SetErrorResponse", func(t *testing.T) {
		pol := mustBuild(t, readTestdata(t, "assignmessage/AM-SetErrorResponse.xml"), nil)
		x := sampleExchange()
		x.Request().Header.Set("x-fapi-interaction-id", "abc")
		resp := exchange.NewResponse()
		resp.Header.Set("Server", "backend")
		x.SetResponse(resp)
		x.SetCurrent("response")
		x.Set("flow.error.code", "E1")
		x.Set("flow.error.title", "Bad Thing")
		x.Set("flow.error.status", "422")
		if err := execute(t, pol, x); err != nil {
			t.Fatalf("Execute() = %v", err)
		}
		want(t, "Server removed", resp.Header.Get("Server"), "")
		want(t, "interaction id", resp.Header.Get("X-Fapi-Interaction-Id"), "abc")
		want(t, "body", string(resp.Body), `{"errors":[{"code":"E1","title":"Bad Thing"}]}`)
		want(t, "status", resp.Status, 422)
		want(t, "reason", resp.Reason, "Bad Thing")
	})
	t.Run("RF-InvalidRequest", func(t *testing.T) {
		pol := mustBuild(t, readTestdata(t, "raisefault/RF-InvalidRequest.xml"), nil)
		x := sampleExchange()
		x.Request().Query = exchange.ParseParams("page=x")
		var f *Fault
		if err := execute(t, pol, x); !errors.As(err, &f) || f.Response == nil {
			t.Fatalf("Execute() = %v, want a *Fault with a Response", err)
		}
		want(t, "status", f.HTTPStatus(), 400)
		body := string(f.Response.Body)
		for _, s := range []string{`"code": "urn:au-cds:error:cds-all:Field/Invalid"`, `"detail": "x is not a valid page"`} {
			if !strings.Contains(body, s) {
				t.Errorf("body = %s, want it to contain %s", body, s)
			}
		}
	})
}

func TestTrimIndent(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abc", "abc"},
		{" abc ", " abc "},
		{"\n  abc\n ", "abc"},
		{"  {\n  \"a\": 1\n}\n", "  {\n  \"a\": 1\n}"},
		{"\n\t\n", ""},
		{"", ""},
	}
	for _, tc := range tests {
		if got := trimIndent(tc.in); got != tc.want {
			t.Errorf("trimIndent(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestCorpusPolicies builds every AssignMessage and RaiseFault policy of the
// shared corpus (apigeelint's deliberately broken fixtures excluded): none
// may panic, and the count that builds without errors is reported.
func TestCorpusPolicies(t *testing.T) {
	root := filepath.Join("..", "..", "shared", "corpus")
	if _, err := os.Stat(root); err != nil {
		t.Skip("corpus not present:", err)
	}
	total, clean := map[string]int{}, map[string]int{}
	var failures []string
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() && d.Name() == "apigeelint" {
			return fs.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".xml") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		doc := etree.NewDocument()
		if doc.ReadFromBytes(src) != nil || doc.Root() == nil {
			return nil
		}
		typ := doc.Root().Tag
		if typ != "AssignMessage" && typ != "RaiseFault" {
			return nil
		}
		total[typ]++
		p := parsePolicy(t, string(src))
		p.Doc.File = path
		bc := &BuildContext{Problems: &bundle.Problems{}, Options: &Options{}}
		b, _, _ := Lookup(typ)
		pol, probs := b(bc, p), bc.Problems
		if pol != nil && !probs.HasErrors() {
			clean[typ]++
		} else {
			failures = append(failures, path+": "+strings.TrimSpace(probs.String()))
		}
		return nil
	})
	for _, typ := range []string{"AssignMessage", "RaiseFault"} {
		t.Logf("%s: %d of %d corpus policies build without errors", typ, clean[typ], total[typ])
	}
	for _, f := range failures {
		t.Log(f)
	}
}

// FuzzBuildAndExecute builds arbitrary AssignMessage/RaiseFault XML and runs
// what builds: neither step may panic, and every problem has a file.
func FuzzBuildAndExecute(f *testing.F) {
	for _, p := range []string{"assignmessage/AM-BuildCalloutRequest.xml", "assignmessage/AM-SetErrorResponse.xml", "raisefault/RF-InvalidRequest.xml"} {
		b, err := os.ReadFile(filepath.Join("testdata", p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add(`<AssignMessage name="a"><Set><Payload variablePrefix="@" variableSuffix="#">@a#{b}</Payload><StatusCode>{s}</StatusCode></Set></AssignMessage>`)
	f.Fuzz(func(t *testing.T, src string) {
		doc := etree.NewDocument()
		if doc.ReadFromString(src) != nil || doc.Root() == nil {
			return
		}
		typ := doc.Root().Tag
		if typ != "AssignMessage" && typ != "RaiseFault" {
			return
		}
		pol, probs := buildXML(t, src, nil)
		for _, p := range probs.List {
			if p.Pos.File == "" {
				t.Errorf("problem without a position: %v", p)
			}
		}
		if pol != nil {
			x := sampleExchange()
			_ = execute(t, pol, x)
		}
	})
}
