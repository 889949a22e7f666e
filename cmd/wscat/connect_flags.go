package main

import (
	"errors"
	"flag"
	"math"
	"strconv"
	"time"

	"github.com/netkit/websocket/client"
)

// connectFlags are the flags of the connection attempt: -L/--location and --max-redirects
// (client.WebSocketRequestOptions.FollowRedirects and MaxRedirects) and --handshake-timeout
// (HandshakeTimeout). They live apart from newFlagSet's list so that each part of the command
// line can change without touching the others.
type connectFlags struct {
	location         bool
	maxRedirects     int
	handshakeTimeout durationFlag
	http2            http2Flag
}

// define adds the flags to fs.
func (c *connectFlags) define(fs *flag.FlagSet) {
	fs.BoolVar(&c.location, "L", false, "")
	fs.BoolVar(&c.location, "location", false, "")
	fs.IntVar(&c.maxRedirects, "max-redirects", 0, "")
	fs.Var(&c.handshakeTimeout, "handshake-timeout", "")
	fs.Var(&c.http2, "http2", "")
}

// check refuses combinations that cannot mean what was typed.
func (c *connectFlags) check() error {
	switch {
	case c.maxRedirects < 0:
		return usagef("--max-redirects %d: want a number of redirects, 1 or more", c.maxRedirects)
	case c.maxRedirects > 0 && !c.location:
		return usagef("--max-redirects needs -L (--location): redirects are not followed without it")
	}
	return nil
}

// apply sets the options of the connection attempt in r.
func (c *connectFlags) apply(r *client.WebSocketRequestOptions) {
	r.FollowRedirects = c.location
	r.MaxRedirects = c.maxRedirects
	r.HandshakeTimeout = time.Duration(c.handshakeTimeout)
	r.HTTP2 = client.HTTP2Mode(c.http2)
}

// http2Flag is --http2 (client.HTTP2Required: WebSocket over HTTP/2, RFC 8441, or an
// error) or --http2=auto (client.HTTP2Auto: HTTP/2 when the server allows it, else
// HTTP/1.1); --http2=off is the default. Like a boolean flag it takes no separate value.
type http2Flag client.HTTP2Mode

func (f *http2Flag) String() string { return client.HTTP2Mode(*f).String() }

// IsBoolFlag lets --http2 stand alone (flag then calls Set("true")).
func (f *http2Flag) IsBoolFlag() bool { return true }

func (f *http2Flag) Set(s string) error {
	switch s {
	case "true", "required", "on":
		*f = http2Flag(client.HTTP2Required)
	case "auto":
		*f = http2Flag(client.HTTP2Auto)
	case "false", "off":
		*f = http2Flag(client.HTTP2Off)
	default:
		return errors.New("want --http2 (required), --http2=auto or --http2=off")
	}
	return nil
}

// durationFlag is a duration given as a Go duration ("300ms", "5s", "1m") or as a number of
// seconds ("5", "0.5"); 0 means the default. Negative values are refused.
type durationFlag time.Duration

func (f *durationFlag) String() string { return time.Duration(*f).String() }

func (f *durationFlag) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		secs, perr := strconv.ParseFloat(s, 64)
		if perr != nil || math.IsNaN(secs) || math.Abs(secs) > float64(math.MaxInt64)/float64(time.Second) {
			return errors.New("want a duration such as 300ms, 5s or 1m, or a number of seconds")
		}
		d = time.Duration(secs * float64(time.Second))
	}
	if d < 0 {
		return errors.New("want a duration of 0 (the default) or more")
	}
	*f = durationFlag(d)
	return nil
}
