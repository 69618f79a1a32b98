package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/apigo/apigo/flow"
)

// serveControl lets tests learn the bound address and stop the server the
// way SIGTERM does.
type serveControl struct {
	ready chan string   // receives "host:port" once listening
	stop  chan struct{} // closing it drains and stops
}

// engineHandler serves with the current engine; --watch swaps it.
type engineHandler struct{ cur atomic.Pointer[flow.Engine] }

func (h *engineHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.cur.Load().ServeHTTP(w, r)
}

func serve(args []string, stdout, stderr io.Writer, ctl *serveControl) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var lf loadFlags
	lf.register(fs)
	addr := fs.String("addr", "127.0.0.1:8998", "listen address `HOST:PORT`")
	watch := fs.Bool("watch", false, "rebuild when a file under a PATH changes; a failed rebuild keeps the old build serving")
	quiet := fs.Bool("quiet", false, "do not log one line per request")
	traceDir := fs.String("trace", "", "write each request's trace as JSON into `DIR` (one file per request)")
	if err := fs.Parse(args); err != nil {
		return usageExit(err)
	}
	paths := fs.Args()
	if len(paths) == 0 {
		paths = []string{"."}
	}
	var logMu sync.Mutex
	logger := log.New(stdout, "", log.LstdFlags|log.Lmicroseconds)
	opts := flow.Options{}
	if !*quiet {
		opts.Log = func(line string) { logMu.Lock(); logger.Print(line); logMu.Unlock() }
	}
	if *traceDir != "" {
		if err := os.MkdirAll(*traceDir, 0o755); err != nil {
			fmt.Fprintln(stderr, "apigo serve:", err)
			return 1
		}
		opts.Trace = traceWriter(*traceDir, stderr)
	}
	st, err := lf.openStore()
	if err != nil {
		fmt.Fprintln(stderr, "apigo serve:", err)
		return 2
	}
	defer st.Close()
	opts.Store = st
	eng, ps, err := lf.load(paths, stderr, opts)
	if err != nil {
		fmt.Fprintln(stderr, "apigo serve:", err)
		return 2
	}
	fmt.Fprint(stderr, ps.String())
	if eng == nil {
		fmt.Fprintln(stderr, "apigo serve: not serving: the bundles have errors")
		return 1
	}
	for _, d := range eng.Deployed() {
		fmt.Fprintln(stdout, "deployed", d)
	}
	if lf.storeSpec != "" && lf.storeSpec != "memory" {
		fmt.Fprintln(stdout, "store", redactURL(lf.storeSpec))
	}
	printCredentials(stdout, lf.lastData)
	h := &engineHandler{}
	h.cur.Store(eng)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(stderr, "apigo serve:", err)
		return 1
	}
	fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr())
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second, ErrorLog: log.New(stderr, "", 0)}
	stop := make(chan struct{})
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
		defer signal.Stop(sig)
		var ctlStop chan struct{}
		if ctl != nil {
			ctlStop = ctl.stop
		}
		select {
		case <-sig:
		case <-ctlStop:
		}
		close(stop)
	}()
	if *watch {
		go watchLoop(paths, stop, func() {
			neng, nps, err := lf.load(paths, stderr, opts)
			switch {
			case err != nil:
				fmt.Fprintln(stderr, "apigo serve: rebuild:", err)
			case neng == nil:
				fmt.Fprint(stderr, nps.String())
				fmt.Fprintln(stderr, "apigo serve: rebuild failed; still serving the previous build")
			default:
				fmt.Fprint(stderr, nps.String())
				old := h.cur.Swap(neng)
				time.AfterFunc(time.Minute, old.Close)
				fmt.Fprintln(stdout, "rebuilt and swapped in")
			}
		})
	}
	if ctl != nil && ctl.ready != nil {
		ctl.ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		fmt.Fprintln(stderr, "apigo serve:", err)
		return 1
	case <-stop:
	}
	fmt.Fprintln(stdout, "draining in-flight requests")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(stderr, "apigo serve: shutdown:", err)
		return 1
	}
	h.cur.Load().Close()
	fmt.Fprintln(stdout, "stopped")
	return 0
}
