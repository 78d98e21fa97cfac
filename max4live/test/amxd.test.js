// `sonocanvas build-device` makes an .amxd whose chunks (tag, little-endian size, data) hold this patcher.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { execFileSync } = require("node:child_process");
const { loadPatcher, SCRIPT_PATH } = require("../helpers/fakes.js");

function chunks(blob) {
  const out = [];
  let offset = 0;
  while (offset < blob.length) {
    const size = blob.readUInt32LE(offset + 4);
    out.push({ tag: blob.toString("latin1", offset, offset + 4), size, data: blob.subarray(offset + 8, offset + 8 + size) });
    offset += 8 + size;
  }
  assert.equal(offset, blob.length, "the last chunk ends at the end of the file");
  return out;
}

test("the built device is an audio effect holding the same patcher, with its script beside it", () => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), "sonocanvas-amxd-"));
  try {
    const output = path.join(folder, "sonocanvas.amxd");
    execFileSync("python3", ["-m", "sonocanvas.bridge.cli", "build-device", "-o", output], { stdio: "pipe" });
    const [ampf, meta, ptch, ...rest] = chunks(fs.readFileSync(output));
    assert.deepEqual([ampf.tag, ampf.size, ampf.data.toString("latin1")], ["ampf", 4, "aaaa"]);
    assert.deepEqual([meta.tag, meta.size], ["meta", 4]);
    assert.equal(ptch.tag, "ptch");
    assert.equal(ptch.data.length, ptch.size);
    assert.equal(ptch.data[ptch.size - 1], 0, "the patcher text ends in a NUL");
    assert.deepEqual(rest, []);
    assert.deepEqual(JSON.parse(ptch.data.subarray(0, -1).toString("utf8")).patcher, loadPatcher());
    assert.equal(fs.readFileSync(path.join(folder, "sonocanvas.js"), "utf8"), fs.readFileSync(SCRIPT_PATH, "utf8"));
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
});
