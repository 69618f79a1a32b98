// Package conditions compiles Apigee condition expressions, the text of every
// <Condition> element of Flows, Steps, RouteRules and FaultRules, into
// programs that are evaluated many times against flow variables.
//
// Compile parses Apigee's own grammar (operators, word aliases in any letter
// case, Java precedence, typed literals, single-quoted variable names, XML
// entities left escaped) and lowers it onto an expr-lang/expr program: the
// boolean structure (and, or, not, with short-circuit) is an expr program and
// every comparison is a leaf that expr calls, holding pre-built accessors for
// its operands and any pattern compiled at Compile time. No expr type appears
// in this package's API.
//
// Evaluation follows Apigee's typing rules: values keep their Java type
// (Integer, Long, Float, Double, Boolean, String), a String on either side
// makes the comparison a string comparison, numbers are promoted, unknown
// variables are null and the null-operand table decides the result. Eval never
// panics and never returns an error: a condition that cannot be decided is
// false.
//
// Behaviours the Apigee documentation leaves open are options:
//
//   - BareOperand (default BareTrue): how a bare operand such as
//     <Condition>is.error</Condition> is tested. BareTrue: boolean true or the
//     string "true" in any letter case.
//   - MatchesPathTrailingSlash (default true, significant): whether "/animals"
//     and "/animals/" are different paths for MatchesPath.
//   - MatchesPathEmptyIsSlash (default true): whether an empty path (the
//     proxy.pathsuffix of a request to the bare base path) matches the
//     pattern "/".
package conditions
