// `sonocanvas build-device` makes a frozen .amxd: its chunks (tag, little-endian size, data) hold this
// patcher, with the script inside the `ptch` chunk as Max lays a frozen device out. This reader is written
// apart from bridge/amxd.py, and reads the devices Max itself wrote (test/data, from Ableton's maxdevtools).
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { execFileSync } = require("node:child_process");
const { loadPatcher, SCRIPT_PATH } = require("../helpers/fakes.js");

const PEERS = path.join(__dirname, "data");

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

// The files of a frozen `ptch`: mx@c, header size 16, a 64-bit big-endian offset to `dlst`, `dire` entries.
function frozenFiles(ptch) {
  assert.equal(ptch.toString("latin1", 0, 4), "mx@c");
  assert.equal(ptch.readUInt32BE(4), 16);
  const footer = Number(ptch.readBigUInt64BE(8));
  assert.equal(ptch.toString("latin1", footer, footer + 4), "dlst");
  assert.equal(footer + ptch.readUInt32BE(footer + 4), ptch.length, "the footer runs to the end");
  const files = [];
  for (let at = footer + 8; at < ptch.length;) {
    assert.equal(ptch.toString("latin1", at, at + 4), "dire");
    const end = at + ptch.readUInt32BE(at + 4);
    const fields = {};
    for (let f = at + 8; f < end;) {
      const size = ptch.readUInt32BE(f + 4);
      fields[ptch.toString("latin1", f, f + 4)] = ptch.subarray(f + 8, f + size);
      f += size;
    }
    assert.deepEqual(Object.keys(fields), ["type", "fnam", "sz32", "of32", "vers", "flag", "mdat"]);
    const offset = fields.of32.readUInt32BE();
    files.push({
      type: fields.type.toString("latin1"),
      name: fields.fnam.toString("utf8").replace(/\0+$/, ""),
      flag: fields.flag.readUInt32BE(),
      data: ptch.subarray(offset, offset + fields.sz32.readUInt32BE()),
    });
    at = end;
  }
  return files;
}

test("the reader reads Max's own frozen device", () => {
  const [ampf, , ptch] = chunks(fs.readFileSync(path.join(PEERS, "FrozenTest.amxd")));
  assert.equal(ampf.data.toString("latin1"), "mmmm");
  const files = frozenFiles(ptch.data);
  assert.deepEqual([files[0].name, files[0].type, files[0].flag], ["Test.amxd", "JSON", 17]);
  assert.ok(JSON.parse(files[0].data.subarray(0, -1).toString("utf8")).patcher.boxes.length > 10);
  const script = files.find((f) => f.name === "TestScript.js");
  assert.deepEqual([script.type, script.flag], ["TEXT", 0]);
  assert.match(script.data.toString("utf8"), /^"use strict";/);
});

test("the built device is a frozen audio effect holding the same patcher and, inside it, the script", () => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), "sonocanvas-amxd-"));
  try {
    const output = path.join(folder, "sonocanvas.amxd");
    execFileSync("python3", ["-m", "sonocanvas.bridge.cli", "build-device", "-o", output], { stdio: "pipe" });
    assert.deepEqual(fs.readdirSync(folder), ["sonocanvas.amxd"], "one file, nothing loose beside it");
    const [ampf, meta, ptch, ...rest] = chunks(fs.readFileSync(output));
    assert.deepEqual([ampf.tag, ampf.size, ampf.data.toString("latin1")], ["ampf", 4, "aaaa"]);
    assert.deepEqual([meta.tag, meta.size], ["meta", 4]);
    assert.equal(ptch.tag, "ptch");
    assert.deepEqual(rest, []);
    const [own, script, ...others] = frozenFiles(ptch.data);
    assert.deepEqual(others, []);
    assert.deepEqual([own.name, own.type, own.flag], ["sonocanvas.amxd", "JSON", 17]);
    assert.equal(own.data[own.data.length - 1], 0, "the patcher text ends in a NUL");
    assert.deepEqual(JSON.parse(own.data.subarray(0, -1).toString("utf8")).patcher, loadPatcher());
    assert.deepEqual([script.name, script.type, script.flag], ["sonocanvas.js", "TEXT", 0]);
    assert.equal(script.data.toString("utf8"), fs.readFileSync(SCRIPT_PATH, "utf8"));
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
});
