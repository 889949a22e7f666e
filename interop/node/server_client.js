// Interop peer: a WebSocket client on the npm package ws (8.x) against our server facade
// (package server), for interop/server_test.go.
//
//   node server_client.js SCENARIO URL PROTOCOLS CAFILE
//
// PROTOCOLS is a comma-separated list of subprotocols to offer ("" for none); CAFILE is the PEM
// file that verifies a wss:// server ("" for ws://). Scenarios, each printing result lines on
// stdout and exiting 0 when the run went as the scenario says (1 with the reason on stderr
// otherwise):
//   echo    sends a text, a binary and a 70000-byte text message, checks each echo (data and
//           type), prints "PROTOCOL <negotiated>", closes with 1000, prints "CLOSE <code>";
//   refused expects the handshake to be refused: prints "STATUS <http status>";
//   close   sends "close-me" and waits for the server's close: prints "CLOSE <code> <reason>";
//   hold    prints "OPEN", then waits for the server's close: prints "CLOSE <code>".
'use strict';
const fs = require('fs');
const WebSocket = require('ws');

const [scenario, url, protoList, caFile] = process.argv.slice(2);
const protocols = protoList ? protoList.split(',') : [];
const opts = {};
if (caFile) opts.ca = fs.readFileSync(caFile);

function fail(msg) {
  process.stderr.write('node client: ' + msg + '\n');
  process.exit(1);
}
setTimeout(() => fail('timed out'), 30000).unref();

const ws = new WebSocket(url, protocols, opts);
ws.on('unexpected-response', (req, res) => {
  if (scenario !== 'refused') fail('refused with ' + res.statusCode);
  console.log('STATUS ' + res.statusCode);
  process.exit(0);
});
ws.on('error', (err) => fail('error: ' + err.message));

const big = 'x\u2713'.repeat(35000);
const sent = [['héllo ✓', false], [Buffer.from([0, 1, 2, 255]), true], [big, false]];
let got = 0;

ws.on('open', () => {
  if (scenario === 'refused') fail('not refused');
  if (scenario === 'echo') {
    console.log('PROTOCOL ' + ws.protocol);
    for (const [m, binary] of sent) ws.send(m, { binary });
  } else if (scenario === 'close') {
    ws.send('close-me');
  } else if (scenario === 'hold') {
    console.log('OPEN');
  }
});
ws.on('message', (data, isBinary) => {
  if (scenario !== 'echo') fail('unexpected message');
  const [m, binary] = sent[got++];
  const want = binary ? m : Buffer.from(m, 'utf8');
  if (isBinary !== binary || !Buffer.from(data).equals(want)) fail('echo ' + got + ' differs');
  if (got === sent.length) ws.close(1000);
});
ws.on('close', (code, reason) => {
  if (scenario === 'echo' && got !== sent.length) fail('closed after ' + got + ' echoes');
  console.log(('CLOSE ' + code + ' ' + reason.toString()).trim());
  process.exit(0);
});
