// A small OSC 1.0 codec and a stand-in for the device's udpsend / udpreceive pair, for the tests.
"use strict";

const dgram = require("node:dgram");
const { once } = require("node:events");

function pad(buffer) {
  return Buffer.concat([buffer, Buffer.alloc(4 - (buffer.length % 4))]);
}

function oscString(text) {
  return pad(Buffer.from(String(text), "utf8")); // at least one NUL, then to a multiple of 4
}

// Atoms typed as Max's udpsend types them: a symbol is `s`, an integral number `i`, other numbers `f`.
function encode(address, args) {
  let tags = ",";
  const data = [];
  for (const arg of args) {
    if (typeof arg === "string") {
      tags += "s";
      data.push(oscString(arg));
    } else if (Number.isInteger(arg) && arg >= -2147483648 && arg <= 2147483647) {
      tags += "i";
      const b = Buffer.alloc(4);
      b.writeInt32BE(arg);
      data.push(b);
    } else if (typeof arg === "number") {
      tags += "f";
      const b = Buffer.alloc(4);
      b.writeFloatBE(arg);
      data.push(b);
    } else {
      throw new TypeError(`OSC argument ${arg} is neither a string nor a number`);
    }
  }
  return Buffer.concat([oscString(address), oscString(tags), ...data]);
}

function readString(buffer, offset) {
  const end = buffer.indexOf(0, offset);
  if (end < 0) throw new Error("OSC string without its NUL");
  return [buffer.toString("utf8", offset, end), offset + Math.ceil((end - offset + 1) / 4) * 4];
}

// The messages in a packet, bundles opened; each { address, args }.
function decode(buffer) {
  if (buffer.toString("ascii", 0, 8) === "#bundle\0") {
    const messages = [];
    let offset = 16;
    while (offset < buffer.length) {
      const size = buffer.readInt32BE(offset);
      messages.push(...decode(buffer.subarray(offset + 4, offset + 4 + size)));
      offset += 4 + size;
    }
    return messages;
  }
  let [address, offset] = readString(buffer, 0);
  let tags;
  [tags, offset] = readString(buffer, offset);
  const args = [];
  for (const tag of tags.slice(1)) {
    if (tag === "s") {
      let text;
      [text, offset] = readString(buffer, offset);
      args.push(text);
    } else if (tag === "i") {
      args.push(buffer.readInt32BE(offset));
      offset += 4;
    } else if (tag === "f") {
      args.push(buffer.readFloatBE(offset));
      offset += 4;
    } else if (tag === "d") {
      args.push(buffer.readDoubleBE(offset));
      offset += 8;
    } else if (tag === "h") {
      args.push(Number(buffer.readBigInt64BE(offset)));
      offset += 8;
    } else if (tag === "T" || tag === "F") {
      args.push(tag === "T");
    } else {
      throw new Error(`OSC type tag ${tag} is not handled by this test codec`);
    }
  }
  return [{ address, args }];
}

// What the patcher does around the js: outlet 0 into `udpsend` (one socket, so one source port, as
// Max's udpsend), and the `udpreceive` the script makes (`listen`), whose messages reach the js after
// a `deferlow`. Max's udpreceive binds as soon as it gets its port; here sends wait until the bind is done.
class MaxUdp {
  constructor(receive) {
    this.receive = receive;
    this.host = "127.0.0.1";
    this.port = 9010;
    this.sender = dgram.createSocket("udp4");
    this.listener = null;
    this.ready = Promise.resolve();
  }

  outlet(index, atoms) {
    if (index !== 0) throw new Error(`the js has one outlet, not ${index + 1}`);
    const [selector, ...args] = atoms;
    if (selector === "host") this.host = args[0];
    else if (selector === "port") this.port = args[0];
    else {
      const packet = encode(selector, args);
      const { host, port } = this;
      this.ready = this.ready.then(() => new Promise((resolve) => this.sender.send(packet, port, host, () => resolve())));
    }
  }

  listen(port) {
    if (this.listener) this.listener.close();
    const listener = dgram.createSocket("udp4");
    listener.on("message", (packet) => {
      for (const { address, args } of decode(packet)) setImmediate(() => this.receive(address, args));
    });
    this.listener = listener;
    this.ready = this.ready.then(() => new Promise((resolve, reject) => {
      listener.once("error", reject);
      listener.bind(port, "127.0.0.1", () => resolve());
    }));
  }

  close() {
    this.sender.close();
    if (this.listener) this.listener.close();
  }
}

// A UDP port on 127.0.0.1 that was free a moment ago, for a test's server or device.
async function freePort() {
  const socket = dgram.createSocket("udp4");
  socket.bind(0, "127.0.0.1");
  await once(socket, "listening");
  const { port } = socket.address();
  socket.close();
  return port;
}

module.exports = { encode, decode, MaxUdp, freePort };
