'use strict';
// Interop peer for permessage-deflate (RFC 7692): a WebSocket client on the npm package ws
// (8.x) with perMessageDeflate on, for interop/deflate_test.go (our server role).
//
//   node deflate_client.js URL OPTIONS_JSON FILE
//
// connects to URL offering permessage-deflate with OPTIONS_JSON merged into ws's
// perMessageDeflate options, then sends, compressed (threshold 0), ten messages: "", "Hello",
// the contents of FILE twice, its first 500 bytes, the file as binary, an empty binary
// message, 1 MiB of text and 4 MiB of text and of binary made of the file repeated, waiting for
// each echo and comparing it with its type. Prints "EXTENSIONS <negotiated
// Sec-WebSocket-Extensions>" and "ECHOED <n>" and exits 0 when all came back equal; prints the
// reason on stderr and exits 1 otherwise.
const fs = require('fs');
const WebSocket = require('ws');

const [url, optionsJSON, file] = process.argv.slice(2);
const text = fs.readFileSync(file, 'utf8');
const repeat = (n) => {
  let s = text;
  while (Buffer.byteLength(s) < n) s += text;
  return Buffer.from(s).subarray(0, n);
};
const big = repeat(4 << 20);
const messages = [
  { data: '', binary: false },
  { data: 'Hello', binary: false },
  { data: text, binary: false },
  { data: text, binary: false },
  { data: text.slice(0, 500), binary: false },
  { data: Buffer.from(text), binary: true },
  { data: Buffer.alloc(0), binary: true },
  { data: repeat(1 << 20).toString('utf8'), binary: false },
  { data: big.toString('utf8'), binary: false },
  { data: big, binary: true },
];

const ws = new WebSocket(url, {
  perMessageDeflate: Object.assign({ threshold: 0 }, JSON.parse(optionsJSON || '{}')),
  maxPayload: 64 << 20,
});
const fail = (why) => {
  console.error(`node deflate client: ${why}`);
  process.exit(1);
};
setTimeout(() => fail('timeout'), 50000).unref();
let i = 0;
const send = () => ws.send(messages[i].data, { binary: messages[i].binary, compress: true });
ws.on('open', send);
ws.on('message', (data, isBinary) => {
  const want = Buffer.from(messages[i].data);
  if (isBinary !== messages[i].binary || !Buffer.from(data).equals(want)) {
    fail(`echo ${i} differs (binary ${isBinary}, ${data.length} bytes; want binary ${messages[i].binary}, ${want.length} bytes)`);
  }
  i++;
  if (i < messages.length) {
    send();
    return;
  }
  process.stdout.write(`EXTENSIONS ${ws.extensions}\nECHOED ${i}\n`);
  ws.close(1000);
});
ws.on('close', () => process.exit(i === messages.length ? 0 : 1));
ws.on('error', (err) => fail(err.message));
