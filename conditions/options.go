package conditions

// config holds the behaviours the Apigee documentation leaves open.
type config struct {
	bare              BareMode
	pathTrailingSlash bool
	pathEmptyIsSlash  bool
}

func defaultConfig() config {
	return config{bare: BareTrue, pathTrailingSlash: true, pathEmptyIsSlash: true}
}

// Option changes how a condition is compiled.
type Option func(*config)

// BareMode says when a bare operand (a condition or term that is just a
// variable or literal, such as "is.error" or "!valid") is true.
type BareMode uint8

const (
	// BareTrue (the default): boolean true, or a string equal to "true" in
	// any letter case.
	BareTrue BareMode = iota
	// BareBoolOnly: only boolean true; strings are false.
	BareBoolOnly
	// BareNotEmpty: any value except null, false, "", "false" (any case)
	// and numeric zero.
	BareNotEmpty
)

// BareOperand sets how bare operands are tested. Default: BareTrue.
func BareOperand(mode BareMode) Option {
	return func(c *config) { c.bare = mode }
}

// MatchesPathTrailingSlash sets whether a trailing '/' is significant for
// MatchesPath/LikePath/~/. Default true: "/animals" does not match
// "/animals/", as in the reference's examples. With false, one trailing '/'
// is ignored on both the pattern and the path.
func MatchesPathTrailingSlash(significant bool) Option {
	return func(c *config) { c.pathTrailingSlash = significant }
}

// MatchesPathEmptyIsSlash sets whether an empty path matches as "/" for
// MatchesPath. Default true: a request to the bare base path has an empty
// proxy.pathsuffix, and bundles test it with MatchesPath "/". With false the
// empty path only matches an empty pattern.
func MatchesPathEmptyIsSlash(on bool) Option {
	return func(c *config) { c.pathEmptyIsSlash = on }
}
