package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/apigo/apigo/flow"
)

// traceWriter returns a sink writing each trace to DIR/<start>-<messageid>.json.
func traceWriter(dir string, stderr io.Writer) func(*flow.Trace) {
	return func(t *flow.Trace) {
		b, err := json.MarshalIndent(t, "", "  ")
		if err != nil {
			fmt.Fprintln(stderr, "apigo serve: trace:", err)
			return
		}
		name := t.Start.UTC().Format("20060102T150405.000000") + "-" + safeName(t.MessageID) + ".json"
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			fmt.Fprintln(stderr, "apigo serve: trace:", err)
		}
	}
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' || r < ' ' {
			return '_'
		}
		return r
	}, s)
}
