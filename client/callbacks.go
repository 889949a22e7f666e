package client

import "sync/atomic"

// Callback is a callback made by one of the constructors of this package:
// NewWebSocketAsyncCallback, NewWebSocketErrorCallback, NewDataEndCallback,
// NewHeaderReceiveCallback or NewOpenInfoCallback. On and Off compare callbacks by pointer.
type Callback interface{ callback() }

// WebSocketAsyncCallback is the seed's WebSocketAsyncCallback<T>: a callback that gets an
// error or a value. err is nil on success (the seed's None); data is the zero T on failure.
//
// The event callbacks use T = map[uint32]string for OPEN, MessageData for MESSAGE and
// CloseResult for CLOSE; Connect, Send and Close use T = bool.
type WebSocketAsyncCallback[T any] struct {
	f func(err *AsyncError, data T)
}

// NewWebSocketAsyncCallback returns a callback that calls f. A nil f is allowed and does
// nothing.
func NewWebSocketAsyncCallback[T any](f func(err *AsyncError, data T)) *WebSocketAsyncCallback[T] {
	return &WebSocketAsyncCallback[T]{f: f}
}

func (c *WebSocketAsyncCallback[T]) invoke(err *AsyncError, data T) {
	if c != nil && c.f != nil {
		c.f(err, data)
	}
}

// WebSocketErrorCallback is the seed's WebSocketErrorCallback, for ERROR events.
type WebSocketErrorCallback struct {
	f func(err *BusinessException)
}

// NewWebSocketErrorCallback returns an ERROR callback that calls f.
func NewWebSocketErrorCallback(f func(err *BusinessException)) *WebSocketErrorCallback {
	return &WebSocketErrorCallback{f: f}
}

// DataEndCallback is the callback of DATAEND events (the seed's Callback0Argument).
type DataEndCallback struct {
	f func()
}

// NewDataEndCallback returns a DATAEND callback that calls f.
func NewDataEndCallback(f func()) *DataEndCallback { return &DataEndCallback{f: f} }

// HeaderReceiveCallback is the callback of HEADERRECEIVE events (the seed's
// Callback1Argument<ResponseHeaders>).
type HeaderReceiveCallback struct {
	f func(headers ResponseHeaders)
}

// NewHeaderReceiveCallback returns a HEADERRECEIVE callback that calls f.
func NewHeaderReceiveCallback(f func(headers ResponseHeaders)) *HeaderReceiveCallback {
	return &HeaderReceiveCallback{f: f}
}

// OpenInfoCallback is the callback of openInfo events (EventOpenInfo; the platform's
// Callback<WebSocketOpenInfo>).
type OpenInfoCallback struct {
	f func(info WebSocketOpenInfo)
}

// NewOpenInfoCallback returns an openInfo callback that calls f. A nil f is allowed and does
// nothing.
func NewOpenInfoCallback(f func(info WebSocketOpenInfo)) *OpenInfoCallback {
	return &OpenInfoCallback{f: f}
}

func (*WebSocketAsyncCallback[T]) callback() {}
func (*WebSocketErrorCallback) callback()    {}
func (*DataEndCallback) callback()           {}
func (*HeaderReceiveCallback) callback()     {}
func (*OpenInfoCallback) callback()          {}

// fits reports whether cb is a non-nil callback of the type event t needs.
func fits(t OnOffType, cb Callback) bool {
	switch t {
	case EventOpen:
		c, ok := cb.(*WebSocketAsyncCallback[map[uint32]string])
		return ok && c != nil
	case EventMessage:
		c, ok := cb.(*WebSocketAsyncCallback[MessageData])
		return ok && c != nil
	case EventClose:
		c, ok := cb.(*WebSocketAsyncCallback[CloseResult])
		return ok && c != nil
	case EventError:
		c, ok := cb.(*WebSocketErrorCallback)
		return ok && c != nil
	case EventDataEnd:
		c, ok := cb.(*DataEndCallback)
		return ok && c != nil
	case EventHeaderReceive:
		c, ok := cb.(*HeaderReceiveCallback)
		return ok && c != nil
	case EventOpenInfo:
		c, ok := cb.(*OpenInfoCallback)
		return ok && c != nil
	}
	return false
}

// registry holds the callbacks of each event, in registration order, as copy-on-write lists:
// the dispatching goroutine reads a list with one atomic load and no lock; add and remove, which
// the owner's mutex serializes, never change a published list but publish a new one. Callbacks
// are never called with that mutex held.
type registry [numEvents]atomic.Pointer[[]Callback]

// list returns the callbacks of t; the slice must not be changed.
func (r *registry) list(t OnOffType) []Callback {
	if p := r[t].Load(); p != nil {
		return *p
	}
	return nil
}

// add appends cb to the callbacks of t, unless it is there already. The owner's mutex is held.
func (r *registry) add(t OnOffType, cb Callback) {
	list := r.list(t)
	for _, c := range list {
		if c == cb {
			return
		}
	}
	n := make([]Callback, len(list), len(list)+1)
	copy(n, list)
	n = append(n, cb)
	r[t].Store(&n)
}

// remove takes cb out of the callbacks of t. The owner's mutex is held.
func (r *registry) remove(t OnOffType, cb Callback) {
	list := r.list(t)
	for i, c := range list {
		if c == cb {
			if len(list) == 1 {
				r[t].Store(nil)
				return
			}
			n := make([]Callback, 0, len(list)-1)
			n = append(n, list[:i]...)
			n = append(n, list[i+1:]...)
			r[t].Store(&n)
			return
		}
	}
}

// clear removes every callback of t. The owner's mutex is held.
func (r *registry) clear(t OnOffType) { r[t].Store(nil) }

// still reports whether cb, taken from the list snapshot, is still registered for t: at once
// when the list was not replaced since the snapshot (the common case), else by a search.
func (r *registry) still(t OnOffType, snapshot []Callback, cb Callback) bool {
	cur := r.list(t)
	if len(cur) == len(snapshot) && (len(cur) == 0 || &cur[0] == &snapshot[0]) {
		return true
	}
	for _, c := range cur {
		if c == cb {
			return true
		}
	}
	return false
}
