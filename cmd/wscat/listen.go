package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netkit/websocket/deflate"
	"github.com/netkit/websocket/server"
)

// checkListen validates the server mode's command line: --listen [HOST:]PORT, no URL.
func checkListen(o *options) error {
	if o.url != "" {
		return usagef("--listen runs a server: no URL expected, got %s", o.url)
	}
	if _, _, err := listenAddr(o.listen); err != nil {
		return err
	}
	if strings.Contains(o.subprotocol, ",") {
		return usagef("--subprotocol with --listen is one subprotocol, the one the server requires")
	}
	return nil
}

// listenAddr splits --listen's [HOST:]PORT; HOST defaults to 127.0.0.1.
func listenAddr(s string) (string, uint16, error) {
	host, port := "127.0.0.1", s
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		h, p, err := net.SplitHostPort(s)
		if err != nil {
			return "", 0, usagef("--listen %q: want [HOST:]PORT", s)
		}
		host, port = h, p
		if host == "" {
			host = "127.0.0.1"
		}
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return "", 0, usagef("--listen %q: the port must be 0-65535", s)
	}
	if net.ParseIP(host) == nil {
		return "", 0, usagef("--listen %q: HOST must be an IP address", s)
	}
	return host, uint16(n), nil
}

// listener is wscat's server mode: the server facade and the ids of its connections.
type listener struct {
	o   *options
	srv *server.WebSocketServer
	out *printer

	// queueFull counts the Sends of echo refused with ErrQueueFull (a test counts the retries).
	queueFull atomic.Int64

	mu     sync.Mutex
	nextID int
	ids    map[server.WebSocketConnection]int
}

// runServer is wscat --listen: it serves until ctx is done, then stops the server and returns
// 0, or the exit status of a failed Start.
func runServer(ctx context.Context, o *options, stdin io.Reader, stdout io.Writer, errw *lockedWriter) int {
	host, port, _ := listenAddr(o.listen) // checked by parseArgs
	l := &listener{o: o, srv: server.CreateWebSocketServer(), out: &printer{w: stdout, json: o.json},
		ids: make(map[server.WebSocketConnection]int)}
	if err := l.subscribe(); err != nil {
		errw.printf("wscat: %v", err)
		return exitFail
	}
	cfg := &server.WebSocketServerConfig{ServerIP: host, ServerPort: port, Protocol: o.subprotocol,
		MaxMessageSize: o.maxSize}
	if d := o.deflate; d != nil {
		// The flags name the same parameters, here as the server's caps (deflate.ServerOptions).
		cfg.PerMessageDeflate = &deflate.ServerOptions{ServerNoContextTakeover: d.ServerNoContextTakeover,
			ClientNoContextTakeover: d.ClientNoContextTakeover, ServerMaxWindowBits: d.ServerMaxWindowBits,
			ClientMaxWindowBits: d.ClientMaxWindowBits, Level: d.Level}
	}
	if o.cert != "" {
		cfg.ServerCert = &server.ServerCert{CertPath: o.cert, KeyPath: o.key, KeyPassword: o.keyPassword}
	}
	if err := l.srv.Start(cfg, nil); err != nil {
		errw.printf("wscat: %v", err)
		switch server.CodeOf(err) {
		case server.CodeParameterError, server.CodeFileNotExist:
			return exitUsage
		}
		return exitFail
	}
	scheme := "ws"
	if cfg.ServerCert != nil {
		scheme = "wss"
	}
	errw.printf("wscat: listening on %s://%s/", scheme, l.srv.Addr())
	if !o.echo {
		go l.readInput(stdin, errw)
	}
	<-ctx.Done()
	stopped := make(chan struct{})
	_ = l.srv.Stop(server.NewWebSocketAsyncCallback(func(*server.AsyncError, bool) { close(stopped) }))
	<-stopped
	return exitOK
}

// id returns the id of connection c, giving it the next one when it has none and add is set;
// 0 means none.
func (l *listener) id(c server.WebSocketConnection, add bool) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.ids[c]
	if n == 0 && add {
		l.nextID++
		n = l.nextID
		l.ids[c] = n
	}
	return n
}

