package main

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// results holds every repetition's sample, by benchmark key and library name.
type results struct {
	cfg     config
	libs    []library
	keys    []string
	data    map[string]map[string][]sample
	errs    []string
	machine string
}

func newResults(cfg config, libs []library) *results {
	return &results{cfg: cfg, libs: libs, data: map[string]map[string][]sample{}, machine: machineLine()}
}

func (r *results) add(key, lib string, s sample) {
	if r.data[key] == nil {
		r.data[key] = map[string][]sample{}
	}
	r.data[key][lib] = append(r.data[key][lib], s)
}

// median returns the median of metric over the repetitions of key for lib.
func (r *results) median(key, lib, metric string) (float64, bool) {
	var vs []float64
	for _, s := range r.data[key][lib] {
		if v, ok := s[metric]; ok {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return 0, false
	}
	slices.Sort(vs)
	m := len(vs) / 2
	if len(vs)%2 == 0 {
		return (vs[m-1] + vs[m]) / 2, true
	}
	return vs[m], true
}

// span returns " (reps lo–hi)", the range of metric over the repetitions, or "" for fewer
// than two: how much the machine's noise moved the median's inputs.
func (r *results) span(key, lib, metric string) string {
	var vs []float64
	for _, s := range r.data[key][lib] {
		if v, ok := s[metric]; ok {
			vs = append(vs, v)
		}
	}
	if len(vs) < 2 {
		return ""
	}
	return fmt.Sprintf(" (reps %s–%s)", num(slices.Min(vs)), num(slices.Max(vs)))
}

// The roles of the libraries in the targets: ours, the peers, and the raw TCP floor.
const (
	oursLib   = "ours"
	facadeLib = "ours-facade"
	borrowLib = "ours-facade-borrow" // the facade with BorrowMessages
	rawLib    = "raw-tcp"
)

func isPeer(name string) bool {
	return name != oursLib && name != facadeLib && name != borrowLib && name != rawLib && name != oursLevel1Lib
}

// bestPeer returns the best median of metric among the peers (higher or lower is better).
func (r *results) bestPeer(key, metric string, higher bool) (float64, string, bool) {
	best, who, ok := 0.0, "", false
	for _, l := range r.libs {
		if !isPeer(l.name) {
			continue
		}
		v, has := r.median(key, l.name, metric)
		if has && (!ok || (higher && v > best) || (!higher && v < best)) {
			best, who, ok = v, l.name, true
		}
	}
	return best, who, ok
}

func machineLine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	load := ""
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			load = ", load average " + strings.Join(f[:3], " ") + " at start"
		}
	}
	return fmt.Sprintf("%s, %d cores, %s %s/%s, %s%s", cpu, runtime.NumCPU(), runtime.Version(),
		runtime.GOOS, runtime.GOARCH, time.Now().UTC().Format("2006-01-02 15:04 UTC"), load)
}

// num formats a metric with about three significant digits.
func num(v float64) string {
	switch a := math.Abs(v); {
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + " KiB"
	}
	return strconv.Itoa(n) + " B"
}

// column is one metric column of a table.
type column struct {
	title  string
	metric string
	higher bool // higher is better
	ratio  bool // show ours as a ratio to raw TCP
	pct    bool // the ratio as a percentage
}

// table writes one Markdown table: rows are libraries, columns metrics of benchmark keys.
// The best WebSocket client per column is bold (raw TCP is the floor, not a competitor).
func (r *results) table(b *strings.Builder, lead []string, keys []string, cols []column) {
	r.tableOf(b, r.libs, lead, keys, cols)
}

