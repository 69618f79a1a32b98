package policy

import (
	"context"
	"fmt"
	"log"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/beevik/etree"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
	"github.com/apigo/apigo/policy/template"
)

func init() { Register("MessageLogging", "messagelogging", buildMessageLogging) }

// MessageLoggingQueue is how many rendered messages a MessageLogging
// policy holds while its sender catches up; more are dropped (logged).
const MessageLoggingQueue = 1024

// MessageLogging is a built <MessageLogging> policy. Execute renders the
// message templates on the request's goroutine and queues them; one
// goroutine per policy ships them, so a slow or unreachable destination
// never delays or fails a request (failures go to the process log).
//
//   - <Syslog>: to Host:Port over UDP (the default) or TCP, one message per
//     datagram or per line; with <FormatMessage>true the RFC 5424 header
//     "<PRI>1 TIMESTAMP HOST apigee - - - " is prepended. <SSLInfo> is not
//     supported (plain TCP).
//   - <File>: <FileName> is a local path (relative to the working
//     directory), appended to, one line per message (line breaks inside a
//     message become spaces). Rotation options are ignored.
//   - <CloudLogging>: apigo has no Cloud Logging; the message is written to
//     the process log (stderr) as "MessageLogging <name> <LogName> <level>:
//     <message>". Labels and ResourceType are ignored.
//
// Close flushes the queue and closes files and connections.
type MessageLogging struct {
	Name string
	// Level is logLevel (ALERT ... DEBUG), default INFO.
	Level string

	sinks []*logSink
	now   func() time.Time

	mu      sync.RWMutex
	started bool
	closed  bool
	queue   chan logItem
	done    chan struct{}
}

// logSink is one destination with its message template.
type logSink struct {
	kind    string // "Syslog", "File" or "CloudLogging"
	message *template.Template
	logName *template.Template // CloudLogging
	addr    string             // Syslog host:port
	network string             // "udp" or "tcp"
	format  bool               // FormatMessage
	file    string             // File

	conn net.Conn // owned by the sender goroutine
	f    *os.File // owned by the sender goroutine
}

type logItem struct {
	sink *logSink
	text string
	at   time.Time
}

func buildMessageLogging(bc *BuildContext, p *bundle.Policy) Policy {
	before := countErrors(bc.Problems)
	ml := &MessageLogging{Name: p.Name, Level: "INFO", now: bc.Now}
	for _, el := range p.Element.ChildElements() {
		switch el.Tag {
		case "Syslog", "File", "CloudLogging":
			if s := compileLogSink(bc, p, el); s != nil {
				ml.sinks = append(ml.sinks, s)
			}
		case "logLevel", "LogLevel":
			ml.Level = strings.ToUpper(strings.TrimSpace(el.Text()))
			if _, ok := syslogSeverity[ml.Level]; !ok {
				bc.Problems.Warnf(p.Doc.TextPos(el), "logLevel %q is not ALERT, CRITICAL, ERROR, WARN, NOTICE, INFO or DEBUG; INFO used", ml.Level)
				ml.Level = "INFO"
			}
		case "DisplayName", "Description", "Properties", "FaultRules", "BufferMessage":
		default:
			bc.Problems.Warnf(p.Doc.Pos(el), "unknown element <%s> in <MessageLogging>, ignored", el.Tag)
		}
	}
	if len(ml.sinks) == 0 && countErrors(bc.Problems) == before {
		bc.Problems.Errorf(p.Doc.Pos(p.Element), "<MessageLogging> %q needs <Syslog>, <File> or <CloudLogging>", p.Name)
	}
	if countErrors(bc.Problems) > before {
		return nil
	}
	return ml
}

var syslogSeverity = map[string]int{"ALERT": 1, "CRITICAL": 2, "ERROR": 3, "WARN": 4, "WARNING": 4, "NOTICE": 5, "INFO": 6, "DEBUG": 7}

func compileLogSink(bc *BuildContext, p *bundle.Policy, el *etree.Element) *logSink {
	s := &logSink{kind: el.Tag, network: "udp"}
	before := countErrors(bc.Problems)
	var host, port string
	for _, ch := range el.ChildElements() {
		switch text := strings.TrimSpace(ch.Text()); ch.Tag {
		case "Host":
			host = text
		case "Port":
			port = text
		default:
			s.child(bc, p, el, ch, text)
		}
	}
	if s.message == nil && countErrors(bc.Problems) == before {
		bc.Problems.Errorf(p.Doc.Pos(el), "<%s> needs a <Message>", el.Tag)
	}
	switch el.Tag {
	case "Syslog":
		if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 || host == "" {
			bc.Problems.Errorf(p.Doc.Pos(el), "<Syslog> needs a <Host> and a <Port> (got %q, %q)", host, port)
		}
		s.addr = net.JoinHostPort(host, port)
	case "File":
		if s.file == "" {
			bc.Problems.Errorf(p.Doc.Pos(el), "<File> needs a <FileName>")
		}
	}
	if countErrors(bc.Problems) > before {
		return nil
	}
	return s
}

