// Command peers compares WebSocket clients side by side on loopback: this module's blocking
// API and its seed facade, gorilla/websocket, coder/websocket, gobwas/ws (wsutil and the
// low-level API), lxzan/gws, and a raw TCP floor (the same bytes, length-prefixed, without
// WebSocket framing).
//
// The driver re-executes itself as one fixed server (a separate process, so that its CPU and
// memory are not the client's), then for each benchmark runs every library in turn, repeats
// that -reps times (A B C D ... A B C D ...), and prints the medians as Markdown tables:
// round-trip latency, send and receive throughput with allocations and CPU per byte, handshake
// latency and allocations, memory per idle connection, and a compression section
// (permessage-deflate send and receive of the JSON corpus in ../deflate/testdata, with the
// compressed bytes on the wire; its own list of clients, see deflate.go).
//
//	cd bench && go run ./peers                 # full run, about 5-10 minutes on 2 cores
//	cd bench && go run ./peers -quick          # smoke run, a few seconds
//	go run ./peers -only recv -sizes 64 -libs ours -cpuprofile recv64.pprof
//	go run ./peers -only handshake -libs ours -memprofile handshake.allocs
//	go run ./peers -only deflate -reps 2          # the compression section alone
//
// What it drives is RFC 6455 end to end: the opening handshake (§4.1, §4.2), data frames with
// client masking (§5.2, §5.3), fragmentation on the server side (§5.4), ping/pong (§5.5.2,
// §5.5.3) and the closing handshake (§5.5.1, §7). It lives in the bench module so that the
// library's go.mod never lists a competitor; it uses the library only through its public
// packages (client, conn, frame), and nothing may import it (it is a main package).
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"
)

func main() {
	if os.Getenv(serverEnv) != "" {
		if err := runServer(); err != nil {
			fmt.Fprintln(os.Stderr, "peers server:", err)
			os.Exit(1)
		}
		return
	}
	if err := mainErr(); err != nil {
		fmt.Fprintln(os.Stderr, "peers:", err)
		os.Exit(1)
	}
}

func mainErr() error {
	var (
		server = flag.Bool("server", false, "only run the server (prints its addresses, stops at EOF on stdin)")
		reps   = flag.Int("reps", 0, "repetitions per benchmark and library (default 7, -quick 1)")
		quick  = flag.Bool("quick", false, "tiny sizes and counts: a smoke test")
		only   = flag.String("only", "", "comma-separated benchmarks: rt,send,recv,handshake,idle,deflate (default all)")
		libs   = flag.String("libs", "", "comma-separated libraries (default all): "+libraryNames()+
			"\n(the deflate section runs those of its clients named so, ours also as ours-level1)")
		sizes   = flag.String("sizes", "", "comma-separated message sizes in bytes to keep (default all)")
		out     = flag.String("o", "", "also write the Markdown to this file")
		cpuprof = flag.String("cpuprofile", "", "write a CPU profile of the client (driver) process")
		memprof = flag.String("memprofile", "", "write an allocation profile of the client process (every allocation sampled),\nand heap profiles <file>.idle-<library> while the idle connections are open")
	)
	flag.Parse()
	if *server {
		return runServer()
	}
	opts := options{quick: *quick, reps: *reps, progress: os.Stderr, heapProfile: *memprof}
	var err error
	if opts.only, err = parseSet(*only, func(s string) (string, error) {
		switch s {
		case "rt", "send", "recv", "handshake", "idle", "deflate":
			return s, nil
		}
		return "", fmt.Errorf("unknown benchmark %q", s)
	}); err != nil {
		return err
	}
	if opts.sizes, err = parseSet(*sizes, strconv.Atoi); err != nil {
		return err
	}
	if opts.libs, err = selectLibraries(*libs); err != nil {
		return err
	}
	if *cpuprof != "" {
		f, err := os.Create(*cpuprof)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *memprof != "" {
		runtime.MemProfileRate = 1
	}
	res, err := run(opts)
	if err != nil {
		return err
	}
	if *memprof != "" {
		f, err := os.Create(*memprof)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			return err
		}
	}
	md := res.markdown()
	fmt.Print(md)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(md), 0o644); err != nil {
			return err
		}
	}
	if len(res.errs) > 0 {
		return fmt.Errorf("%d repetitions failed (see the Errors section)", len(res.errs))
	}
	return nil
}

func libraryNames() string {
	names := make([]string, len(libraries))
	for i, l := range libraries {
		names[i] = l.name
	}
	return strings.Join(names, ",")
}

