package client

import "github.com/netkit/websocket/internal/serial"

// task is one callback for the serial queue: a function, or one of the frequent kinds stored
// without a closure (a closure would be one allocation per message).
type task struct {
	f   func()                        // when not nil, the task
	cb  *WebSocketAsyncCallback[bool] // f == nil, msg == nil: report a Send or Close result
	err *AsyncError                   // the result's error; nil means success (true)
	ws  *WebSocket                    // f == nil, msg != nil: deliver msg (MESSAGE, DATAEND)
	msg MessageData
	sem chan struct{} // released after a queued message was delivered
	// open, when not nil (f, msg and cb nil): deliver HEADERRECEIVE and OPEN of the connection
	// whose handshake this is (emitOpened), without a closure per connection.
	open *handshakeInfo
}

func (t task) Run() {
	switch {
	case t.f != nil:
		t.f()
	case t.msg != nil:
		t.ws.emitMessage(t.msg)
		<-t.sem
	case t.open != nil:
		t.ws.emitOpened(t.open)
	default:
		t.cb.invoke(t.err, t.err == nil)
	}
}

var taskArrays serial.FreeList[task]

// Arrays is the free list of the serial queues' arrays (serial.Task).
func (task) Arrays() *serial.FreeList[task] { return &taskArrays }

// serialQueue runs the callbacks of one WebSocket one at a time, in order (serial.Queue).
type serialQueue struct{ serial.Queue[task] }

func (q *serialQueue) push(f func()) { q.pushTask(task{f: f}) }

// pushResult queues the report of a Send or Close result to cb: true when err is nil.
func (q *serialQueue) pushResult(cb *WebSocketAsyncCallback[bool], err *AsyncError) {
	q.pushTask(task{cb: cb, err: err})
}

func (q *serialQueue) pushTask(t task) { q.Push(t) }

func (q *serialQueue) runInline() bool       { return q.TryRun() }
func (q *serialQueue) drain()                { q.Drain() }
func (q *serialQueue) wait() <-chan struct{} { return q.Wait() }
