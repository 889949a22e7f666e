package server

import "github.com/netkit/websocket/internal/serial"

// Callback is a callback made by one of the constructors of this package:
// NewConnectCallback, NewMessageReceiveCallback, NewCloseCallback or NewErrorCallback for
// events, NewWebSocketAsyncCallback for results. On and Off compare callbacks by pointer.
type Callback interface{ callback() }

// WebSocketAsyncCallback is the platform's promise of Start, Stop, Send and Close as a
// callback: err is nil on success, and data is true; on failure data is false.
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

// ConnectCallback is the callback of connect events (the platform's
// Callback<WebSocketConnection>).
type ConnectCallback struct{ f func(c WebSocketConnection) }

// NewConnectCallback returns a connect callback that calls f (nil: nothing).
func NewConnectCallback(f func(c WebSocketConnection)) *ConnectCallback {
	return &ConnectCallback{f: f}
}

// MessageReceiveCallback is the callback of messageReceive events (the platform's
// Callback<WebSocketMessage>).
type MessageReceiveCallback struct{ f func(m WebSocketMessage) }

// NewMessageReceiveCallback returns a messageReceive callback that calls f (nil: nothing).
func NewMessageReceiveCallback(f func(m WebSocketMessage)) *MessageReceiveCallback {
	return &MessageReceiveCallback{f: f}
}

// CloseCallback is the callback of close events (the platform's
// ClientConnectionCloseCallback: the connection and its CloseResult).
type CloseCallback struct {
	f func(c WebSocketConnection, r CloseResult)
}

// NewCloseCallback returns a close callback that calls f (nil: nothing).
func NewCloseCallback(f func(c WebSocketConnection, r CloseResult)) *CloseCallback {
	return &CloseCallback{f: f}
}

// ErrorCallback is the callback of error events (the platform's ErrorCallback).
type ErrorCallback struct{ f func(err *BusinessException) }

// NewErrorCallback returns an error callback that calls f (nil: nothing).
func NewErrorCallback(f func(err *BusinessException)) *ErrorCallback {
	return &ErrorCallback{f: f}
}

func (*WebSocketAsyncCallback[T]) callback() {}
func (*ConnectCallback) callback()           {}
func (*MessageReceiveCallback) callback()    {}
func (*CloseCallback) callback()             {}
func (*ErrorCallback) callback()             {}

// fits reports whether cb is a non-nil callback of the type event t needs.
func fits(t OnOffType, cb Callback) bool {
	switch t {
	case EventConnect:
		c, ok := cb.(*ConnectCallback)
		return ok && c != nil
	case EventMessageReceive:
		c, ok := cb.(*MessageReceiveCallback)
		return ok && c != nil
	case EventClose:
		c, ok := cb.(*CloseCallback)
		return ok && c != nil
	case EventError:
		c, ok := cb.(*ErrorCallback)
		return ok && c != nil
	}
	return false
}

// registry holds the callbacks of each event (serial.List: copy-on-write, read without a
// lock by the dispatching goroutine; changed under the owner's mutex). Callbacks are never
// called with that mutex held.
type registry [numEvents]serial.List[Callback]

func (r *registry) add(t OnOffType, cb Callback)    { r[t].Add(cb) }
func (r *registry) remove(t OnOffType, cb Callback) { r[t].Remove(cb) }
func (r *registry) clear(t OnOffType)               { r[t].Clear() }

// each calls call for every callback of t, skipping those removed meanwhile (serial.List.Each).
func (r *registry) each(t OnOffType, call func(Callback)) { r[t].Each(call) }
