// End to end: the device's js, through a udpsend/udpreceive shim, talks to a real
// `sonocanvas serve --models tiny-random`, and the finished WAV lands in the (fake) Live set.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { spawn } = require("node:child_process");
const { EventEmitter, once } = require("node:events");
const { Device, FakeLive, fakeEnv } = require("./fakes.js");
const { MaxUdp } = require("./osc.js");

const START_TIMEOUT_MS = 120000;
const JOB_TIMEOUT_MS = 180000;

// Starts the server on a free port with its own config and drop folder; resolves once it listens.
async function startServer(folder) {
  const server = spawn("python3", ["-m", "sonocanvas.bridge.cli", "serve", "--config", path.join(folder, "config.yaml"),
    "--port", "0", "--drop-dir", path.join(folder, "drop"), "--models", "tiny-random", "--device", "cpu"],
  { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PYTHONUNBUFFERED: "1" } });
  let output = "";
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start:\n${output}`)), START_TIMEOUT_MS);
    const read = (data) => {
      output += data;
      const match = /listening on udp:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    server.stdout.on("data", read);
    server.stderr.on("data", read);
    server.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}):\n${output}`));
    });
  });
  return { server, port, output: () => output };
}

// Waits for the first `show` that passes `check`, failing after a timeout with what was shown.
function shown(events, env, check, timeoutMs, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      events.off("show", look);
      reject(new Error(`no ${what} within ${timeoutMs} ms; status lines: ${JSON.stringify(env.shown.filter(([n]) => n === "status"))}`));
    }, timeoutMs);
    function look(entry) {
      if (check(entry)) {
        clearTimeout(timer);
        events.off("show", look);
        resolve(entry);
      }
    }
    events.on("show", look);
  });
}

// The data chunk of a RIFF/WAVE file, checked against the file's own length.
function wavData(file) {
  const bytes = fs.readFileSync(file);
  assert.equal(bytes.toString("ascii", 0, 4), "RIFF");
  assert.equal(bytes.readUInt32LE(4), bytes.length - 8, "the RIFF size covers the whole file");
  assert.equal(bytes.toString("ascii", 8, 12), "WAVE");
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const id = bytes.toString("ascii", offset, offset + 4);
    const size = bytes.readUInt32LE(offset + 4);
    if (id === "data") return { size, end: offset + 8 + size, length: bytes.length };
    offset += 8 + size + (size % 2);
  }
  throw new Error(`${file} has no data chunk`);
}

function findString(value, wanted) {
  if (value === wanted) return true;
  if (value && typeof value === "object") return Object.values(value).some((item) => findString(item, wanted));
  return false;
}

test("a prompt typed in the device comes back as a complete WAV clip on the track", { timeout: START_TIMEOUT_MS + JOB_TIMEOUT_MS + 30000 }, async () => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), "sonocanvas-e2e-"));
  const { server, port, output } = await startServer(folder);
  const events = new EventEmitter();
  const live = new FakeLive({ slots: [true, false] });
  const audioPrompt = 'bells "ringing", slowly';
  const env = fakeEnv({
    live,
    values: { server_port: port, image_prompt: "castle towers", audio_prompt: audioPrompt, seed: 42, seed_lock: 1, steps: 3 },
  });
  let udp = null;
  let device = null;
  try {
    udp = new MaxUdp((address, args) => device.receive(address, args));
    const show = env.show;
    env.show = (name, selector, args) => {
      show(name, selector, args);
      events.emit("show", [name, selector, ...args]);
    };
    env.outlet = (index, atoms) => {
      env.outlets[index].push(atoms);
      udp.outlet(index, atoms);
    };
    env.defer = (fn) => setImmediate(fn);
    env.every = (ms, fn) => {
      const timer = setInterval(fn, ms);
      return { cancel: () => clearInterval(timer) };
    };
    env.now = () => Date.now();
    device = new Device(env);

    const connected = shown(events, env, ([name, , on]) => name === "light" && on === 1, 30000, "connection light");
    device.loaded();
    await connected;
    assert.match(env.status(), /^Connected: sonocanvas \S+ on cpu \(tiny-random/);

    const placed = shown(events, env, ([name, , line]) => name === "status" && /^(Placed|Error|Could not)/.test(line), JOB_TIMEOUT_MS, "placed clip");
    assert.match(device.generate(), /^sc[0-9a-z]+-1$/);
    const [, , line] = await placed;
    assert.equal(line, "Placed \u201ccastle towers / bells \"ringing\", slowly s42\u201d in scene 2", output());

    const progress = env.shown.filter(([name]) => name === "progress").map(([, , value]) => value);
    assert.ok(progress.some((value) => value > 0 && value <= 1), `progress was shown: ${progress}`);
    const create = live.changes().find((call) => call.method === "create_audio_clip");
    const [slot1, slot2] = live.slotIds();
    assert.equal(create.id, slot2, "the first empty clip slot");
    assert.notEqual(create.id, slot1);
    const wav = create.args[0];
    assert.ok(path.isAbsolute(wav), wav);
    assert.equal(path.dirname(fs.realpathSync(wav)), fs.realpathSync(path.join(folder, "drop")), "in the drop folder");
    const data = wavData(wav);
    assert.ok(data.size > 0, "the clip has audio");
    assert.ok(data.end <= data.length, "the data chunk is all there");
    const png = env.shown.find(([name]) => name === "picture")[2];
    assert.equal(fs.readFileSync(png).subarray(1, 4).toString("ascii"), "PNG");
    const record = JSON.parse(fs.readFileSync(wav.replace(/\.wav$/, ".json"), "utf8"));
    assert.ok(findString(record, audioPrompt), "the prompt with quotes and a comma arrived as one string");
  } finally {
    if (device) device.free();
    if (udp) udp.close();
    server.kill("SIGTERM");
    if (server.exitCode === null) await once(server, "exit");
    fs.rmSync(folder, { recursive: true, force: true });
  }
});
