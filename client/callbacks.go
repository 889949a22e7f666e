package client

import "github.com/netkit/websocket/internal/serial"

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

// registry holds the callbacks of each event (serial.List: copy-on-write, read without a
// lock by the dispatching goroutine; changed under the owner's mutex). Callbacks are never
// called with that mutex held.
type registry [numEvents]serial.List[Callback]

func (r *registry) list(t OnOffType) []Callback     { return r[t].Load() }
func (r *registry) add(t OnOffType, cb Callback)    { r[t].Add(cb) }
func (r *registry) remove(t OnOffType, cb Callback) { r[t].Remove(cb) }
func (r *registry) clear(t OnOffType)               { r[t].Clear() }

// each calls call for every callback of t, skipping those removed meanwhile (serial.List.Each).
func (r *registry) each(t OnOffType, call func(Callback)) { r[t].Each(call) }
