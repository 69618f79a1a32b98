package conditions

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// SyntaxError reports a condition that does not compile, with the place in
// the condition text where the problem is.
type SyntaxError struct {
	Offset int    // 0-based byte offset into Src
	Col    int    // 1-based column (in characters) within the line holding Offset
	Msg    string // what is wrong, e.g. "expected operand"
	Src    string // the condition text
}

// Error returns "col N: message".
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("col %d: %s", e.Col, e.Msg)
}

// Caret returns the source line holding the error, a newline, and a caret
// under the offending character.
func (e *SyntaxError) Caret() string {
	start, end := lineBounds(e.Src, e.Offset)
	line := e.Src[start:end]
	return line + "\n" + strings.Repeat(" ", e.Col-1) + "^"
}

// lineBounds returns the byte range of the line containing offset.
func lineBounds(src string, offset int) (int, int) {
	offset = min(max(offset, 0), len(src))
	start := strings.LastIndexByte(src[:offset], '\n') + 1
	end := strings.IndexByte(src[offset:], '\n')
	if end < 0 {
		return start, len(src)
	}
	return start, offset + end
}

// newSyntaxError builds a SyntaxError at a byte offset of src.
func newSyntaxError(src string, offset int, format string, args ...any) *SyntaxError {
	offset = min(max(offset, 0), len(src))
	start, _ := lineBounds(src, offset)
	return &SyntaxError{
		Offset: offset,
		Col:    utf8.RuneCountInString(src[start:offset]) + 1,
		Msg:    fmt.Sprintf(format, args...),
		Src:    src,
	}
}

// errorf is fmt.Errorf, short for messages that become SyntaxError text.
func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
