package exchange

import "strings"

// readOnly is the table of variables policies may not set (reference §4.2,
// §4.3): the engine sets them with SetSystem. A name ending in "." covers
// every name below it; an exact entry wins over a prefix entry, so writable
// exceptions are listed with false. Message properties (request.verb,
// response.status.code ...) have their own table in msgwrite.go.
var readOnly = map[string]bool{
	"proxy.":         true, // basepath, pathsuffix, url, name, client.ip
	"apiproxy.":      true, // name, revision, basepath
	"environment.":   true,
	"organization.":  true,
	"messageid":      true,
	"client.":        true,
	"system.":        true,
	"current.":       true, // flow.name, flow.description
	"route.":         true, // name, target
	"propertyset.":   true,
	"loadbalancing.": true,
	"is.error":       true,
	"fault.":         true, // name, reason, category, subcategory

	"target.name":        true,
	"target.basepath":    true,
	"target.host":        true,
	"target.port":        true,
	"target.ip":          true,
	"target.scheme":      true,
	"target.cn":          true,
	"target.sent.":       true,
	"target.received.":   true,
	"target.ssl.enabled": true,

	"error.message":           true,
	"error.state":             true,
	"error.status.code":       true,
	"error.transport.message": true,

	// Writable despite a read-only prefix.
	"target.url":              false,
	"target.evaluated.url":    false,
	"target.copy.pathsuffix":  false,
	"target.copy.queryparams": false,
	"target.header.host":      false,
	"target.expectedcn":       false,
}

// isReadOnly reports whether name is in the read-only table, by exact name
// first and then by its longest listed prefix.
func isReadOnly(name string) bool {
	if ro, ok := readOnly[name]; ok {
		return ro
	}
	for i := len(name) - 1; i > 0; i-- {
		if name[i] != '.' {
			continue
		}
		if ro, ok := readOnly[name[:i+1]]; ok {
			return ro
		}
	}
	return false
}

// IsPrivate reports whether a variable is masked in debug traces (private.*).
func IsPrivate(name string) bool { return strings.HasPrefix(name, "private.") }
