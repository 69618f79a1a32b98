package jsmodel

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"strings"
	"time"

	"github.com/dop251/goja"
)

// hashes are getHash's algorithm names (Java's MessageDigest names, any
// case, with or without the dash).
var hashes = map[string]func() hash.Hash{
	"MD5": md5.New, "SHA1": sha1.New, "SHA-1": sha1.New, "SHA256": sha256.New, "SHA-256": sha256.New,
	"SHA224": sha256.New224, "SHA-224": sha256.New224, "SHA384": sha512.New384, "SHA-384": sha512.New384,
	"SHA512": sha512.New, "SHA-512": sha512.New,
}

func (vm *jsVM) initCryptoFns() {
	for name, alg := range map[string]string{"getMD5": "MD5", "getSHA1": "SHA-1", "getSHA256": "SHA-256", "getSHA512": "SHA-512"} {
		newHash := hashes[alg]
		vm.method(name, func(goja.FunctionCall) goja.Value { return vm.hashObject(newHash()) })
	}
	vm.method("getHash", func(c goja.FunctionCall) goja.Value {
		newHash, ok := hashes[strings.ToUpper(c.Argument(0).String())]
		if !ok {
			vm.throw("Error", "crypto.getHash: unsupported algorithm "+c.Argument(0).String())
		}
		return vm.hashObject(newHash())
	})
	vm.method("dateFormat", func(c goja.FunctionCall) goja.Value {
		return vm.r.ToValue(vm.dateFormat(c.Arguments))
	})
}

func (vm *jsVM) newCrypto() *goja.Object {
	o := vm.r.NewObject()
	for _, n := range []string{"getMD5", "getSHA1", "getSHA256", "getSHA512", "getHash", "dateFormat"} {
		_ = o.Set(n, vm.fn[n])
	}
	return o
}

// hashObject wraps h with update(text), digest() (hex) and digest64()
// (base64). Text is hashed as UTF-8.
func (vm *jsVM) hashObject(h hash.Hash) *goja.Object {
	o := vm.r.NewObject()
	_ = o.Set("update", func(c goja.FunctionCall) goja.Value {
		h.Write([]byte(jsString(c.Argument(0))))
		return o
	})
	_ = o.Set("digest", func() string { return hex.EncodeToString(h.Sum(nil)) })
	_ = o.Set("digest64", func() string { return base64.StdEncoding.EncodeToString(h.Sum(nil)) })
	return o
}

// dateFormat implements crypto.dateFormat(format[, timeZone = "UTC"[,
// epochMillis = now]]) with Java SimpleDateFormat patterns.
func (vm *jsVM) dateFormat(args []goja.Value) string {
	arg := func(i int) goja.Value {
		if i < len(args) {
			return args[i]
		}
		return goja.Undefined()
	}
	loc := time.UTC
	if tz := jsString(arg(1)); tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			vm.throw("Error", "crypto.dateFormat: unknown time zone "+tz)
		}
		loc = l
	}
	t := time.Now()
	if ms := arg(2); !goja.IsUndefined(ms) && !goja.IsNull(ms) {
		t = time.UnixMilli(ms.ToInteger())
	}
	return SimpleDateFormat(jsString(arg(0)), t.In(loc))
}

// SimpleDateFormat formats t with a Java SimpleDateFormat pattern
// (letters G y M d H h k K m s S E a z Z X D u w; 'quoted' text).
func SimpleDateFormat(pattern string, t time.Time) string {
	var b strings.Builder
	for i := 0; i < len(pattern); {
		c := pattern[i]
		if c == '\'' {
			i = quoted(pattern, i, &b)
			continue
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			b.WriteByte(c)
			i++
			continue
		}
		n := 1
		for i+n < len(pattern) && pattern[i+n] == c {
			n++
		}
		b.WriteString(dateField(c, n, t))
		i += n
	}
	return b.String()
}

// quoted copies 'text' (with ” as a quote) and returns the index after it.
func quoted(p string, i int, b *strings.Builder) int {
	if i+1 < len(p) && p[i+1] == '\'' {
		b.WriteByte('\'')
		return i + 2
	}
	for i++; i < len(p); i++ {
		if p[i] != '\'' {
			b.WriteByte(p[i])
			continue
		}
		if i+1 < len(p) && p[i+1] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		return i + 1
	}
	return i
}

func dateField(c byte, n int, t time.Time) string {
	switch c {
	case 'y', 'u':
		if c == 'u' {
			return pad(int(t.Weekday()+6)%7+1, n)
		}
		if n == 2 {
			return pad(t.Year()%100, 2)
		}
		return pad(t.Year(), n)
	case 'M':
		return monthField(n, t)
	case 'd':
		return pad(t.Day(), n)
	case 'D':
		return pad(t.YearDay(), n)
	case 'H':
		return pad(t.Hour(), n)
	case 'k':
		return pad((t.Hour()+23)%24+1, n)
	case 'K':
		return pad(t.Hour()%12, n)
	case 'h':
		return pad((t.Hour()+11)%12+1, n)
	case 'm':
		return pad(t.Minute(), n)
	case 's':
		return pad(t.Second(), n)
	case 'S':
		return pad(t.Nanosecond()/int(time.Millisecond), n)
	case 'E':
		if n >= 4 {
			return t.Weekday().String()
		}
		return t.Weekday().String()[:3]
	case 'a':
		return t.Format("PM")
	case 'w':
		_, w := t.ISOWeek()
		return pad(w, n)
	case 'G':
		return "AD"
	}
	return zoneField(c, n, t)
}

func monthField(n int, t time.Time) string {
	switch {
	case n >= 4:
		return t.Month().String()
	case n == 3:
		return t.Month().String()[:3]
	}
	return pad(int(t.Month()), n)
}

func zoneField(c byte, n int, t time.Time) string {
	switch c {
	case 'z':
		if n >= 4 {
			name, _ := t.Zone()
			return name
		}
		return t.Format("MST")
	case 'Z':
		return t.Format("-0700")
	case 'X':
		if _, off := t.Zone(); off == 0 {
			return "Z"
		}
		switch n {
		case 1:
			return t.Format("-07")
		case 2:
			return t.Format("-0700")
		}
		return t.Format("-07:00")
	}
	return strings.Repeat(string(c), n)
}

// pad writes v with at least n digits.
func pad(v, n int) string {
	s := itoa(v)
	if v < 0 {
		return s
	}
	for len(s) < n {
		s = "0" + s
	}
	return s
}
