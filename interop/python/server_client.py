#!/usr/bin/python3
"""Interop peer: a WebSocket client on Python websockets 10.4 (Debian's python3-websockets)
against our server facade (package server), for interop/server_test.go.

    /usr/bin/python3 server_client.py SCENARIO URL PROTOCOLS CAFILE

The arguments and scenarios are those of node/server_client.js: echo, refused, close, hold.
"""
import asyncio
import ssl
import sys

import websockets


def fail(msg):
    print("python client: " + msg, file=sys.stderr, flush=True)
    sys.exit(1)


async def main():
    scenario, url, protos, cafile = sys.argv[1:5]
    kwargs = {"max_size": None}
    if protos:
        kwargs["subprotocols"] = protos.split(",")
    if cafile:
        kwargs["ssl"] = ssl.create_default_context(cafile=cafile)
    try:
        ws = await websockets.connect(url, **kwargs)
    except websockets.exceptions.InvalidStatusCode as e:
        if scenario != "refused":
            fail("refused with %d" % e.status_code)
        print("STATUS %d" % e.status_code, flush=True)
        return
    if scenario == "refused":
        fail("not refused")
    if scenario == "echo":
        print("PROTOCOL %s" % (ws.subprotocol or ""), flush=True)
        big = "x\u2713" * 35000
        for m in ["h\u00e9llo \u2713", bytes([0, 1, 2, 255]), big]:
            await ws.send(m)
            echo = await ws.recv()
            if echo != m or type(echo) is not type(m):
                fail("echo differs")
        await ws.close(1000)
    elif scenario == "close":
        await ws.send("close-me")
    elif scenario == "hold":
        print("OPEN", flush=True)
    if scenario in ("close", "hold"):
        try:
            await ws.recv()
            fail("unexpected message")
        except websockets.exceptions.ConnectionClosed:
            pass
    await ws.wait_closed()
    print(("CLOSE %d %s" % (ws.close_code, ws.close_reason or "")).strip(), flush=True)


if __name__ == "__main__":
    asyncio.run(asyncio.wait_for(main(), 30))
