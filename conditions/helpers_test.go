package conditions

// mapVars is a map-backed Vars holding preboxed values.
type mapVars map[string]any

func (m mapVars) Lookup(name string) (any, bool) {
	v, ok := m[name]
	return v, ok
}
