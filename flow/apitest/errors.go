package apitest

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// FileError is a test file that cannot be run: unreadable, malformed YAML, a
// field with a bad value, or bundles that do not load. It lists every
// problem found, each with its position.
type FileError struct {
	Path     string
	Problems []Problem
}

// Problem is one finding, at a line and column of File (the test file unless
// set: bundle load problems point into the bundle).
type Problem struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"col,omitempty"`
	Msg  string `json:"msg"`
}

// maxProblems caps what one file reports.
const maxProblems = 10

func (e *FileError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = e.position(p) + ": " + p.Msg
	}
	return strings.Join(lines, "\n")
}

func (e *FileError) position(p Problem) string {
	file := p.File
	if file == "" {
		file = e.Path
	}
	switch {
	case p.Line == 0:
		return file
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", file, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", file, p.Line, p.Col)
}

func (e *FileError) add(p Problem) {
	if len(e.Problems) < maxProblems {
		e.Problems = append(e.Problems, p)
	}
}

func (e *FileError) sort() {
	sort.SliceStable(e.Problems, func(i, j int) bool {
		a, b := e.Problems[i], e.Problems[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlProblem turns a yaml.v3 syntax error ("yaml: line 3: ...") into a
// positioned problem.
func yamlProblem(err error) Problem {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return Problem{Line: n, Msg: m[2]}
	}
	return Problem{Msg: strings.TrimPrefix(msg, "yaml: ")}
}
