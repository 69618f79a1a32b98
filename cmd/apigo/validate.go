package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/apigo/apigo/flow"
)

// validate loads and builds as serve would and prints every problem. Exit
// status: 0 no errors, 1 errors, 2 bad usage.
func validate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var lf loadFlags
	lf.register(fs)
	if err := fs.Parse(args); err != nil {
		return usageExit(err)
	}
	eng, ps, err := lf.load(fs.Args(), stderr, flow.Options{})
	if err != nil {
		fmt.Fprintln(stderr, "apigo validate:", err)
		return 2
	}
	if eng != nil {
		defer eng.Close()
	}
	fmt.Fprint(stdout, ps.String())
	errs, warns := 0, 0
	for _, p := range ps.List {
		if p.Severity == 0 {
			errs++
		} else {
			warns++
		}
	}
	if errs > 0 {
		fmt.Fprintf(stdout, "%d error(s), %d warning(s)\n", errs, warns)
		return 1
	}
	if eng != nil {
		for _, d := range eng.Deployed() {
			fmt.Fprintln(stdout, "ok:", d)
		}
	}
	fmt.Fprintf(stdout, "0 errors, %d warning(s)\n", warns)
	return 0
}
