// The tests' OSC shim checked against an independent implementation, liblo's oscdump and oscsend.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const dgram = require("node:dgram");
const { spawn, execFile } = require("node:child_process");
const { once } = require("node:events");
const { encode, decode, freePort } = require("../helpers/osc.js");

test("what the device sends reads in liblo as one string per prompt, ints and floats typed", async () => {
  const port = await freePort();
  const dump = spawn("oscdump", ["-L", String(port)], { stdio: ["ignore", "pipe", "inherit"] });
  const sender = dgram.createSocket("udp4");
  const packet = encode("/sonocanvas/generate", ["sc1", "image_prompt", 'castle "towers" at dusk', "seed", 42, "audio_weight", 0.5]);
  try {
    const line = new Promise((resolve) => dump.stdout.once("data", (data) => resolve(String(data))));
    // oscdump says nothing when it starts listening: send until its first line comes back.
    const resend = setInterval(() => sender.send(packet, port, "127.0.0.1"), 50);
    let timer;
    const timeout = new Promise((_, reject) => { timer = setTimeout(reject, 10000, new Error("oscdump printed nothing")); });
    const text = await Promise.race([line, timeout]).finally(() => { clearInterval(resend); clearTimeout(timer); });
    const [, address, types, ...rest] = text.trim().split(" ");
    assert.equal(address, "/sonocanvas/generate");
    assert.equal(types, "ssssisf");
    assert.equal(rest.join(" "), '"sc1" "image_prompt" "castle "towers" at dusk" "seed" 42 "audio_weight" 0.500000');
  } finally {
    sender.close();
    dump.kill();
  }
});

test("what liblo sends decodes to the atoms udpreceive gives the device", async () => {
  const socket = dgram.createSocket("udp4");
  socket.bind(0, "127.0.0.1");
  await once(socket, "listening");
  try {
    const message = once(socket, "message");
    execFile("oscsend", ["127.0.0.1", String(socket.address().port), "/sonocanvas/done", "sisss",
      "sc1", "0", "/drop/a b.wav", "/drop/a b.png", "/drop/a b.json"]);
    const [packet] = await message;
    assert.deepEqual(decode(packet), [{ address: "/sonocanvas/done", args: ["sc1", 0, "/drop/a b.wav", "/drop/a b.png", "/drop/a b.json"] }]);
  } finally {
    socket.close();
  }
});

test("strings are NUL-terminated and padded to four bytes, as OSC 1.0 says", () => {
  assert.deepEqual([...encode("/ab", ["abc", "abcd"])],
    [...Buffer.from("/ab\0,ss\0abc\0abcd\0\0\0\0", "latin1")]);
  assert.throws(() => encode("/x", [true]), TypeError);
});