func (l *listener) subscribe() error {
	return errors.Join(
		l.srv.On(server.EventConnect, server.NewConnectCallback(func(c server.WebSocketConnection) {
			l.event("CONNECT", l.id(c, true), func(b []byte) []byte { return append(b, c.String()...) },
				map[string]any{"client": c.String()})
		})),
		l.srv.On(server.EventMessageReceive, server.NewMessageReceiveCallback(func(m server.WebSocketMessage) {
			if l.o.echo {
				l.echo(m)
				return
			}
			l.message(l.id(m.ClientConnection, false), m.Data)
		})),
		l.srv.On(server.EventClose, server.NewCloseCallback(func(c server.WebSocketConnection, r server.CloseResult) {
			id := l.id(c, false)
			l.event("CLOSE", id, func(b []byte) []byte {
				b = strconv.AppendUint(b, uint64(r.Code), 10)
				if r.Reason != "" {
					b = append(b, ' ')
					b = appendEscaped(b, r.Reason)
				}
				return b
			}, map[string]any{"code": r.Code, "reason": r.Reason})
			l.mu.Lock()
			delete(l.ids, c)
			l.mu.Unlock()
		})),
		l.srv.On(server.EventError, server.NewErrorCallback(func(e *server.BusinessException) {
			msg := e.Message
			if e.Err != nil {
				msg += ": " + e.Err.Error()
			}
			id, who := 0, ""
			if e.Connection != nil {
				id = l.id(*e.Connection, false)
				if id == 0 {
					who = e.Connection.String()
				}
			}
			l.event("ERROR", id, func(b []byte) []byte {
				if who != "" {
					b = append(b, who...)
					b = append(b, ' ')
				}
				b = strconv.AppendInt(b, int64(e.Code), 10)
				b = append(b, ' ')
				return appendEscaped(b, msg)
			}, map[string]any{"client": who, "code": e.Code, "message": msg})
		})),
	)
}

// echo sends m back with its type. When the connection's send queue is full (a client that
// sends faster than it reads), it waits for the queue to drain rather than drop the message:
// this callback holding the connection's queue stops its reading, and TCP flow control slows
// the client. Other errors mean the connection is ending.
//
// The queue is full by messages (DefaultSendQueueMessages) or by bytes
// (DefaultSendQueueBytes: 1024 messages of 16 KiB fill it), so echo waits until both are at
// most half their caps and m fits (or nothing is queued: a message larger than the byte cap
// goes alone), and it sleeps before every retry. It polls BufferedAmount because a Send
// callback cannot wake it: callbacks run on the connection's queue, which this callback holds
// until it returns.
func (l *listener) echo(m server.WebSocketMessage) {
	size := messageSize(m.Data)
	for {
		err := l.srv.Send(m.Data, m.ClientConnection, nil)
		if !errors.Is(err, server.ErrQueueFull) {
			return
		}
		l.queueFull.Add(1)
		for {
			time.Sleep(echoPoll)
			bytes, n, err := l.srv.BufferedAmount(m.ClientConnection)
			if err != nil {
				return // the connection is gone
			}
			if n == 0 || n <= server.DefaultSendQueueMessages/2 && bytes <= server.DefaultSendQueueBytes/2 &&
				bytes+size <= server.DefaultSendQueueBytes {
				break
			}
		}
	}
}

// echoPoll is how often echo looks at a full send queue.
const echoPoll = time.Millisecond

// messageSize is the payload size of d, the amount Send counts in the send queue.
func messageSize(d server.MessageData) int64 {
	switch d := d.(type) {
	case server.StringData:
		return int64(len(d))
	case server.ArrayData:
		return int64(len(d))
	case *server.BorrowedData:
		return int64(len(d.Data))
	}
	return 0
}

// event prints one event: "NAME [<id> ]<rest>", or a JSON object with the event, the id (when
// not 0) and fields.
func (l *listener) event(name string, id int, rest func([]byte) []byte, fields map[string]any) {
	if l.out.json {
		v := map[string]any{"event": name}
		if id != 0 {
			v["id"] = id
		}
		for k, x := range fields {
			if x != "" {
				v[k] = x
			}
		}
		l.out.writeJSON(v)
		return
	}
	l.out.line(func(b []byte) []byte {
		b = append(b, name...)
		b = append(b, ' ')
		if id != 0 {
			b = strconv.AppendInt(b, int64(id), 10)
			b = append(b, ' ')
		}
		return rest(b)
	})
}

func (l *listener) message(id int, d server.MessageData) {
	switch d := d.(type) {
	case server.StringData:
		l.event("MESSAGE", id, func(b []byte) []byte { return appendEscaped(b, string(d)) },
			map[string]any{"type": "text", "data": string(d)})
	case server.ArrayData:
		l.event("MESSAGE", id, func(b []byte) []byte { return appendBinary(b, d) },
			map[string]any{"type": "binary", "length": len(d), "data": nonNil(d)})
	}
}

// readInput sends each line of stdin to every connection open at the time.
func (l *listener) readInput(stdin io.Reader, errw *lockedWriter) {
	br := bufio.NewReaderSize(stdin, 64<<10)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			line = trimEOL(line)
			var m server.MessageData = server.StringData(line)
			if l.o.binary {
				m = server.ArrayData(line)
			}
			for _, c := range l.srv.ListAllConnections() {
				if serr := l.srv.Send(m, c, nil); serr != nil && server.CodeOf(serr) == server.CodeParameterError {
					errw.printf("wscat: line %d not sent: %v", n, serr)
					break
				}
			}
		}
		if err != nil {
			return
		}
	}
}
