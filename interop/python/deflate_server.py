#!/usr/bin/python3
"""Interop peer for permessage-deflate (RFC 7692): a WebSocket server on Python websockets
10.4 (Debian's python3-websockets) with its permessage-deflate extension, for
interop/deflate_test.go.

    /usr/bin/python3 deflate_server.py PORT OPTIONS_JSON

listens on 127.0.0.1:PORT (0: a free port), prints "PORT <n>" as its first line, and echoes
every message (compressed: websockets compresses every message once the extension is on).
OPTIONS_JSON holds keyword arguments of ServerPerMessageDeflateFactory, e.g.
{"server_no_context_takeover": true, "server_max_window_bits": 9}.
When stdin is a pipe the server exits at its end.
"""
import asyncio
import json
import sys

import websockets
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory

from server import watch_stdin  # server.py beside this file: the same end-of-stdin rule


async def echo(ws, path=None):
    try:
        async for msg in ws:
            await ws.send(msg)
    except websockets.ConnectionClosed:
        pass


async def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    options = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    watch_stdin(loop, stop)
    async with websockets.serve(
        echo,
        "127.0.0.1",
        port,
        compression=None,
        extensions=[ServerPerMessageDeflateFactory(**options)],
        max_size=64 << 20,
    ) as server:
        print("PORT %d" % server.sockets[0].getsockname()[1], flush=True)
        await stop


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
