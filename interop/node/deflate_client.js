'use strict';
// Interop peer for permessage-deflate (RFC 7692): a WebSocket client on the npm package ws
// (8.x) with perMessageDeflate on, for interop/deflate_test.go (our server role).
//
//   node deflate_client.js URL OPTIONS_JSON FILE
//
// connects to URL offering permessage-deflate with OPTIONS_JSON merged into ws's
// perMessageDeflate options, then sends, compressed (threshold 0), the messages "", "Hello",
// the contents of FILE twice, and its first 500 bytes, each as text, waiting for each echo and
// comparing it. Prints "EXTENSIONS <negotiated Sec-WebSocket-Extensions>" and exits 0 when all
// came back equal; prints the reason on stderr and exits 1 otherwise.
const fs = require('fs');
const WebSocket = require('ws');

const [url, optionsJSON, file] = process.argv.slice(2);
const text = fs.readFileSync(file, 'utf8');
const messages = ['', 'Hello', text, text, text.slice(0, 500)];

const ws = new WebSocket(url, {
  perMessageDeflate: Object.assign({ threshold: 0 }, JSON.parse(optionsJSON || '{}')),
});
const fail = (why) => {
  console.error(`node deflate client: ${why}`);
  process.exit(1);
};
setTimeout(() => fail('timeout'), 20000).unref();
let i = 0;
ws.on('open', () => ws.send(messages[0], { compress: true }));
ws.on('message', (data, isBinary) => {
  if (isBinary || data.toString() !== messages[i]) {
    fail(`echo ${i} differs (${data.length} bytes, want ${Buffer.byteLength(messages[i])})`);
  }
  i++;
  if (i < messages.length) {
    ws.send(messages[i], { compress: true });
    return;
  }
  process.stdout.write(`EXTENSIONS ${ws.extensions}\n`);
  ws.close(1000);
});
ws.on('close', () => process.exit(i === messages.length ? 0 : 1));
ws.on('error', (err) => fail(err.message));
