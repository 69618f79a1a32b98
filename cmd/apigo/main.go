// Command apigo runs Apigee API proxy bundles locally.
//
//	apigo serve [flags] [PATH...]     serve bundles, zips or workspaces
//	apigo validate [flags] [PATH...]  load and build them, print every problem
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

const usage = `apigo runs Apigee API proxy bundles locally.

Usage:
  apigo serve [flags] [PATH...]      serve bundles, zips or workspaces (default .)
  apigo validate [flags] [PATH...]   load and build as serve would; print every problem
  apigo test [flags] [FILE|DIR...]   run *.test.yaml proxy tests offline, with mocks (default .)
  apigo version

Run "apigo COMMAND -h" for a command's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: tests call it.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stdout, stderr, nil)
	case "validate":
		return validate(args[1:], stdout, stderr)
	case "test":
		return test(args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "apigo", version)
		return 0
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "apigo: unknown command %q\n\n%s", args[0], usage)
	return 2
}

var version = "dev"

// usageExit is the exit status for a flag parsing error: 0 for -h, else 2.
func usageExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}
