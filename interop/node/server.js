'use strict';
// Interop peer: a WebSocket server built on the npm package ws (8.x), which nobody here wrote,
// for the interop tests of github.com/netkit/websocket (interop/interop_test.go).
//
//   node server.js [PORT]      listens on 127.0.0.1:PORT (0 or none: a free port) and prints
//                              "PORT <n>" as its first line on stdout.
//
// Behaviour by URL path (query parameters in brackets):
//   /echo                      sends every message back, text as text, binary as binary
//   /headers                   sends one text message: JSON of the request headers it saw
//                              (lower-case names, repeated fields joined with ", "), then echoes
//   /close?code=C&reason=R     closes at once with code C and reason R (code=none: a close
//                              frame with no payload)
//   /pings                     echoes, but answers the text message "pings?" with
//                              "pings:<n>", n the number of pings received from the client
//   /ping                      pings with "interop-ping" and, when the pong comes, sends the
//                              text message "pong:<pong payload>"; then echoes
//   /drop[?now=1]              destroys the TCP connection without a close frame after the
//                              first message it receives (now=1: right after the handshake)
//   /drop?stall=1[&ms=M]       stops reading right after the handshake and destroys the TCP
//                              connection M ms later (default 300): a client writing a large
//                              message sees its write fail
//   /fragments?type=text|binary&n=N&count=K[&ping=1]
//                              sends one message as K fragments (ws.send with fin:false), then
//                              echoes. text: the unit TEXT_UNIT repeated N times, cut into K
//                              pieces at byte offsets (so a UTF-8 sequence may span two
//                              fragments); binary: N bytes, byte i = i % 251. ping=1 sends a
//                              ping between the fragments.
// On every path: the subprotocol "chat" is selected when offered, no subprotocol otherwise, and
// the response carries "X-Interop: node". maxPayload is 64 MiB.
//
// When stdin is a pipe the server exits at its end, so a test that dies leaves no server behind.
const fs = require('fs');
const { WebSocketServer } = require('ws');

const TEXT_UNIT = 'fragment \u2713 \u00e9t\u00e9 \u{1F600} ';

const port = Number(process.argv[2] || 0);

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port,
  maxPayload: 64 << 20,
  perMessageDeflate: false,
  handleProtocols: (protocols) => (protocols.has('chat') ? 'chat' : false),
});

wss.on('headers', (headers) => {
  headers.push('X-Interop: node');
});

wss.on('listening', () => {
  process.stdout.write(`PORT ${wss.address().port}\n`);
});

wss.on('error', (err) => {
  console.error(`node peer: ${err.stack || err}`);
  process.exit(1);
});

function echo(ws) {
  ws.on('message', (data, isBinary) => {
    ws.send(data, { binary: isBinary });
  });
}

function fragmentPayload(type, n) {
  if (type === 'binary') {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = i % 251;
    return b;
  }
  return Buffer.from(TEXT_UNIT.repeat(n), 'utf8');
}

function sendFragments(ws, q) {
  const type = q.get('type') === 'binary' ? 'binary' : 'text';
  const n = Number(q.get('n') || 4);
  const count = Math.max(1, Number(q.get('count') || 4));
  const ping = q.get('ping') === '1';
  const payload = fragmentPayload(type, n);
  for (let k = 0; k < count; k++) {
    const piece = payload.subarray(
      Math.floor((k * payload.length) / count),
      Math.floor(((k + 1) * payload.length) / count),
    );
    const fin = k === count - 1;
    ws.send(piece, { binary: type === 'binary', fin });
    if (ping && !fin) ws.ping(Buffer.from(`p${k}`));
  }
}

wss.on('connection', (ws, req) => {
  ws.on('error', (err) => console.error(`node peer: connection: ${err.message}`));
  const u = new URL(req.url, 'http://peer');
  const q = u.searchParams;
  switch (u.pathname) {
    case '/echo':
      echo(ws);
      break;
    case '/headers': {
      const seen = {};
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i].toLowerCase();
        const value = req.rawHeaders[i + 1];
        seen[name] = name in seen ? `${seen[name]}, ${value}` : value;
      }
      ws.send(JSON.stringify(seen));
      echo(ws);
      break;
    }
    case '/close':
      if (q.get('code') === 'none') {
        ws.close(); // a close frame with no payload: the client reports 1005
      } else {
        ws.close(Number(q.get('code') || 1000), q.get('reason') || '');
      }
      break;
    case '/pings': {
      let pings = 0;
      ws.on('ping', () => {
        pings++;
      });
      ws.on('message', (data, isBinary) => {
        if (!isBinary && data.toString() === 'pings?') ws.send(`pings:${pings}`);
        else ws.send(data, { binary: isBinary });
      });
      break;
    }
    case '/ping':
      ws.once('pong', (data) => ws.send(`pong:${data}`));
      ws.ping(Buffer.from('interop-ping'));
      echo(ws);
      break;
    case '/drop':
      if (q.get('stall') === '1') {
        ws.pause(); // read nothing more, so that the client's writes block
        setTimeout(() => ws.terminate(), Number(q.get('ms') || 300));
      } else if (q.get('now') === '1') {
        ws.terminate();
      } else {
        ws.once('message', () => ws.terminate());
      }
      break;
    case '/fragments':
      sendFragments(ws, q);
      echo(ws);
      break;
    default:
      ws.close(1008, `unknown path ${u.pathname}`);
  }
});

try {
  if (fs.fstatSync(0).isFIFO()) {
    process.stdin.on('data', () => {});
    process.stdin.on('end', () => process.exit(0));
    process.stdin.on('error', () => process.exit(0));
  }
} catch (err) {
  // No usable stdin: nothing to watch.
}