// child compiles one child of <Syslog>, <File> or <CloudLogging>.
func (s *logSink) child(bc *BuildContext, p *bundle.Policy, el, ch *etree.Element, text string) {
	switch ch.Tag {
	case "Message":
		s.message = logTemplate(bc, p, ch)
	case "LogName":
		s.logName = logTemplate(bc, p, ch)
	case "Protocol":
		switch strings.ToUpper(text) {
		case "UDP":
			s.network = "udp"
		case "TCP":
			s.network = "tcp"
		default:
			bc.Problems.Errorf(p.Doc.TextPos(ch), "<Protocol> %q is not UDP or TCP", text)
		}
	case "FormatMessage":
		s.format = boolText(bc, p.Doc, ch)
	case "FileName":
		s.file = text
	case "SSLInfo":
		bc.Problems.Warnf(p.Doc.Pos(ch), "<SSLInfo> is not supported by apigo's MessageLogging; messages go over plain TCP")
	case "Labels", "ResourceType", "FileRotationOptions", "DateFormat":
	default:
		bc.Problems.Warnf(p.Doc.Pos(ch), "unknown element <%s> in <%s>, ignored", ch.Tag, el.Tag)
	}
}

// logTemplate compiles a <Message> or <LogName>; referencing a private.
// variable is allowed (the user asked for it) but warned about.
func logTemplate(bc *BuildContext, p *bundle.Policy, ch *etree.Element) *template.Template {
	t, err := template.Parse(ch.Text())
	if err != nil {
		bc.Problems.Errorf(p.Doc.TextPos(ch), "<%s>: invalid message template: %v", ch.Tag, err)
		return nil
	}
	for _, r := range t.Refs() {
		if exchange.IsPrivate(r) {
			bc.Problems.Warnf(p.Doc.TextPos(ch), "<%s> logs the private variable %s", ch.Tag, r)
		}
	}
	return t
}

// Execute renders and queues the messages; it never fails.
func (ml *MessageLogging) Execute(_ context.Context, x *exchange.Exchange) error {
	now := ml.now()
	for _, s := range ml.sinks {
		text := s.message.Render(x)
		if s.kind == "CloudLogging" && s.logName != nil {
			text = s.logName.Render(x) + " " + ml.Level + ": " + text
		}
		ml.enqueue(logItem{sink: s, text: text, at: now})
	}
	return nil
}

func (ml *MessageLogging) enqueue(it logItem) {
	ml.mu.RLock()
	if ml.started && !ml.closed {
		select {
		case ml.queue <- it:
		default:
			log.Printf("MessageLogging %s: queue full, message dropped", ml.Name)
		}
		ml.mu.RUnlock()
		return
	}
	ml.mu.RUnlock()
	ml.mu.Lock()
	defer ml.mu.Unlock()
	if ml.closed {
		log.Printf("MessageLogging %s: closed, message dropped", ml.Name)
		return
	}
	if !ml.started {
		ml.started = true
		ml.queue = make(chan logItem, MessageLoggingQueue)
		ml.done = make(chan struct{})
		go ml.send()
	}
	select {
	case ml.queue <- it:
	default:
		log.Printf("MessageLogging %s: queue full, message dropped", ml.Name)
	}
}

// send ships queued messages until Close.
func (ml *MessageLogging) send() {
	defer close(ml.done)
	host, _ := os.Hostname()
	for it := range ml.queue {
		if err := ml.ship(it, host); err != nil {
			log.Printf("MessageLogging %s: %s: %v", ml.Name, it.sink.kind, err)
		}
	}
	for _, s := range ml.sinks {
		if s.conn != nil {
			_ = s.conn.Close()
		}
		if s.f != nil {
			_ = s.f.Close()
		}
	}
}

func (ml *MessageLogging) ship(it logItem, host string) error {
	s := it.sink
	switch s.kind {
	case "CloudLogging":
		log.Printf("MessageLogging %s %s", ml.Name, it.text)
		return nil
	case "File":
		return s.writeFile(it.text)
	}
	msg := it.text
	if s.format {
		pri := 8 + syslogSeverity[ml.Level] // facility 1: user-level
		msg = fmt.Sprintf("<%d>1 %s %s apigee - - - %s", pri, it.at.UTC().Format(time.RFC3339Nano), orDash(host), msg)
	}
	return s.writeSyslog(msg)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (s *logSink) writeFile(text string) error {
	if s.f == nil {
		f, err := os.OpenFile(s.file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return err
		}
		s.f = f
	}
	line := strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(strings.TrimRight(text, "\r\n"))
	_, err := s.f.WriteString(line + "\n")
	return err
}

// writeSyslog sends one message, dialling again once after a failure (a
// restarted TCP listener).
func (s *logSink) writeSyslog(msg string) error {
	if s.network == "tcp" {
		msg = strings.TrimRight(msg, "\n") + "\n" // RFC 6587 non-transparent framing
	}
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		if s.conn == nil {
			s.conn, err = net.DialTimeout(s.network, s.addr, 5*time.Second)
			if err != nil {
				return err
			}
		}
		_ = s.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err = s.conn.Write([]byte(msg)); err == nil {
			return nil
		}
		_ = s.conn.Close()
		s.conn = nil
	}
	return err
}

// Close ships what is queued, then closes files and connections. Messages
// logged afterwards are dropped.
func (ml *MessageLogging) Close() {
	ml.mu.Lock()
	if ml.closed {
		ml.mu.Unlock()
		return
	}
	ml.closed = true
	started := ml.started
	if started {
		close(ml.queue)
	}
	ml.mu.Unlock()
	if started {
		<-ml.done
	}
}
