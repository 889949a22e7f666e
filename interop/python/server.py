#!/usr/bin/python3
"""Interop peer: a WebSocket server built on Python websockets 10.4 (Debian's
python3-websockets), which nobody here wrote, for the interop tests of
github.com/netkit/websocket (interop/interop_test.go).

    /usr/bin/python3 server.py [PORT]

listens on 127.0.0.1:PORT (0 or none: a free port) and prints "PORT <n>" as its first line on
stdout. Run it with Debian's /usr/bin/python3: the package lives in its dist-packages.

Behaviour by URL path (query parameters in brackets), the same as interop/node/server.js:
  /echo                    sends every message back, text as text, binary as binary
  /headers                 sends one text message: JSON of the request headers it saw
                           (lower-case names, repeated fields joined with ", "), then echoes
  /close?code=C&reason=R   closes at once with code C and reason R (code=none: a close frame
                           with no payload)
  /pings                   echoes, but answers the text message "pings?" with "pings:<n>", n
                           the number of pings received from the client
  /ping                    pings with "interop-ping" and, when the pong with that payload
                           comes, sends the text message "pong:interop-ping"; then echoes
  /drop[?now=1]            aborts the TCP connection (transport.abort(), no close frame) after
                           the first message it receives (now=1: right after the handshake)
  /drop?stall=1[&ms=M]     stops reading right after the handshake and aborts the TCP
                           connection M ms later (default 300): a client writing a large
                           message sees its write fail
  /fragments?type=text|binary&n=N&count=K[&ping=1]
                           sends one message as K fragments (send() of an async iterator), then
                           echoes. text: TEXT_UNIT repeated N times, cut into K pieces at
                           character offsets; binary: N bytes, byte i = i % 251. ping=1 sends a
                           ping between the fragments.
On every path: the subprotocol "chat" is selected when offered, no subprotocol otherwise, and
the response carries "X-Interop: python". max_size is 64 MiB.

When stdin is a pipe the server exits at its end, so a test that dies leaves no server behind.
"""

import asyncio
import json
import os
import stat
import sys
from urllib.parse import parse_qs, urlsplit

import websockets
from websockets.frames import Close

TEXT_UNIT = "fragment \u2713 \u00e9t\u00e9 \U0001F600 "


def fragment_payload(kind, n):
    if kind == "binary":
        return bytes(i % 251 for i in range(n))
    return TEXT_UNIT * n


async def echo(ws):
    async for message in ws:
        await ws.send(message)


async def send_fragments(ws, query):
    kind = "binary" if query.get("type") == "binary" else "text"
    n = int(query.get("n", "4"))
    count = max(1, int(query.get("count", "4")))
    ping = query.get("ping") == "1"
    payload = fragment_payload(kind, n)

    async def pieces():
        for k in range(count):
            yield payload[k * len(payload) // count:(k + 1) * len(payload) // count]
            if ping and k < count - 1:
                pong = await ws.ping(b"p%d" % k)
                # Nobody awaits the pong; retrieve its outcome so a closed connection
                # does not log "Future exception was never retrieved".
                pong.add_done_callback(lambda f: f.cancelled() or f.exception())

    await ws.send(pieces())


async def handler(ws):
    try:
        await serve_path(ws)
    except (websockets.ConnectionClosed, websockets.InvalidState):
        pass  # the client closed or went away, maybe in the middle of a send: nothing to report


async def serve_path(ws):
    parts = urlsplit(ws.path)
    query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    path = parts.path
    if path == "/echo":
        await echo(ws)
    elif path == "/headers":
        seen = {}
        for name, value in ws.request_headers.raw_items():
            name = name.lower()
            seen[name] = seen[name] + ", " + value if name in seen else value
        await ws.send(json.dumps(seen))
        await echo(ws)
    elif path == "/close":
        if query.get("code") == "none":
            # A close frame with no payload (the client reports 1005): close() always sends a
            # code, so write the frame directly and wait for the closing handshake to end.
            await ws.write_close_frame(Close(1005, ""), b"")
            await ws.wait_closed()
        else:
            await ws.close(int(query.get("code", "1000")), query.get("reason", ""))
    elif path == "/pings":
        async for message in ws:
            if message == "pings?":
                await ws.send("pings:%d" % ws.pings_received)
            else:
                await ws.send(message)
    elif path == "/ping":
        pong = await ws.ping(b"interop-ping")
        await pong  # resolves only for a pong with the same payload
        await ws.send("pong:interop-ping")
        await echo(ws)
    elif path == "/drop":
        if query.get("stall") == "1":
            ws.transport.pause_reading()  # read nothing more: the client's writes block
            await asyncio.sleep(int(query.get("ms", "300")) / 1000)
        elif query.get("now") != "1":
            await ws.recv()
        ws.transport.abort()
    elif path == "/fragments":
        await send_fragments(ws, query)
        await echo(ws)
    else:
        await ws.close(1008, "unknown path " + path)


class CountingProtocol(websockets.WebSocketServerProtocol):
    """Counts the pings received: the protocol answers each with pong(), which this server
    never calls otherwise."""

    pings_received = 0

    async def pong(self, data=b""):
        self.pings_received += 1
        await super().pong(data)


def watch_stdin(loop, stop):
    """Sets stop when stdin, a pipe, reaches its end."""
    try:
        if not stat.S_ISFIFO(os.fstat(0).st_mode):
            return
    except OSError:
        return

    def readable():
        try:
            data = os.read(0, 4096)
        except OSError:
            data = b""
        if not data:
            loop.remove_reader(0)
            if not stop.done():
                stop.set_result(None)

    loop.add_reader(0, readable)


async def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    watch_stdin(loop, stop)
    async with websockets.serve(
        handler,
        "127.0.0.1",
        port,
        subprotocols=["chat"],
        extra_headers={"X-Interop": "python"},
        max_size=64 << 20,
        create_protocol=CountingProtocol,
    ) as server:
        chosen = server.sockets[0].getsockname()[1]
        print("PORT %d" % chosen, flush=True)
        await stop


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
