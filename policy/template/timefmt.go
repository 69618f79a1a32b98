package template

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// dateFormat is a compiled java.text.SimpleDateFormat pattern, always printed in UTC
// (Apigee X formats template times in UTC).
type dateFormat []dateToken

// dateToken is a run of one pattern letter (count times), or literal text.
type dateToken struct {
	letter byte
	count  int
	lit    string
}

const dateLetters = "GyYMLwWDdFEuaHkKhmsSzZX"

// compileDateFormat translates a SimpleDateFormat pattern: letters such as yyyy MM dd
// HH mm ss SSS EEE a z Z X, 'quoted text' and two single quotes for a quote. An unknown letter or an
// unterminated quote is an error, as in Java.
func compileDateFormat(pattern string) (dateFormat, error) {
	var f dateFormat
	for i := 0; i < len(pattern); {
		c := pattern[i]
		switch {
		case c == '\'':
			lit, n, err := quotedDateText(pattern, i)
			if err != nil {
				return nil, err
			}
			f = append(f, dateToken{lit: lit})
			i = n
		case ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z'):
			if !strings.ContainsRune(dateLetters, rune(c)) {
				return nil, fmt.Errorf("illegal pattern character %q in date format %q", c, pattern)
			}
			n := i
			for n < len(pattern) && pattern[n] == c {
				n++
			}
			if c == 'X' && n-i > 3 {
				return nil, fmt.Errorf("invalid ISO 8601 zone pattern %q", pattern[i:n])
			}
			f = append(f, dateToken{letter: c, count: n - i})
			i = n
		default:
			f = append(f, dateToken{lit: pattern[i : i+1]})
			i++
		}
	}
	return f, nil
}

// quotedDateText reads '...' at s[i] (two single quotes are one quote, inside or outside quotes).
func quotedDateText(s string, i int) (string, int, error) {
	if strings.HasPrefix(s[i:], "''") {
		return "'", i + 2, nil
	}
	var b strings.Builder
	for j := i + 1; j < len(s); j++ {
		if s[j] != '\'' {
			b.WriteByte(s[j])
			continue
		}
		if j+1 < len(s) && s[j+1] == '\'' {
			b.WriteByte('\'')
			j++
			continue
		}
		return b.String(), j + 1, nil
	}
	return "", 0, fmt.Errorf("unterminated quote in date format %q", s)
}

func (f dateFormat) format(t time.Time) string {
	t = t.UTC()
	var b strings.Builder
	for _, tok := range f {
		if tok.letter == 0 {
			b.WriteString(tok.lit)
			continue
		}
		b.WriteString(dateField(t, tok.letter, tok.count))
	}
	return b.String()
}

// dateField prints one pattern letter repeated count times.
func dateField(t time.Time, c byte, count int) string {
	switch c {
	case 'G':
		if t.Year() <= 0 {
			return "BC"
		}
		return "AD"
	case 'y':
		return yearField(t.Year(), count)
	case 'Y':
		y, _ := usWeek(t)
		return yearField(y, count)
	case 'M', 'L':
		return monthField(t.Month(), count)
	case 'E':
		if count >= 4 {
			return t.Weekday().String()
		}
		return t.Weekday().String()[:3]
	case 'a':
		if t.Hour() < 12 {
			return "AM"
		}
		return "PM"
	case 'z':
		if count >= 4 {
			return "Coordinated Universal Time"
		}
		return "UTC"
	case 'Z':
		return "+0000"
	case 'X':
		return "Z"
	}
	return pad(dateNumber(t, c), count)
}

// dateNumber returns the numeric fields.
func dateNumber(t time.Time, c byte) int {
	switch c {
	case 'w':
		_, w := usWeek(t)
		return w
	case 'W':
		first := int(t.AddDate(0, 0, 1-t.Day()).Weekday())
		return (t.Day()-1+first)/7 + 1
	case 'D':
		return t.YearDay()
	case 'd':
		return t.Day()
	case 'F':
		return (t.Day()-1)/7 + 1
	case 'u':
		if t.Weekday() == time.Sunday {
			return 7
		}
		return int(t.Weekday())
	case 'H':
		return t.Hour()
	case 'k':
		if t.Hour() == 0 {
			return 24
		}
		return t.Hour()
	case 'K':
		return t.Hour() % 12
	case 'h':
		if t.Hour()%12 == 0 {
			return 12
		}
		return t.Hour() % 12
	case 'm':
		return t.Minute()
	case 's':
		return t.Second()
	case 'S':
		return t.Nanosecond() / int(time.Millisecond)
	}
	return 0
}

func yearField(y, count int) string {
	if count == 2 {
		return pad(((y%100)+100)%100, 2)
	}
	return pad(y, count)
}

func monthField(m time.Month, count int) string {
	switch {
	case count >= 4:
		return m.String()
	case count == 3:
		return m.String()[:3]
	}
	return pad(int(m), count)
}

func pad(n, width int) string {
	s := strconv.Itoa(n)
	if len(s) >= width {
		return s
	}
	return strings.Repeat("0", width-len(s)) + s
}

// usWeek returns the week year and week of year for Java's default (US) calendar:
// weeks start on Sunday and week 1 is the week containing January 1.
func usWeek(t time.Time) (year, week int) {
	y := t.Year()
	next := time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC)
	startOfNextWeek1 := next.AddDate(0, 0, -int(next.Weekday()))
	if !t.Before(startOfNextWeek1) {
		return y + 1, 1
	}
	jan1 := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
	return y, (t.YearDay()-1+int(jan1.Weekday()))/7 + 1
}

var dateFormatCache = newCache(compileDateFormat)

// compileTimeFormat builds timeFormat* (fmt, epoch): unit is the epoch unit in
// milliseconds (1000 for seconds, 1 for milliseconds). All variants print UTC.
func compileTimeFormat(unit int64) func(args []arg) (evaluator, error) {
	return func(args []arg) (evaluator, error) {
		var fixed dateFormat
		if args[0].lit {
			f, err := compileDateFormat(args[0].text)
			if err != nil {
				return nil, &argError{0, err.Error()}
			}
			fixed = f
		}
		return func(e *env) (string, bool) {
			vals, ok := evalAll(e, args)
			if !ok {
				return "", false
			}
			f := fixed
			if f == nil {
				var err error
				if f, err = dateFormatCache.get(vals[0]); err != nil {
					return "", false
				}
			}
			ms, ok := epochMillis(vals[1], unit)
			if !ok {
				return "", false
			}
			return f.format(time.UnixMilli(ms)), true
		}, nil
	}
}

func epochMillis(s string, unit int64) (int64, bool) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n * unit, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false
	}
	return int64(f * float64(unit)), true
}
