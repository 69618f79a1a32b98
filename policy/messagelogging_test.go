package policy

import (
	"bufio"
	"bytes"
	"log"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apigo/apigo/policy/exchange"
)

// syncBuffer is a bytes.Buffer the sender goroutine may log into while
// the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func mlExchange() *exchange.Exchange {
	x := scopedExchange()
	x.SetSystem("messageid", "m-1")
	x.Set("user", "ada")
	return x
}

func TestMessageLoggingUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Skipf("no UDP on loopback: %v", err)
	}
	defer pc.Close()
	host, port, _ := net.SplitHostPort(pc.LocalAddr().String())
	tests := []struct {
		format string
		want   *regexp.Regexp
	}{
		{"false", regexp.MustCompile(`^id=m-1 user=ada$`)},
		{"true", regexp.MustCompile(`^<12>1 2025-03-14T10:00:00Z \S+ apigee - - - id=m-1 user=ada$`)},
	}
	for _, tt := range tests {
		t.Run("FormatMessage="+tt.format, func(t *testing.T) {
			pol := mustBuild(t, `<MessageLogging name="ML"><Syslog><Message>id={messageid} user={user}</Message>
				<Host>`+host+`</Host><Port>`+port+`</Port><FormatMessage>`+tt.format+`</FormatMessage></Syslog><logLevel>WARN</logLevel></MessageLogging>`,
				stateBC(newTestClock(), nil))
			if err := execute(t, pol, mlExchange()); err != nil {
				t.Fatal(err)
			}
			pol.(*MessageLogging).Close()
			buf := make([]byte, 2048)
			pc.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				t.Fatalf("no datagram: %v", err)
			}
			if got := string(buf[:n]); !tt.want.MatchString(got) {
				t.Errorf("datagram = %q, want %v", got, tt.want)
			}
		})
	}
}

func TestMessageLoggingTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skipf("no TCP on loopback: %v", err)
	}
	defer ln.Close()
	lines := make(chan string, 10)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		sc := bufio.NewScanner(c)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	pol := mustBuild(t, `<MessageLogging name="ML"><Syslog><Message>n={n}</Message>
		<Host>`+host+`</Host><Port>`+port+`</Port><Protocol>TCP</Protocol></Syslog></MessageLogging>`, stateBC(newTestClock(), nil))
	for _, n := range []string{"1", "2", "3"} {
		x := mlExchange()
		x.Set("n", n)
		if err := execute(t, pol, x); err != nil {
			t.Fatal(err)
		}
	}
	pol.(*MessageLogging).Close()
	var got []string
	for len(got) < 3 {
		select {
		case l := <-lines:
			got = append(got, l)
		case <-time.After(5 * time.Second):
			t.Fatalf("got %q, want 3 lines", got)
		}
	}
	if strings.Join(got, ",") != "n=1,n=2,n=3" {
		t.Errorf("TCP lines = %q, want n=1,n=2,n=3 in order", got)
	}
}

func TestMessageLoggingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub.log")
	if err := os.WriteFile(path, []byte("existing\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pol := mustBuild(t, `<MessageLogging name="ML"><File><Message>{"user":"{user}",
"id":"{messageid}"}</Message><FileName>`+path+`</FileName><FileRotationOptions rotateFileOnStartup="true"/></File></MessageLogging>`, stateBC(newTestClock(), nil))
	for i := 0; i < 2; i++ {
		if err := execute(t, pol, mlExchange()); err != nil {
			t.Fatal(err)
		}
	}
	pol.(*MessageLogging).Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "existing\n" + `{"user":"ada", "id":"m-1"}` + "\n" + `{"user":"ada", "id":"m-1"}` + "\n"
	if string(b) != want {
		t.Errorf("file = %q, want %q", b, want)
	}
}

func TestMessageLoggingCloudLoggingToProcessLog(t *testing.T) {
	var buf syncBuffer
	log.SetOutput(&buf)
	defer log.SetOutput(os.Stderr)
	pol := mustBuild(t, `<MessageLogging name="ML"><CloudLogging><LogName>projects/{organization.name}/logs/apigee</LogName>
		<Message contentType="application/json">{"id":"{messageid}"}</Message><Labels><Label><Key>k</Key><Value>v</Value></Label></Labels></CloudLogging></MessageLogging>`,
		stateBC(newTestClock(), nil))
	if err := execute(t, pol, mlExchange()); err != nil {
		t.Fatal(err)
	}
	pol.(*MessageLogging).Close()
	if want := `MessageLogging ML projects/o1/logs/apigee INFO: {"id":"m-1"}`; !strings.Contains(buf.String(), want) {
		t.Errorf("process log = %q, want it to contain %q", buf.String(), want)
	}
}

// TestMessageLoggingFailureNeverFails: an unwritable file and a refused
// TCP connection are logged, the request goes on.
func TestMessageLoggingFailureNeverFails(t *testing.T) {
	var buf syncBuffer
	log.SetOutput(&buf)
	defer log.SetOutput(os.Stderr)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skip(err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	ln.Close()
	pol := mustBuild(t, `<MessageLogging name="ML">
		<File><Message>m</Message><FileName>`+filepath.Join(t.TempDir(), "no", "such", "dir", "x.log")+`</FileName></File>
		<Syslog><Message>m</Message><Host>127.0.0.1</Host><Port>`+strconv.Itoa(addr.Port)+`</Port><Protocol>TCP</Protocol></Syslog></MessageLogging>`,
		stateBC(newTestClock(), nil))
	if err := execute(t, pol, mlExchange()); err != nil {
		t.Errorf("Execute = %v, want nil whatever the destinations do", err)
	}
	pol.(*MessageLogging).Close()
	out := buf.String()
	if !strings.Contains(out, "MessageLogging ML: File:") || !strings.Contains(out, "MessageLogging ML: Syslog:") {
		t.Errorf("process log = %q, want both failures logged", out)
	}
	// After Close, messages are dropped, not panicking on a closed queue.
	if err := execute(t, pol, mlExchange()); err != nil {
		t.Errorf("Execute after Close = %v", err)
	}
}

func TestMessageLoggingBuildProblems(t *testing.T) {
	tests := []struct{ name, xml, want string }{
		{"nothing", `<MessageLogging name="ML"/>`, "needs <Syslog>, <File> or <CloudLogging>"},
		{"no message", `<MessageLogging name="ML"><File><FileName>x</FileName></File></MessageLogging>`, "<File> needs a <Message>"},
		{"no file name", `<MessageLogging name="ML"><File><Message>m</Message></File></MessageLogging>`, "<File> needs a <FileName>"},
		{"no port", `<MessageLogging name="ML"><Syslog><Message>m</Message><Host>h</Host></Syslog></MessageLogging>`, "needs a <Host> and a <Port>"},
		{"bad template", `<MessageLogging name="ML"><File><Message>{unclosed</Message><FileName>x</FileName></File></MessageLogging>`, "invalid message template"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pol, ps := buildXML(t, tt.xml, nil)
			if pol != nil || !strings.Contains(ps.String(), tt.want) {
				t.Errorf("build = %v, problems %q; want nil and %q", pol, ps.String(), tt.want)
			}
		})
	}
	_, ps := buildXML(t, `<MessageLogging name="ML"><File><Message>{private.secret}</Message><FileName>x</FileName></File></MessageLogging>`, nil)
	if ps.HasErrors() || !strings.Contains(ps.String(), "private variable private.secret") {
		t.Errorf("private reference problems = %q, want a warning", ps.String())
	}
}

func TestMessageLoggingQueueIsBounded(t *testing.T) {
	var buf syncBuffer
	log.SetOutput(&buf)
	defer log.SetOutput(os.Stderr)
	// A TCP listener that never reads nor accepts: the sender blocks on
	// the first message (5 s write deadline at worst), the queue fills.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skip(err)
	}
	defer ln.Close()
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	big := strings.Repeat("x", 64<<10)
	pol := mustBuild(t, `<MessageLogging name="ML"><Syslog><Message>{big}</Message><Host>`+host+`</Host><Port>`+port+`</Port><Protocol>TCP</Protocol></Syslog></MessageLogging>`, stateBC(newTestClock(), nil))
	x := mlExchange()
	x.Set("big", big)
	start := time.Now()
	for i := 0; i < MessageLoggingQueue+200; i++ {
		if err := execute(t, pol, x); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("queueing %d messages took %v: Execute blocked on a slow destination", MessageLoggingQueue+200, d)
	}
	if !strings.Contains(buf.String(), "queue full, message dropped") {
		t.Errorf("no drop was logged with a stuck destination")
	}
	go pol.(*MessageLogging).Close()
}
