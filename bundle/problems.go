package bundle

import (
	"fmt"
	"sort"
	"strings"
)

// Severity of a Problem.
type Severity int

const (
	// Error stops a bundle from being served.
	Error Severity = iota
	// Warning is printed but does not stop serving.
	Warning
)

func (p Pos) String() string {
	switch {
	case p.File == "":
		return "-"
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Problem is one load or build finding.
type Problem struct {
	Pos      Pos
	Severity Severity
	Msg      string
}

func (p Problem) String() string {
	if p.Severity == Warning {
		return p.Pos.String() + ": warning: " + p.Msg
	}
	return p.Pos.String() + ": " + p.Msg
}

// Problems collects findings. The zero value is ready to use.
type Problems struct {
	List []Problem
}

// Errorf records an error at pos.
func (ps *Problems) Errorf(pos Pos, format string, args ...any) {
	ps.List = append(ps.List, Problem{Pos: pos, Severity: Error, Msg: fmt.Sprintf(format, args...)})
}

// Warnf records a warning at pos.
func (ps *Problems) Warnf(pos Pos, format string, args ...any) {
	ps.List = append(ps.List, Problem{Pos: pos, Severity: Warning, Msg: fmt.Sprintf(format, args...)})
}

// Add appends problems found elsewhere.
func (ps *Problems) Add(other ...Problem) { ps.List = append(ps.List, other...) }

// HasErrors reports whether any problem is an error.
func (ps *Problems) HasErrors() bool {
	for _, p := range ps.List {
		if p.Severity == Error {
			return true
		}
	}
	return false
}

// Sort orders problems by file, line, column, then message.
func (ps *Problems) Sort() {
	sort.SliceStable(ps.List, func(i, j int) bool {
		a, b := ps.List[i], ps.List[j]
		if a.Pos.File != b.Pos.File {
			return a.Pos.File < b.Pos.File
		}
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line < b.Pos.Line
		}
		if a.Pos.Col != b.Pos.Col {
			return a.Pos.Col < b.Pos.Col
		}
		return a.Msg < b.Msg
	})
}

// String renders one problem a line, sorted.
func (ps *Problems) String() string {
	ps.Sort()
	var b strings.Builder
	for _, p := range ps.List {
		b.WriteString(p.String())
		b.WriteByte('\n')
	}
	return b.String()
}
