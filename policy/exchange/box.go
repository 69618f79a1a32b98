package exchange

// boxCache keeps recently boxed strings so that repeated lookups of the
// same message property (request.verb, request.path, a header) return the
// same interface value without allocating. Entries compare by content, so
// a message changed in place never yields a stale value.
type boxCache struct {
	slots [8]boxSlot
	next  uint8
}

type boxSlot struct {
	s string
	v any
}

func (c *boxCache) str(s string) any {
	if s == "" {
		return ""
	}
	for i := range c.slots {
		if c.slots[i].v != nil && c.slots[i].s == s {
			return c.slots[i].v
		}
	}
	v := any(s)
	c.slots[c.next%uint8(len(c.slots))] = boxSlot{s: s, v: v}
	c.next++
	return v
}

// smallInts are pre-boxed integers (status codes, counts) so reading them
// does not allocate.
var smallInts = func() (t [1000]any) {
	for i := range t {
		t[i] = i
	}
	return t
}()

func boxInt(n int) any {
	if n >= 0 && n < len(smallInts) {
		return smallInts[n]
	}
	return n
}
