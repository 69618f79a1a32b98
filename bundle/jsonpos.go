package bundle

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// jsonFile walks a JSON file value by value, keeping byte offsets so that
// every entry gets a file:line:col.
type jsonFile struct {
	file  string
	src   []byte
	lines lineTable
	ps    *Problems
}

func newJSONFile(file string, src []byte, ps *Problems) *jsonFile {
	return &jsonFile{file: file, src: src, lines: newLineTable(src), ps: ps}
}

func (j *jsonFile) pos(off int) Pos { return j.lines.pos(j.file, off) }

// check reports a syntax error of the whole file; false when there is one.
func (j *jsonFile) check() bool {
	var v any
	err := json.Unmarshal(j.src, &v)
	if err == nil {
		return true
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		j.ps.Errorf(j.pos(max(0, int(se.Offset)-1)), "malformed JSON: %v", err)
	} else {
		j.ps.Errorf(j.pos(0), "malformed JSON: %v", err)
	}
	return false
}

// valueStart skips blanks and separators to where the next value begins.
func (j *jsonFile) valueStart(off int) int {
	for off < len(j.src) && strings.IndexByte(" \t\r\n,:", j.src[off]) >= 0 {
		off++
	}
	return off
}

// kind returns the first byte of the value at off: '[', '{', '"', ...
func (j *jsonFile) kind(off int) byte {
	off = j.valueStart(off)
	if off < len(j.src) {
		return j.src[off]
	}
	return 0
}

// array calls fn for each element of the array at [off,end) with the
// element's offset; false when the value is not an array.
func (j *jsonFile) array(off, end int, fn func(raw []byte, off int)) bool {
	off = j.valueStart(off)
	if j.kind(off) != '[' {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(j.src[off:end]))
	if _, err := dec.Token(); err != nil {
		return false
	}
	for dec.More() {
		start := j.valueStart(off + int(dec.InputOffset()))
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return true
		}
		fn(raw, start)
	}
	return true
}

// object calls fn for each member of the object at [off,end) with the
// value's offset; false when the value is not an object.
func (j *jsonFile) object(off, end int, fn func(key string, raw []byte, off int)) bool {
	off = j.valueStart(off)
	if j.kind(off) != '{' {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(j.src[off:end]))
	if _, err := dec.Token(); err != nil {
		return false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return true
		}
		key, _ := tok.(string)
		start := j.valueStart(off + int(dec.InputOffset()))
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return true
		}
		fn(key, raw, start)
	}
	return true
}

// decode unmarshals raw into v, reporting a type error at off.
func (j *jsonFile) decode(raw []byte, off int, what string, v any) bool {
	if err := json.Unmarshal(raw, v); err != nil {
		j.ps.Errorf(j.pos(off), "bad %s: %v", what, err)
		return false
	}
	return true
}

// flexString accepts a JSON string, number or boolean.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch x := v.(type) {
	case nil:
		*f = ""
	case string:
		*f = flexString(x)
	case float64, bool:
		*f = flexString(strings.TrimSpace(string(b)))
	default:
		return fmt.Errorf("want a string, got %s", b)
	}
	return nil
}

// flexBool accepts true/false as JSON booleans or strings.
type flexBool struct {
	V, Set bool
}

func (f *flexBool) UnmarshalJSON(b []byte) error {
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	if s == "" {
		return nil
	}
	v, ok := parseBool(string(s))
	if !ok {
		return fmt.Errorf("want true or false, got %s", b)
	}
	*f = flexBool{V: v, Set: true}
	return nil
}

func (f flexBool) or(def bool) bool {
	if f.Set {
		return f.V
	}
	return def
}

// flexInt accepts an integer as a JSON number or string.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	if s == "" {
		return nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(s)), 10, 64)
	if err != nil {
		return fmt.Errorf("want an integer, got %s", b)
	}
	*f = flexInt(n)
	return nil
}

// flexStrings accepts a list of strings, or one string.
type flexStrings []string

func (f *flexStrings) UnmarshalJSON(b []byte) error {
	var one flexString
	if err := one.UnmarshalJSON(b); err == nil {
		if one != "" {
			*f = flexStrings{string(one)}
		}
		return nil
	}
	var many []flexString
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("want a list of strings, got %s", b)
	}
	*f = make(flexStrings, len(many))
	for i, s := range many {
		(*f)[i] = string(s)
	}
	return nil
}