func selectLibraries(list string) ([]library, error) {
	if list == "" {
		return libraries, nil
	}
	var out []library
	for _, name := range strings.Split(list, ",") {
		found := false
		for _, l := range libraries {
			if l.name == strings.TrimSpace(name) {
				out = append(out, l)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown library %q (have %s)", name, libraryNames())
		}
	}
	return out, nil
}

// selectedOf returns the clients of a section with its own list that -libs selected: those
// whose name, up to a "-level" suffix, is the name of a selected library; all when -libs was
// not given (selected nil).
func selectedOf(own, selected []library) []library {
	if selected == nil {
		return own
	}
	var out []library
	for _, l := range own {
		base, _, _ := strings.Cut(l.name, "-level")
		for _, s := range selected {
			if s.name == base {
				out = append(out, l)
				break
			}
		}
	}
	return out
}

func parseSet[T comparable](list string, parse func(string) (T, error)) (map[T]bool, error) {
	if list == "" {
		return nil, nil
	}
	set := map[T]bool{}
	for _, s := range strings.Split(list, ",") {
		v, err := parse(strings.TrimSpace(s))
		if err != nil {
			return nil, err
		}
		set[v] = true
	}
	return set, nil
}

// options selects what run does.
type options struct {
	quick    bool
	reps     int // 0: the default of the mode
	only     map[string]bool
	sizes    map[int]bool
	libs     []library // nil: all
	progress io.Writer // one line per repetition; nil for none
	// heapProfile is the prefix of the idle benchmark's heap profiles; "" for none.
	heapProfile string
}

// run starts the server, runs the selected benchmarks interleaved and returns the results.
func run(opts options) (*results, error) {
	cfg := fullConfig()
	if opts.quick {
		cfg = quickConfig()
	}
	if opts.reps > 0 {
		cfg.reps = opts.reps
	}
	libs := opts.libs
	if libs == nil {
		libs = libraries
	}
	srv, stop, err := startServer()
	if err != nil {
		return nil, err
	}
	defer stop()
	h := &harness{cfg: cfg, srv: srv, heapProfile: opts.heapProfile}
	res := newResults(cfg, libs)
	for _, b := range h.benches(opts.only, opts.sizes) {
		res.keys = append(res.keys, b.key())
		blibs := libs
		if b.libs != nil {
			blibs = selectedOf(b.libs, opts.libs)
		}
		for rep := 1; rep <= cfg.reps; rep++ {
			for _, lib := range blibs {
				s, err := b.run(lib)
				if err != nil {
					res.errs = append(res.errs, fmt.Sprintf("%s rep %d %s: %v", b.key(), rep, lib.name, err))
				} else {
					res.add(b.key(), lib.name, s)
				}
				if opts.progress != nil {
					fmt.Fprintf(opts.progress, "%-12s rep %d/%d %-16s %s\n", b.key(), rep, cfg.reps, lib.name, brief(s, err))
				}
			}
		}
	}
	return res, nil
}

func brief(s sample, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	var parts []string
	for _, k := range []string{"p50", "p99", "p999", "msgs", "mbs", "allocs", "bytes", "cpu", "wire"} {
		if v, ok := s[k]; ok {
			parts = append(parts, k+"="+num(v))
		}
	}
	return strings.Join(parts, " ")
}

// startServer re-executes this program as the server and returns its addresses and a function
// that stops it (EOF on its stdin, then a kill if it has not exited within 10 s).
func startServer() (addrs, func(), error) {
	exe, err := os.Executable()
	if err != nil {
		return addrs{}, nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), serverEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return addrs{}, nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return addrs{}, nil, err
	}
	if err := cmd.Start(); err != nil {
		return addrs{}, nil, err
	}
	exited := make(chan error, 1)
	stop := func() {
		stdin.Close()
		t := time.NewTimer(10 * time.Second)
		defer t.Stop()
		select {
		case <-exited:
		case <-t.C:
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- s
		// Wait only after the read: it closes the pipe.
		exited <- cmd.Wait()
	}()
	t := time.NewTimer(20 * time.Second)
	defer t.Stop()
	var first string
	select {
	case first = <-line:
	case <-t.C:
		_ = cmd.Process.Kill()
		stop()
		return addrs{}, nil, errors.New("server did not start within 20 s")
	}
	var a addrs
	if _, err := fmt.Sscanf(strings.TrimSpace(first), "ws=%s tcp=%s", &a.ws, &a.tcp); err != nil {
		stop()
		return addrs{}, nil, fmt.Errorf("server said %q: %w", first, err)
	}
	return a, stop, nil
}
