package exchange

import "github.com/apigo/apigo/policy/template"

// Format renders a typed value the way Apigee prints it into templates and
// string contexts (template.Format: nil "", strings as is, bool
// "true"/"false", integers in decimal, floating point like Java's
// Double.toString, collections "[a, b]"), and a *Message as its content.
func Format(v any) string {
	if m, ok := v.(*Message); ok {
		if m == nil {
			return ""
		}
		_ = m.Materialize()
		return string(m.Body)
	}
	return template.Format(v)
}
