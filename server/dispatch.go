package server

import "github.com/netkit/websocket/internal/serial"

// task is one callback for a serial queue: a function, or one of the frequent kinds stored
// without a closure (a closure would be one allocation per message).
type task struct {
	f   func()                        // when not nil, the task
	cb  *WebSocketAsyncCallback[bool] // f == nil, s == nil: report a result
	err *AsyncError                   // the result's error; nil means success (true)
	s   *WebSocketServer              // f == nil, s != nil: deliver msg (messageReceive)
	msg WebSocketMessage
	sem chan struct{} // released after a queued message was delivered
}

func (t task) Run() {
	switch {
	case t.f != nil:
		t.f()
	case t.s != nil:
		t.s.emitMessage(t.msg)
		<-t.sem
	default:
		t.cb.invoke(t.err, t.err == nil)
	}
}

var taskArrays serial.FreeList[task]

// Arrays is the free list of the serial queues' arrays (serial.Task).
func (task) Arrays() *serial.FreeList[task] { return &taskArrays }

// serialQueue runs callbacks one at a time, in order (serial.Queue). The server has one for
// the events of no connection (refused clients, Start and Stop results) and one per
// connection.
type serialQueue struct{ serial.Queue[task] }

func (q *serialQueue) push(f func()) { q.Push(task{f: f}) }

// pushResult queues the report of a result to cb (nil: nothing): true when err is nil.
func (q *serialQueue) pushResult(cb *WebSocketAsyncCallback[bool], err *AsyncError) {
	if cb != nil {
		q.Push(task{cb: cb, err: err})
	}
}
