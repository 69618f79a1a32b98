package main

import (
	"fmt"
	"io"
	"net/url"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/apiproduct"
)

// printCredentials lists the developer apps' keys at start: keys apigo
// generates are random, and a user needs them to call a protected proxy.
// This console line is the only place secrets are shown.
func printCredentials(w io.Writer, data *bundle.Data) {
	if data == nil {
		return
	}
	for _, l := range apiproduct.For(data).Credentials() {
		fmt.Fprintln(w, "credential", l.String())
	}
}

// redactURL hides a password in a store URL.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}
