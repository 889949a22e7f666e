'use strict';
// Interop peer for permessage-deflate (RFC 7692): a WebSocket server on the npm package ws
// (8.x) with perMessageDeflate on, for interop/deflate_test.go.
//
//   node deflate_server.js PORT OPTIONS_JSON
//
// listens on 127.0.0.1:PORT (0: a free port), prints "PORT <n>" as its first line, and echoes
// every message compressed (threshold 0: even empty messages). OPTIONS_JSON is merged into
// ws's perMessageDeflate options, e.g. {"serverNoContextTakeover":true,"serverMaxWindowBits":9}.
// When stdin is a pipe the server exits at its end.
const { WebSocketServer } = require('ws');

const port = Number(process.argv[2] || 0);
const options = JSON.parse(process.argv[3] || '{}');

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port,
  maxPayload: 64 << 20,
  perMessageDeflate: Object.assign({ threshold: 0 }, options),
});

wss.on('listening', () => {
  process.stdout.write(`PORT ${wss.address().port}\n`);
});

wss.on('error', (err) => {
  console.error(`node deflate peer: ${err.stack || err}`);
  process.exit(1);
});

wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    ws.send(data, { binary: isBinary, compress: true });
  });
  ws.on('error', (err) => console.error(`node deflate peer: connection: ${err}`));
});

if (!process.stdin.isTTY) {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}