// tableOf is table with the rows of libs.
func (r *results) tableOf(b *strings.Builder, libs []library, lead []string, keys []string, cols []column) {
	b.WriteString("| library |")
	for _, h := range lead {
		b.WriteString(" " + h + " |")
	}
	b.WriteString("\n|---|")
	for range lead {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	for _, l := range libs {
		b.WriteString("| " + l.name + " |")
		for i, key := range keys {
			c := cols[i]
			v, ok := r.median(key, l.name, c.metric)
			if !ok {
				b.WriteString(" – |")
				continue
			}
			s := num(v)
			if l.name != rawLib {
				if best, bok := r.bestOf(libs, key, c.metric, c.higher); bok && best == v {
					s = "**" + s + "**"
				}
			}
			if c.ratio && (l.name == oursLib || l.name == facadeLib || l.name == borrowLib) {
				if raw, rok := r.median(key, rawLib, c.metric); rok && raw > 0 {
					if c.pct {
						s += fmt.Sprintf(" (%.0f%% of raw)", 100*v/raw)
					} else {
						s += fmt.Sprintf(" (%.2f× raw)", v/raw)
					}
				}
			}
			b.WriteString(" " + s + " |")
		}
		b.WriteString("\n")
	}
}

// bestOf returns the best median of metric among the WebSocket clients of libs (not raw TCP).
func (r *results) bestOf(libs []library, key, metric string, higher bool) (float64, bool) {
	best, ok := 0.0, false
	for _, l := range libs {
		if l.name == rawLib {
			continue
		}
		v, has := r.median(key, l.name, metric)
		if has && (!ok || (higher && v > best) || (!higher && v < best)) {
			best, ok = v, true
		}
	}
	return best, ok
}

func (r *results) has(key string) bool { return len(r.data[key]) > 0 }

// hasMain reports whether a benchmark of the main clients ran (not only the compression
// section, which has its own).
func (r *results) hasMain() bool {
	for _, k := range r.keys {
		if !isDeflateKey(k) {
			return true
		}
	}
	return false
}

// markdown renders every table, the targets and the errors.
func (r *results) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Client comparison (`make bench-peers`)\n\n")
	fmt.Fprintf(&b, "Machine: %s.\n\n", r.machine)
	fmt.Fprintf(&b, "Medians of %d interleaved repetitions (every library once per repetition, in the order below). "+
		"One fixed server in a separate process on 127.0.0.1 (gobwas/ws low-level API; raw TCP: length-prefixed). "+
		"**Bold**: best WebSocket client in the column (raw TCP is the floor, not a competitor).\n\n", r.cfg.reps)

	// Round trip.
	var keys []string
	var cols []column
	var heads []string
	for _, s := range r.cfg.rtSizes {
		k := "rt/" + strconv.Itoa(s)
		if !r.has(k) {
			continue
		}
		for _, c := range []column{{"p50", "p50", false, true, false}, {"p99", "p99", false, false, false}, {"p99.9", "p999", false, false, false}} {
			keys = append(keys, k)
			cols = append(cols, c)
			heads = append(heads, sizeName(s)+" "+c.title)
		}
	}
	if len(keys) > 0 {
		fmt.Fprintf(&b, "### Round trip (µs, lower is better; %d echoes per repetition)\n\n", r.cfg.rtCount)
		r.table(&b, heads, keys, cols)
		b.WriteString("\n")
	}

	// Throughput, per direction and size.
	for _, dir := range []struct{ kind, title, how string }{
		{"send", "Send", "client writes to the sink; timed until the sink acknowledges the last message"},
		{"recv", "Receive", "the source sends one prebuilt frame again and again; the client reads each message"},
	} {
		var any bool
		for _, s := range r.cfg.tpSizes {
			k := dir.kind + "/" + strconv.Itoa(s)
			if !r.has(k) {
				continue
			}
			if !any {
				fmt.Fprintf(&b, "### %s throughput (%s)\n\n", dir.title, dir.how)
				any = true
			}
			fmt.Fprintf(&b, "%s %s:\n\n", dir.title, sizeName(s))
			cs := []column{
				{"msgs/s", "msgs", true, false, false},
				{"MB/s", "mbs", true, true, true},
				{"allocs/msg", "allocs", false, false, false},
				{"B/msg", "bytes", false, false, false},
				{"CPU s/GB", "cpu", false, false, false},
			}
			var hs, ks []string
			for _, c := range cs {
				hs = append(hs, c.title)
				ks = append(ks, k)
			}
			r.table(&b, hs, ks, cs)
			b.WriteString("\n")
		}
		if any {
			b.WriteString("MB/s is 10^6 bytes of payload per second; allocs and bytes are runtime.MemStats " +
				"Mallocs/TotalAlloc deltas of the client process per message; CPU is getrusage user+system " +
				"of the client process per 10^9 payload bytes (the server is another process).\n\n")
		}
	}

	if r.has("handshake") {
		fmt.Fprintf(&b, "### Handshake (%d connects per repetition)\n\n", r.cfg.hsCount)
		cs := []column{
			{"connect p50 (µs)", "p50", false, false, false},
			{"connect p99 (µs)", "p99", false, false, false},
			{"allocs per connect+close", "allocs", false, false, false},
			{"B per connect+close", "bytes", false, false, false},
		}
		var hs, ks []string
		for _, c := range cs {
			hs = append(hs, c.title)
			ks = append(ks, "handshake")
		}
		r.table(&b, hs, ks, cs)
		b.WriteString("\nConnect: from the dial call until the library reports the connection open (TCP connect and " +
			"opening handshake). Close: the library's normal close (closing handshake where it has one).\n\n")
	}

	if r.has("idle") {
		fmt.Fprintf(&b, "### Memory per idle connection (%d connections)\n\n", r.cfg.idleConns)
		r.table(&b, []string{"bytes per connection", "of which heap", "of which stacks", "goroutines per connection"},
			[]string{"idle", "idle", "idle", "idle"}, []column{
				{"bytes", "bytes", false, false, false},
				{"heap", "heap", false, false, false},
				{"stacks", "stack", false, false, false},
				{"goroutines", "goroutines", false, false, false},
			})
		fmt.Fprintf(&b, "\nDefinition: open %d connections to the idle path, each with a reader waiting (a goroutine "+
			"blocked in the library's read, or the library's own read loop: gws ReadLoop, the facade's reader); "+
			"then runtime.GC() twice; (HeapInuse + StackInuse) after minus before, divided by %d.\n\n",
			r.cfg.idleConns, r.cfg.idleConns)
	}

	r.deflateMarkdown(&b)

	if t := r.targets(); t != "" {
		b.WriteString("### Targets (ours, from the medians above; ranges are ours over the repetitions; the facade against the blocking API of the same run)\n\n")
		b.WriteString(t)
		b.WriteString("\n")
	}

	if r.hasMain() {
		b.WriteString("### How each client is used\n\n")
		for _, l := range r.libs {
			fmt.Fprintf(&b, "- %s: %s\n", l.name, l.note)
		}
		b.WriteString("\n")
	}

	if len(r.errs) > 0 {
		b.WriteString("### Errors\n\n")
		for _, e := range r.errs {
			b.WriteString("- " + e + "\n")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// facadeTargets checks the facade against the blocking API of the same run (issue 9): round
// trip p50 ≤ 1.2× and p99.9 ≤ 2×, throughput ≥ 0.8×, connect+close ≤ 60 allocations, an idle
// connection ≤ 1.25× the blocking API's memory.
func (r *results) facadeTargets(line func(ok bool, format string, a ...any)) {
	r.facadeTargetsOf(facadeLib, "facade", line)
	r.facadeTargetsOf(borrowLib, "facade-borrow", line)
}

// facadeTargetsOf checks lib, named name in the lines, against the blocking API.
func (r *results) facadeTargetsOf(lib, name string, line func(ok bool, format string, a ...any)) {
	ratio := func(k, metric string) (f, o, q float64, ok bool) {
		f, fok := r.median(k, lib, metric)
		o, ook := r.median(k, oursLib, metric)
		if !fok || !ook || o == 0 {
			return 0, 0, 0, false
		}
		return f, o, f / o, true
	}
	for _, s := range r.cfg.rtSizes {
		k := "rt/" + strconv.Itoa(s)
		if f, o, q, ok := ratio(k, "p50"); ok {
			line(q <= 1.2, "%s round trip %s p50 %s µs = %.2f× the blocking API (%s µs); target ≤ 1.2×", name, sizeName(s), num(f), q, num(o))
		}
		if f, o, q, ok := ratio(k, "p999"); ok {
			line(q <= 2, "%s round trip %s p99.9 %s µs = %.2f× the blocking API (%s µs); target ≤ 2×", name, sizeName(s), num(f), q, num(o))
		}
	}
	for _, kind := range []string{"send", "recv"} {
		for _, s := range r.cfg.tpSizes {
			if f, o, q, ok := ratio(kind+"/"+strconv.Itoa(s), "mbs"); ok {
				line(q >= 0.8, "%s %s %s %s MB/s = %.2f× the blocking API (%s MB/s); target ≥ 0.8×", name, kind, sizeName(s), num(f), q, num(o))
			}
		}
	}
	if v, ok := r.median("handshake", lib, "allocs"); ok {
		line(v <= 60, "%s %s allocations per connect+close; target ≤ 60", name, num(v))
	}
	if f, o, q, ok := ratio("idle", "bytes"); ok {
		line(q <= 1.25, "%s idle connection %s B = %.2f× the blocking API (%s B); target ≤ 1.25×", name, num(f), q, num(o))
	}
}

// targets checks the targets against the medians; one line each, "met" or "MISSED".
func (r *results) targets() string {
	var b strings.Builder
	line := func(ok bool, format string, a ...any) {
		verdict := "met"
		if !ok {
			verdict = "MISSED"
		}
		fmt.Fprintf(&b, "- %s: %s\n", verdict, fmt.Sprintf(format, a...))
	}
	for _, s := range r.cfg.rtSizes {
		k := "rt/" + strconv.Itoa(s)
		if ours, ok := r.median(k, oursLib, "p50"); ok {
			if raw, rok := r.median(k, rawLib, "p50"); rok {
				line(ours <= 1.15*raw, "round trip %s p50 %s µs%s = %.2f× raw TCP (%s µs); target ≤ 1.15×", sizeName(s), num(ours), r.span(k, oursLib, "p50"), ours/raw, num(raw))
			}
		}
		if ours, ok := r.median(k, oursLib, "p999"); ok {
			if best, who, bok := r.bestPeer(k, "p999", false); bok {
				line(ours <= best, "round trip %s p99.9 %s µs%s vs best peer %s %s µs; target ≤ best peer", sizeName(s), num(ours), r.span(k, oursLib, "p999"), who, num(best))
			}
		}
	}
	for _, kind := range []string{"send", "recv"} {
		for _, s := range r.cfg.tpSizes {
			k := kind + "/" + strconv.Itoa(s)
			ours, ok := r.median(k, oursLib, "mbs")
			if !ok {
				continue
			}
			if best, who, bok := r.bestPeer(k, "mbs", true); bok {
				line(ours >= best, "%s %s %s MB/s%s = %.0f%% of best peer %s (%s MB/s); target ≥ 100%%", kind, sizeName(s), num(ours), r.span(k, oursLib, "mbs"), 100*ours/best, who, num(best))
			}
			if s >= 64<<10 {
				if raw, rok := r.median(k, rawLib, "mbs"); rok {
					line(ours >= 0.8*raw, "%s %s %.0f%% of raw TCP (%s MB/s); target ≥ 80%%", kind, sizeName(s), 100*ours/raw, num(raw))
				}
			}
		}
	}
	for _, lib := range []struct {
		name  string
		limit float64
	}{{oursLib, 0}, {facadeLib, 1}, {borrowLib, 1}} {
		worst, where, ok := 0.0, "", false
		for _, kind := range []string{"send", "recv"} {
			for _, s := range r.cfg.tpSizes {
				k := kind + "/" + strconv.Itoa(s)
				if v, has := r.median(k, lib.name, "allocs"); has && (!ok || v > worst) {
					worst, where, ok = v, kind+" "+sizeName(s), true
				}
			}
		}
		if ok {
			// Whole allocations per message: the sink's ack and the source's requests add a
			// few per repetition, i.e. a small fraction per message.
			line(math.Round(worst) <= lib.limit, "%s allocations per message, worst %s (%s); target ≤ %.0f", lib.name, num(worst), where, lib.limit)
		}
	}
	if v, ok := r.median("handshake", oursLib, "allocs"); ok {
		floor := ""
		if raw, rok := r.median("handshake", rawLib, "allocs"); rok {
			floor = fmt.Sprintf(" (raw TCP connect+close alone: %s)", num(raw))
		}
		line(v <= 20, "handshake %s allocations per connect+close; target ≤ 20%s", num(v), floor)
	}
	if v, ok := r.median("handshake", oursLib, "p50"); ok {
		if best, who, bok := r.bestPeer("handshake", "p50", false); bok {
			line(v <= best, "handshake p50 %s µs%s vs best peer %s %s µs; target ≤ best peer", num(v), r.span("handshake", oursLib, "p50"), who, num(best))
		}
	}
	if v, ok := r.median("idle", oursLib, "bytes"); ok {
		line(v <= 5<<10, "idle connection %s B%s (%.2f KiB); target ≤ 5 KiB", num(v), r.span("idle", oursLib, "bytes"), v/1024)
		if best, who, bok := r.bestPeer("idle", "bytes", false); bok {
			line(v < best/2, "idle connection %s B vs best peer %s %s B; target < half (%s B)", num(v), who, num(best), num(best/2))
		}
	}
	r.facadeTargets(line)
	r.deflateTargets(line)
	return b.String()
}
