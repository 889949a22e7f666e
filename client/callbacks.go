package client

// Callback is a callback made by one of the constructors of this package:
// NewWebSocketAsyncCallback, NewWebSocketErrorCallback, NewDataEndCallback or
// NewHeaderReceiveCallback. On and Off compare callbacks by pointer.
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

func (*WebSocketAsyncCallback[T]) callback() {}
func (*WebSocketErrorCallback) callback()    {}
func (*DataEndCallback) callback()           {}
func (*HeaderReceiveCallback) callback()     {}

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
	}
	return false
}

// registry holds the callbacks of each event, in registration order. The owner's mutex guards
// it; callbacks are never called with that mutex held.
type registry [numEvents][]Callback

func (r *registry) add(t OnOffType, cb Callback) {
	for _, c := range r[t] {
		if c == cb {
			return
		}
	}
	r[t] = append(r[t], cb)
}

func (r *registry) remove(t OnOffType, cb Callback) {
	list := r[t]
	for i, c := range list {
		if c == cb {
			// Copy so that a snapshot taken by a running dispatch is not disturbed.
			n := make([]Callback, 0, len(list)-1)
			n = append(n, list[:i]...)
			r[t] = append(n, list[i+1:]...)
			return
		}
	}
}

func (r *registry) has(t OnOffType, cb Callback) bool {
	for _, c := range r[t] {
		if c == cb {
			return true
		}
	}
	return false
}
