// Package template implements Apigee message templates: literal text with {ref}
// placeholders, where a ref is a flow variable name (with an optional :default) or one
// of the template functions of the Apigee X message-template reference (escapeJSON,
// substring, jsonPath, xpath, hmacSha256, timeFormatUTCMs, xeger, ...).
//
// A template is parsed once, at bundle build time, into an immutable, concurrency-safe
// *Template; literal function arguments (regular expressions, JSONPath and XPath
// expressions, SimpleDateFormat patterns) are compiled then. Render evaluates it against
// the flow variables of one exchange.
//
// Substitution rules (reference §5.1):
//   - '{' immediately followed by an ASCII letter or '_' starts a reference that runs to
//     the next '}' that is not inside a single-quoted function argument. Any other
//     '{' (followed by a quote, whitespace, a digit, '{', '}' ...) is literal text, so
//     JSON payloads such as {"a":1}, { "a": "{var}" } and {} pass through verbatim.
//   - "\{" is a legacy escape for a literal '{' (old RaiseFault payloads use it); the
//     backslash is dropped. RawBackslash keeps it.
//   - {name:default} renders default when name is unresolved; an unresolved reference
//     without a default renders "" and is reported by Execute.
//   - With Delimiters (AssignMessage Payload variablePrefix/variableSuffix) only the
//     custom delimiters start references; braces are literal unless AlsoBraces is given.
//
// The package also exports the JSONPath and XPath helpers that back the jsonPath and
// xpath functions, for reuse by ExtractVariables and other policies.
package template
