#!/usr/bin/python3
"""Interop peer for permessage-deflate (RFC 7692): a WebSocket client on Python websockets
10.4 (Debian's python3-websockets) with its permessage-deflate extension, for
interop/deflate_test.go (our server role).

    /usr/bin/python3 deflate_client.py URL OPTIONS_JSON FILE

connects to URL offering permessage-deflate with OPTIONS_JSON as keyword arguments of
ClientPerMessageDeflateFactory, then sends ten messages: "", "Hello", the contents of FILE
twice, its first 500 characters, the file as binary, an empty binary message, 1 MiB of text
and 4 MiB of text and of binary made of the file repeated, waiting for each echo and comparing
it with its type. Prints "EXTENSIONS <negotiated extensions>" and "ECHOED <n>" and exits 0
when all came back equal; prints the reason on stderr and exits 1 otherwise.
"""
import asyncio
import json
import sys

import websockets
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory


async def main():
    url, options, path = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
    with open(path, encoding="utf-8") as f:
        text = f.read()
    raw = text.encode()
    big = (raw * (((4 << 20) // len(raw)) + 1))[: 4 << 20]
    mib = (raw * (((1 << 20) // len(raw)) + 1))[: 1 << 20]
    messages = ["", "Hello", text, text, text[:500], raw, b"",
                mib.decode("utf-8", "ignore"), big.decode("utf-8", "ignore"), big]
    async with websockets.connect(
        url, compression=None, extensions=[ClientPerMessageDeflateFactory(**options)],
        max_size=64 << 20,
    ) as ws:
        for i, msg in enumerate(messages):
            await ws.send(msg)
            echo = await asyncio.wait_for(ws.recv(), 40)
            if type(echo) is not type(msg) or echo != msg:
                print("python deflate client: echo %d differs" % i, file=sys.stderr)
                sys.exit(1)
        print("EXTENSIONS %s" % ws.response_headers.get("Sec-WebSocket-Extensions"), flush=True)
        print("ECHOED %d" % len(messages), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
