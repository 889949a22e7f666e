package hostile_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/netkit/websocket/client"
	"github.com/netkit/websocket/conn"
	"github.com/netkit/websocket/internal/hostile"
)

// validOnWire is §7.4.1 and §7.4.2, written out independently of the engine: 1000-1003,
// 1007-1014 (1012-1014 registered with IANA, §11.7) and 3000-4999 may be sent; 0-999,
// 1004-1006, 1015-2999 and 5000 and above may not.
func validOnWire(code int) bool {
	return code >= 1000 && code <= 1003 || code >= 1007 && code <= 1014 || code >= 3000 && code <= 4999
}

// TestClientEveryCloseCode: §7.4 — every close code from 0 to 5100, and 65535, in a close frame
// from the server, through the blocking API: a valid code is reported (Remote) with its reason
// and echoed; any other fails the connection with 1002. One connection per code, eight at a
// time.
func TestClientEveryCloseCode(t *testing.T) {
	codes := make(chan int)
	go func() {
		for c := 0; c <= 5100; c++ {
			codes <- c
		}
		codes <- 65535
		close(codes)
	}()
	var mu sync.Mutex
	var failures []string
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(failures) < 20 {
			failures = append(failures, fmt.Sprintf(format, args...))
		}
	}
	var wg sync.WaitGroup
	valid := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for code := range codes {
				want := uint16(1002)
				if validOnWire(code) {
					want = uint16(code)
					mu.Lock()
					valid++
					mu.Unlock()
				}
				if err := closeWithCode(uint16(code), want); err != nil {
					fail("code %d: %v", code, err)
				}
			}
		}()
	}
	wg.Wait()
	for _, f := range failures {
		t.Error(f)
	}
	if valid != 4+8+2000 {
		t.Errorf("%d valid codes tried, want %d", valid, 4+8+2000)
	}
}

// closeWithCode runs one connection whose server closes with code and expects the client's
// close frame with want.
func closeWithCode(code, want uint16) error {
	script := hostile.Script{hostile.SendEarlyFail(hostile.Close(code, "r")), hostile.ExpectCloseAndEOF(want)}
	srv, err := hostile.Start(hostile.Accept(), script, hostile.Whole, 1)
	if err != nil {
		return err
	}
	defer srv.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), runBound)
	defer cancel()
	c, _, err := client.Dial(ctx, srv.URL, dialOptions(scenario{}))
	if err != nil {
		return err
	}
	defer c.CloseNow()
	_, _, rerr := c.ReadMessage(ctx, nil)
	var ce *conn.CloseError
	switch {
	case !errors.As(rerr, &ce):
		return fmt.Errorf("ReadMessage: %v, want a *conn.CloseError", rerr)
	case want == code && (!ce.Remote || uint16(ce.Code) != code || ce.Reason != "r"):
		return fmt.Errorf("ReadMessage: %v, want the server's %d \"r\"", rerr, code)
	case want != code && (ce.Remote || ce.Code != 1002):
		return fmt.Errorf("ReadMessage: %v, want our 1002", rerr)
	}
	if err := srv.Wait(runBound); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	return nil
}
