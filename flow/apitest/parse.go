package apitest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load reads and compiles one test file. Every regex, glob and JSONPath is
// compiled here, once. The error, when not nil, is a *FileError listing each
// problem with its line and column.
func Load(path string) (*File, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, &FileError{Path: path, Problems: []Problem{{Msg: "cannot read: " + unwrapPath(err)}}}
	}
	return Parse(path, src)
}

// Parse compiles a test file from its text; path names it in errors and
// anchors relative serve and data paths.
func Parse(path string, src []byte) (*File, error) {
	p := &parser{errs: &FileError{Path: path}, dir: filepath.Dir(path)}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		p.errs.add(yamlProblem(err))
		return nil, p.errs
	}
	if len(doc.Content) == 0 {
		p.errs.add(Problem{Line: 1, Msg: "empty test file: want serve: and cases:"})
		return nil, p.errs
	}
	f := p.file(doc.Content[0])
	f.Path = path
	if len(p.errs.Problems) > 0 {
		p.errs.sort()
		return nil, p.errs
	}
	return f, nil
}

func unwrapPath(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

// parser walks yaml.v3 nodes, which keep lines and columns.
type parser struct {
	errs *FileError
	dir  string
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	pr := Problem{Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		pr.Line, pr.Col = n.Line, n.Column
	}
	p.errs.add(pr)
}

func (p *parser) file(root *yaml.Node) *File {
	f := &File{}
	var serveKey, casesKey *yaml.Node
	p.fields(root, "test file", func(key string, k, v *yaml.Node) {
		switch key {
		case "serve":
			serveKey = k
			f.Serve = p.paths(v)
		case "env":
			f.Env = p.str(v)
		case "data":
			f.Data = p.paths(v)
		case "variables":
			p.variables(f, v)
		case "network":
			f.Network = p.boolean(v)
		case "mocks":
			p.seq(v, "mocks", func(n *yaml.Node) { f.Mocks = append(f.Mocks, p.mock(n)) })
		case "cases":
			casesKey = k
			p.seq(v, "cases", func(n *yaml.Node) { f.Cases = append(f.Cases, p.testCase(n, len(f.Cases)+1)) })
		default:
			p.unknown(k, "serve, env, data, variables, network, mocks, cases")
		}
	})
	if root.Kind == yaml.MappingNode {
		if serveKey == nil || len(f.Serve) == 0 {
			p.errorf(root, "missing serve: the bundle paths to test, relative to this file")
		}
		if casesKey == nil {
			p.errorf(root, "missing cases:")
		}
	}
	p.checkCalls(f)
	return f
}

// variables reads fixed flow variables; organization.name becomes the
// engine's Org, environment.name its Env.
func (p *parser) variables(f *File, n *yaml.Node) {
	p.fields(n, "variables", func(key string, k, v *yaml.Node) {
		val := p.str(v)
		switch key {
		case "organization.name":
			f.Org = val
		case "environment.name":
			if f.Env == "" {
				f.Env = val
			}
		default:
			f.Variables = append(f.Variables, Variable{Name: key, Value: val, Line: k.Line})
		}
	})
}

// checkCalls makes sure target_called names mocks that exist.
func (p *parser) checkCalls(f *File) {
	names := map[string]bool{}
	for _, m := range f.Mocks {
		if m != nil {
			names[m.Name] = true
		}
	}
	for _, c := range f.Cases {
		if c == nil {
			continue
		}
		for _, tc := range c.Expect.TargetCalled {
			if !names[tc.mock] {
				p.errs.add(Problem{Line: tc.line, Col: tc.col, Msg: fmt.Sprintf("target_called: no mock named %q", tc.mock)})
			}
		}
	}
}

// fields calls fn for each key of a mapping, in order.
func (p *parser) fields(n *yaml.Node, what string, fn func(key string, k, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		if !isNull(n) {
			p.errorf(n, "%s: want a mapping (key: value), got %s", what, kindName(n))
		}
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			p.errorf(k, "%s: duplicate key %q", what, k.Value)
			continue
		}
		seen[k.Value] = true
		fn(k.Value, k, v)
	}
}

func (p *parser) seq(n *yaml.Node, what string, fn func(*yaml.Node)) {
	if n.Kind != yaml.SequenceNode {
		if !isNull(n) {
			p.errorf(n, "%s: want a list, got %s", what, kindName(n))
		}
		return
	}
	for _, c := range n.Content {
		fn(c)
	}
}

func (p *parser) unknown(k *yaml.Node, known string) {
	p.errorf(k, "unknown field %q (known: %s)", k.Value, known)
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	return strconv.Quote(n.Value)
}

// str reads a scalar as written: `200` and `"200"` both give "200".
func (p *parser) str(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode {
		p.errorf(n, "want a single value, got %s", kindName(n))
		return ""
	}
	if isNull(n) {
		return ""
	}
	return n.Value
}

func (p *parser) strs(n *yaml.Node) []string {
	if n.Kind == yaml.SequenceNode {
		var out []string
		for _, c := range n.Content {
			out = append(out, p.str(c))
		}
		return out
	}
	return []string{p.str(n)}
}

func (p *parser) paths(n *yaml.Node) []string {
	var out []string
	for _, s := range p.strs(n) {
		if s == "" {
			p.errorf(n, "empty path")
			continue
		}
		if !filepath.IsAbs(s) {
			s = filepath.Join(p.dir, s)
		}
		out = append(out, s)
	}
	return out
}

func (p *parser) integer(n *yaml.Node, what string, min, max int) int {
	s := p.str(n)
	v, err := strconv.Atoi(s)
	if err != nil || v < min || v > max {
		p.errorf(n, "%s: want a whole number from %d to %d, got %q", what, min, max, s)
		return 0
	}
	return v
}

func (p *parser) boolean(n *yaml.Node) bool {
	s := p.str(n)
	b, err := strconv.ParseBool(strings.ToLower(s))
	if err != nil {
		p.errorf(n, "want true or false, got %q", s)
	}
	return b
}

// text reads an expected text, a /regex/ allowed.
func (p *parser) text(n *yaml.Node) textMatch {
	m, err := compileText(p.str(n))
	if err != nil {
		p.errorf(n, "bad regular expression: %v", err)
	}
	return m
}

// value decodes any YAML value into JSON's model: string, float64, bool,
// nil, []any, map[string]any.
func (p *parser) value(n *yaml.Node) any {
	var v any
	if err := n.Decode(&v); err != nil {
		p.errorf(n, "%v", err)
		return nil
	}
	out, err := normalize(v)
	if err != nil {
		p.errorf(n, "%v", err)
	}
	return out
}

// body reads a message body: text as is; a mapping or list as JSON, which
// also reports that the body is JSON.
func (p *parser) body(n *yaml.Node) ([]byte, bool) {
	if n.Kind == yaml.ScalarNode {
		return []byte(p.str(n)), false
	}
	b, err := json.Marshal(p.value(n))
	if err != nil {
		p.errorf(n, "body: %v", err)
	}
	return b, true
}

// normalize maps decoded YAML onto JSON's model so that values compare
// with reflect.DeepEqual against parsed JSON.
func normalize(v any) (any, error) {
	switch t := v.(type) {
	case int:
		return float64(t), nil
	case int64:
		return float64(t), nil
	case uint64:
		return float64(t), nil
	case float32:
		return float64(t), nil
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			out[fmt.Sprint(k)] = n
		}
		return out, nil
	}
	return v, nil
}
