package conn

import (
	"io"
	"net"
	"sync/atomic"
	"time"
)

// ReadActivity is what the reading side of a Conn has seen of the network, for a keepalive
// that runs beside the reader (see Config.TrackReads and Conn.ReadActivity).
type ReadActivity struct {
	// Received reports whether bytes arrived from the network since the previous
	// ReadActivity call: any bytes, a part of a frame included, not only whole messages.
	Received bool
	// Waiting is how long the read in progress has been waiting for input on the network;
	// 0 when no read waits (the reader is busy with input it has, or the application is
	// not reading). Bytes received before that wait began, so the last bytes arrived at
	// least Waiting ago.
	Waiting time.Duration
	// Waited is the total time reads have spent waiting for input on the network since the
	// Conn was made, the current wait included. It only grows: the difference of two calls
	// is the time the reader waited on an empty socket between them. While the application
	// holds the reader back (no read call, or a read busy with buffered input), it does not
	// grow; bytes the kernel holds meanwhile are read as soon as the reader comes back, so
	// the time counted is time in which the peer provably sent nothing.
	Waited time.Duration
}

// ReadActivity returns what the reader has seen of the network (see ReadActivity) and
// clears the record of received bytes. It is meant for one keepalive per connection, which
// calls it from its own goroutine; it takes no lock. Without Config.TrackReads it returns
// the zero ReadActivity.
func (c *Conn) ReadActivity() ReadActivity {
	a := c.act
	if a == nil {
		return ReadActivity{}
	}
	now := monoNow()
	// waited before since: a wait that ends between the two loads is then counted once or
	// not at all (endWait clears since before it adds to waited), never twice.
	waited := a.waited.Load()
	var waiting int64
	if s := a.since.Load(); s != 0 && now > s {
		waiting = now - s
	}
	got := a.got.Swap(false)
	return ReadActivity{Received: got, Waiting: time.Duration(waiting), Waited: time.Duration(waited + waiting)}
}

// activity is the record behind ReadActivity, written by the goroutine that reads the
// network (the frame reader's source) and read by the keepalive.
type activity struct {
	got    atomic.Bool  // bytes arrived since ReadActivity looked
	since  atomic.Int64 // monoNow when the current wait began; 0 when no read waits
	waited atomic.Int64 // nanoseconds spent in finished waits
}

// epoch is the origin of monoNow.
var epoch = time.Now()

// monoNow returns the monotonic clock in nanoseconds since epoch, never 0.
func monoNow() int64 { return int64(time.Since(epoch)) | 1 }

// received records that bytes arrived: a load, and a store only when the flag was clear
// (once per ReadActivity call), so a busy reader pays a plain load per read.
func (a *activity) received() {
	if !a.got.Load() {
		a.got.Store(true)
	}
}

// beginWait records that the reader starts waiting for input, unless it waits already.
func (a *activity) beginWait() {
	if a.since.Load() == 0 {
		a.since.Store(monoNow())
	}
}

// endWait records that the reader stopped waiting, if it waited.
func (a *activity) endWait() {
	if s := a.since.Load(); s != 0 {
		a.since.Store(0)
		a.waited.Add(monoNow() - s)
	}
}

// trackedRead is a Read of the network that records the wait and the bytes in a.
func trackedRead(a *activity, r io.Reader, p []byte) (int, error) {
	a.beginWait()
	n, err := r.Read(p)
	a.endWait()
	if n > 0 {
		a.received()
	}
	return n, err
}

// trackedSource is the frame reader's source for a net.Conn without the raw-read path (TLS,
// wrappers) when reads are tracked: a read in progress counts as waiting on the network.
type trackedSource struct {
	net.Conn
	act *activity
}

func (s *trackedSource) Read(p []byte) (int, error) { return trackedRead(s.act, s.Conn, p) }
