// End to end: the device's js, through a udpsend/udpreceive shim, talks to a real
// `sonocanvas serve --models tiny-random`, and the finished WAV lands in the (fake) Live set.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const dgram = require("node:dgram");
const { spawn } = require("node:child_process");
const { EventEmitter, once } = require("node:events");
const { Device, FakeLive, fakeEnv, wavSecondsOf } = require("../helpers/fakes.js");
const { MaxUdp, freePort, encode, decode } = require("../helpers/osc.js");
const { FakeServer } = require("../helpers/fake-server.js");

const START_TIMEOUT_MS = 120000;
const JOB_TIMEOUT_MS = 180000;

// Starts the server on `port` (0: a free one) with its own config and drop folder; resolves once it listens.
async function startServer(folder, port = 0) {
  const server = spawn("python3", ["-m", "sonocanvas.bridge.cli", "serve", "--config", path.join(folder, "config.yaml"),
    "--port", String(port), "--drop-dir", path.join(folder, "drop"), "--models", "tiny-random", "--device", "cpu"],
  { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PYTHONUNBUFFERED: "1" } });
  let output = "";
  const listening = await new Promise((resolve, reject) => {
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
  return { server, port: listening, output: () => output };
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

// One device as Max runs it: its js, udpsend/udpreceive (the shim), deferral by setImmediate, a
// Task-like heartbeat (`heartbeat: false`: none, for a test that must not depend on how long a server
// takes to start); its Live set is a FakeLive. Resolves once its connection light is on.
async function connectedDevice(server, { live = new FakeLive(), ports = {}, values = {}, heartbeat = true } = {}) {
  const events = new EventEmitter();
  const env = fakeEnv({ live, ports, values: { server_port: server.port, reply_port: await freePort(), steps: 3, seed_lock: 1, ...values } });
  let device = null;
  const udp = new MaxUdp((address, args) => device.receive(address, args));
  const show = env.show;
  Object.assign(env, {
    show(name, selector, args) {
      show(name, selector, args);
      events.emit("show", [name, selector, ...args]);
    },
    outlet(index, atoms) {
      env.outlets[index].push(atoms);
      udp.outlet(index, atoms);
    },
    listen(port) {
      env.listening.push(port);
      udp.listen(port);
    },
    defer: (fn) => setImmediate(fn),
    every(ms, fn) {
      const timer = heartbeat ? setInterval(fn, ms) : null;
      return { cancel: () => clearInterval(timer) };
    },
    now: () => Date.now(),
  });
  device = new Device(env);
  const close = () => {
    device.free();
    udp.close();
  };
  server.closers.push(close);
  const connected = shown(events, env, ([name, , on]) => name === "light" && on === 1, 30000, "connection light");
  device.loaded();
  await connected;
  // the device's status line, once it says where the clip went (or why it could not)
  const placed = () => shown(events, env, ([name, , line]) => name === "status" && /^(Placed|Error|Not placed)/.test(line), JOB_TIMEOUT_MS, "placed clip")
    .then(([, , line]) => line);
  return { device, env, live, placed, events };
}

let server = null;
let folder = null;

test.before(async () => {
  folder = fs.mkdtempSync(path.join(os.tmpdir(), "sonocanvas-e2e-"));
  server = await startServer(folder);
  server.closers = [];
}, { timeout: START_TIMEOUT_MS + 10000 });

test.after(async () => {
  if (server) {
    for (const close of server.closers) close();
    server.server.kill("SIGTERM");
    if (server.server.exitCode === null) await once(server.server, "exit");
  }
  fs.rmSync(folder, { recursive: true, force: true });
});

test("a prompt typed in the device comes back as a complete WAV clip on the track", { timeout: JOB_TIMEOUT_MS + 30000 }, async () => {
  const audioPrompt = 'bells "ringing", slowly';
  const { device, env, live, placed } = await connectedDevice(server, {
    live: new FakeLive({ slots: [true, false] }),
    values: { image_prompt: "castle towers", audio_prompt: audioPrompt, seed: 42 },
  });
  assert.match(env.status(), /^Connected: sonocanvas \S+ on cpu \(tiny-random/);

  const line = placed();
  assert.match(device.generate(), /^sc[0-9a-z]+-1$/);
  assert.equal(await line, "Placed \u201ccastle towers / bells \"ringing\", slowly s42\u201d in scene 2", server.output());

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
});

test("two devices on two tracks generate at once, each getting only its own clip", { timeout: 2 * JOB_TIMEOUT_MS + 30000 }, async () => {
  const ports = {};
  const drums = await connectedDevice(server, { ports, values: { image_prompt: "drum kit", audio_prompt: "drums", seed: 7 } });
  const choir = await connectedDevice(server, { ports, values: { image_prompt: "cathedral", audio_prompt: "choir", seed: 8 } });
  assert.notEqual(drums.device.replyPort, choir.device.replyPort);
  const lines = [drums.placed(), choir.placed()];
  const ids = [drums.device.generate(), choir.device.generate()];
  assert.equal(ids[0].split("-")[1], "1");
  assert.deepEqual(await Promise.all(lines), [
    "Placed \u201cdrum kit / drums s7\u201d in scene 1",
    "Placed \u201ccathedral / choir s8\u201d in scene 1",
  ]);
  for (const [{ live }, word] of [[drums, "drum"], [choir, "cathedral"]]) {
    const creates = live.changes().filter((call) => call.method === "create_audio_clip");
    assert.equal(creates.length, 1, "one clip per device");
    assert.match(path.basename(creates[0].args[0]), new RegExp(`^\\d{8}-\\d{6}_${word}`));
    assert.ok(wavData(creates[0].args[0]).size > 0);
  }
});

test("riffing on the clip in view sends its region, and the server's riff lands beside it", { timeout: 2 * JOB_TIMEOUT_MS + 30000 }, async () => {
  const { device, env, live, placed } = await connectedDevice(server, {
    live: new FakeLive({ slots: [false, false, false] }),
    values: { image_prompt: "lighthouse", audio_prompt: "foghorn", seed: 5, strength: 0.5 },
  });
  let line = placed();
  device.generate();
  assert.equal(await line, "Placed \u201clighthouse / foghorn s5\u201d in scene 1", server.output());
  const [first] = live.slotIds();
  const original = live.objects.get(live.objects.get(first).props.clip[1]);
  original.props.loop_start = [0.25];
  original.props.loop_end = [1.0];
  live.songView.props.detail_clip = ["id", original.id];

  line = placed();
  device.riff();
  const sent = env.osc().filter((atoms) => atoms[0] === "/sonocanvas/generate").pop();
  const keys = Object.fromEntries(sent.slice(2).flatMap((_, i, a) => (i % 2 ? [] : [[a[i], a[i + 1]]])));
  assert.deepEqual([keys.init_audio, keys.init_start, keys.init_end, keys.strength], [original.props.file_path[0], 0.25, 1, 0.5]);
  assert.equal(await line, "Placed \u201criff of lighthouse / foghorn s5: lighthouse / foghorn s5\u201d in scene 2", server.output());
  const riffWav = live.clip(live.objects.get(live.slotIds()[1]).props.clip[1]).file_path[0];
  const record = JSON.parse(fs.readFileSync(riffWav.replace(/\.wav$/, ".json"), "utf8"));
  assert.ok(findString(record, original.props.file_path[0]), "the server riffed on the original's file");
  assert.ok(findString(record, 0.25) && findString(record, 1), "over the region the clip plays");
  assert.equal(live.objects.get(first).props.clip[1], original.id, "the original is untouched");
});

test("See: the clip in view restyles its own picture on the real server, over its region; the result shows in the panel", { timeout: 2 * JOB_TIMEOUT_MS + 30000 }, async () => {
  const { device, env, live, placed, events } = await connectedDevice(server, {
    live: new FakeLive({ slots: [false, false] }),
    values: { image_prompt: "harbour", audio_prompt: "gulls", seed: 6 },
  });
  const line = placed();
  device.generate();
  assert.match(await line, /^Placed/, server.output());
  const clip = live.objects.get(live.objects.get(live.slotIds()[0]).props.clip[1]);
  clip.props.loop_start = [0.25];
  clip.props.loop_end = [1.0];
  live.songView.props.detail_clip = ["id", clip.id];
  const seen = shown(events, env, ([name, , text]) => name === "status" && /^(Seen|Error)/.test(text), JOB_TIMEOUT_MS, "seen");
  device.see();
  const sent = env.osc().filter((atoms) => atoms[0] === "/sonocanvas/stylize").pop();
  const wav = clip.props.file_path[0];
  assert.deepEqual(sent.slice(2, 8), [wav.replace(/\.wav$/, ".picture.png"), wav, "sound_start", 0.25, "sound_end", 1]);
  const [, , status] = await seen;
  assert.match(status, /^Seen: \u201charbour \/ gulls s6\u201d as .*_seen-.*\.png$/, server.output());
  const picture = env.shown.filter(([name, selector]) => name === "picture" && selector === "read").pop()[2];
  assert.ok(fs.existsSync(picture), `the panel shows the restyled picture, a file: ${picture}`);
  const record = JSON.parse(fs.readFileSync(picture.replace(/\.png$/, ".json"), "utf8"));
  assert.equal(record.inputs.sounds[0].path, wav, "the server heard the clip's own file");
  assert.deepEqual([record.settings.sound_start, record.settings.sound_end], [0.25, 1], "between its markers");
  assert.equal(live.slotIds().filter((id) => live.objects.get(id).props.has_clip[0]).length, 1, "nothing was placed");
});

test("Loop: the server's loop is exactly the bars at the set's tempo, and lands in Live looping over them", { timeout: JOB_TIMEOUT_MS + 30000 }, async () => {
  const { device, env, live, placed } = await connectedDevice(server, {
    live: new FakeLive({ tempo: 120, slots: [false] }),
    values: { image_prompt: "tiles", audio_prompt: "drums", seed: 9, loop: 1, bars: 1 },
  });
  const line = placed();
  device.generate();
  const sent = env.osc().filter((atoms) => atoms[0] === "/sonocanvas/generate").pop();
  assert.deepEqual(sent.slice(sent.indexOf("loop"), sent.indexOf("loop") + 6), ["loop", 1, "bpm", 120, "bars", 1]);
  assert.equal(await line, "Placed \u201ctiles / drums s9\u201d in scene 1, looping over 1 bar(s)", server.output());
  const clip = live.clip(live.objects.get(live.slotIds()[0]).props.clip[1]);
  const wav = clip.file_path[0];
  assert.equal(wavSecondsOf(fs.readFileSync(wav)), 2, "one bar of 4/4 at 120 BPM, to the sample");
  assert.deepEqual([clip.warping[0], clip.looping[0], clip.loop_start[0], clip.loop_end[0], clip.end_marker[0]], [1, 1, 0, 4, 4]);
  assert.deepEqual(live.errors, []);
  const record = JSON.parse(fs.readFileSync(wav.replace(/\.wav$/, ".json"), "utf8"));
  assert.match(JSON.stringify(record), /"loop": ?true/, "the server made a loop");
});

test("Sections: a prompt in sections with fit to bars lands whole, each section where its bars are at the set's tempo", { timeout: JOB_TIMEOUT_MS + 30000 }, async () => {
  const { device, env, live, placed } = await connectedDevice(server, {
    live: new FakeLive({ tempo: 120, slots: [false] }),
    values: { image_prompt: "a castle", audio_prompt: "bells @1 | rain", seed: 5, fit_bars: 1, bars: 2 },
  });
  const line = placed();
  device.generate();
  assert.equal(await line, "Placed \u201ca castle / bells @1 | rain s5\u201d in scene 1", server.output());
  const wav = live.clip(live.objects.get(live.slotIds()[0]).props.clip[1]).file_path[0];
  const record = JSON.parse(fs.readFileSync(wav.replace(/\.wav$/, ".json"), "utf8"));
  assert.deepEqual(record.sections.audio_prompt, [
    { prompt: "bells", start: 0, end: 2 }, { prompt: "rain", start: 2, end: 4 }], "1 bar of 4/4 at 120 bpm is 2 s");
  assert.deepEqual(live.errors, []);
  assert.equal(env.status().indexOf("Error"), -1);
});

// Keep against the real server: it ranks with the tiny-random CLIP and CLAP and sends each kept clip's scores.
test("Keep: the real server makes 3 and keeps 2; they land in rank order, named with the scores it sent", { timeout: JOB_TIMEOUT_MS + 30000 }, async () => {
  const d = await connectedDevice(server, {
    live: new FakeLive({ slots: [false, false, false] }),
    values: { image_prompt: "castle towers", audio_prompt: "bells", seed: 30, steps: 2, variations: 3, keep: 2 },
  });
  assert.deepEqual(d.device.scorers, ["clip", "clap"], "ready named the server's scorers");
  assert.deepEqual(d.env.shown.filter(([name]) => name === "keep").pop(), ["keep", "active", 1]);
  const second = statusLine(d, (line) => /^Placed .* in scene 2; kept 2 of 3$/.test(line), "the second kept clip placed");
  d.device.generate();
  await second;
  const placed = d.live.slotIds().map((id) => d.live.objects.get(id).props).filter((slot) => slot.has_clip[0]);
  assert.equal(placed.length, 2, "only the kept clips are placed");
  placed.forEach((slot, i) => {
    const clip = d.live.clip(slot.clip[1]);
    const record = JSON.parse(fs.readFileSync(clip.file_path[0].replace(/\.wav$/, ".json"), "utf8"));
    assert.equal(record.rank, i + 1, "in rank order");
    assert.equal(clip.name[0], `castle towers / bells s${record.seed} #${i + 1} clip ${record.scores.clip.toFixed(2)} ` +
      `clap ${record.scores.clap.toFixed(2)}`, "named with the scores the server recorded and sent");
  });
  assert.deepEqual(d.device.jobs, {}, "the job is over after its 2 kept clips");
});

// Keep against stand-ins of other servers (helpers/fake-server.js): one with no scorer, one older than ranking.
async function fakeServer(options) {
  const fake = await new FakeServer(fs.mkdtempSync(path.join(folder, "fake-")), options).start();
  server.closers.push(() => fake.close());
  return fake;
}

// Resolves with the first status line of a connected device that passes `check`.
function statusLine({ events, env }, check, what) {
  return shown(events, env, ([name, , line]) => name === "status" && check(line), JOB_TIMEOUT_MS, what).then(([, , line]) => line);
}

test("Keep: make 6, keep 2; only the kept clips come back, are placed in rank order and named with their scores", { timeout: 60000 }, async () => {
  const fake = await fakeServer({ scorers: "clip clap" });
  const d = await connectedDevice(fake, {
    live: new FakeLive({ slots: [false, false, false] }),
    values: { image_prompt: "castle towers", audio_prompt: "bells", seed: 100, variations: 6, keep: 2 },
  });
  assert.deepEqual(d.env.shown.filter(([name]) => name === "keep").pop(), ["keep", "active", 1]);
  const second = statusLine(d, (line) => /^Placed .* in scene 2; kept 2 of 6$/.test(line), "the second kept clip placed");
  d.device.generate();
  await second;
  const generate = fake.received.find(([address]) => address === "/sonocanvas/generate");
  const keys = Object.fromEntries(generate.slice(2).flatMap((_, i, a) => (i % 2 ? [] : [[a[i], a[i + 1]]])));
  assert.deepEqual([keys.variations, keys.keep, keys.rank], [6, 2, "both"]);
  const expected = fake.kept.map(({ seed, rank, scores }) =>
    `castle towers / bells s${seed} #${rank} clip ${scores.clip.toFixed(2)} clap ${scores.clap.toFixed(2)}`);
  assert.equal(expected.length, 2);
  assert.notDeepEqual(fake.kept.map(({ seed }) => seed), [100, 101], "the ranking is not the order they were made");
  const placed = d.live.slotIds().map((id) => d.live.objects.get(id).props).filter((slot) => slot.has_clip[0]);
  assert.deepEqual(placed.map((slot) => d.live.clip(slot.clip[1]).name[0]), expected);
  for (const slot of placed) assert.equal(wavSecondsOf(fs.readFileSync(d.live.clip(slot.clip[1]).file_path[0])), 2);
  assert.deepEqual(d.device.jobs, {}, "the job is over after its 2 kept clips");
});

test("Keep: a server with no scorer greys Keep out; Generate then makes the variations unranked", { timeout: 60000 }, async () => {
  const fake = await fakeServer({ scorers: "" });
  const d = await connectedDevice(fake, {
    live: new FakeLive({ slots: [false, false] }),
    values: { image_prompt: "a", audio_prompt: "b", seed: 3, variations: 2, keep: 1 },
  });
  assert.deepEqual(d.env.shown.filter(([name]) => name === "keep").pop(), ["keep", "active", 0]);
  assert.match(d.env.status(), /Keep is off: this server has no CLIP or CLAP scorer/);
  const second = statusLine(d, (line) => /^Placed .* in scene 2$/.test(line), "both variations placed");
  d.device.generate();
  assert.equal(await second, "Placed \u201ca / b s4 v2\u201d in scene 2");
  const generate = fake.received.find(([address]) => address === "/sonocanvas/generate");
  assert.ok(!generate.includes("keep") && !generate.includes("rank"), "no keep reached the server, which would refuse it");
  assert.ok(!fake.output().includes("-> /sonocanvas/scores"), "and nothing was ranked");
});

test("Keep: an older server that does not name its scorers leaves Keep on; its own check answers", { timeout: 60000 }, async () => {
  const fake = await fakeServer({ scorers: null, keys: [] });
  const d = await connectedDevice(fake, { values: { image_prompt: "a", audio_prompt: "b", variations: 4, keep: 2 } });
  assert.deepEqual(d.env.shown.filter(([name]) => name === "keep").pop(), ["keep", "active", 1]);
  const error = statusLine(d, (line) => line.startsWith("Error"), "the server's error");
  d.device.generate();
  assert.equal(await error, "Error: keep: keep: not a generation setting");
  assert.deepEqual(d.device.jobs, {});
});

// The OSC type tags of a packet (after its address), as a string such as ",ssi".
function typeTags(packet) {
  const afterAddress = Math.ceil((packet.indexOf(0) + 1) / 4) * 4;
  return packet.toString("latin1", afterAddress, packet.indexOf(0, afterAddress));
}

// One request from a plain UDP socket (not the device), answered at its source port: the decoded reply and its tags.
async function ask(port, address, args) {
  const socket = dgram.createSocket("udp4");
  socket.bind(0, "127.0.0.1");
  await once(socket, "listening");
  try {
    const reply = once(socket, "message");
    socket.send(encode(address, args), port, "127.0.0.1");
    const [packet] = await reply;
    return { ...decode(packet)[0], tags: typeTags(packet) };
  } finally {
    socket.close();
  }
}

// Max's udpreceive documents only the `i`, `f` and `s` types; the server once sent a bool as the string "True".
test("a preset with Loop on turns Loop on, and one with Loop off turns it off, over UDP from the real server", { timeout: 60000 }, async () => {
  for (const [name, loop] of [["e2e-looped", 1], ["e2e-unlooped", 0]]) {
    const saved = await ask(server.port, "/sonocanvas/preset/save", [name, "image_prompt", "tiles", "audio_prompt", "drums", "loop", loop]);
    assert.deepEqual(saved.args, [name], server.output());
    const reply = await ask(server.port, "/sonocanvas/preset/get", [name]);
    assert.match(reply.tags, /^,[ifs]+$/, `only i, f and s: ${reply.tags}`);
    assert.equal(reply.args[reply.args.indexOf("loop") + 1], loop, "the bool as an int 0/1");
  }
  const { device, env, events } = await connectedDevice(server, { values: { loop: 0 } });
  // connectedDevice resolves at `ready`; the menu comes with the reply to the preset/list that ready sends.
  const [, , ...names] = await shown(events, env, ([name, selector]) => name === "preset" && selector === "_parameter_range", 10000, "preset menu");
  for (const [name, loop] of [["e2e-looped", 1], ["e2e-unlooped", 0]]) {
    env.values.preset = names.indexOf(name);
    const line = shown(events, env, ([box, , text]) => box === "status" && text === `Preset ${name}`, 10000, `preset ${name}`);
    device.presetChosen();
    await line;
    assert.equal(env.values.loop, loop, `${name}: loop ${loop}`);
  }
  assert.deepEqual(env.posted, [], "and nothing in the Max Console");
});

// A server restarted on the same port no longer knows the device's secret: the Generate still lands.
// Without a heartbeat the device cannot notice the restart by itself first (however long the new server
// takes to start), so its Generate goes with the old secret and meets the server's `client` error.
test("a restarted server costs nothing: the Generate pressed after the restart lands, with one line about it", { timeout: 2 * START_TIMEOUT_MS + JOB_TIMEOUT_MS }, async () => {
  const own = fs.mkdtempSync(path.join(folder, "restart-"));
  const port = await freePort();
  let first = await startServer(own, port);
  const closers = [];
  first.closers = closers;
  try {
    const { device, env, live, placed } = await connectedDevice(first, {
      live: new FakeLive({ slots: [false] }),
      values: { image_prompt: "castle towers", audio_prompt: "bells", seed: 11 },
      heartbeat: false,
    });
    first.server.kill("SIGTERM");
    if (first.server.exitCode === null) await once(first.server, "exit");
    first = await startServer(own, port);
    first.closers = closers;
    const line = placed();
    device.generate();
    assert.equal(await line, "Placed \u201ccastle towers / bells s11\u201d in scene 1", first.output());
    const lines = env.shown.filter(([name, selector]) => name === "status" && selector === "set").map(([, , text]) => text);
    assert.ok(lines.includes("127.0.0.1:" + port + " restarted: sending the Generate again"), lines.join("\n"));
    assert.ok(!lines.some((text) => text.startsWith("Error")), lines.join("\n"));
    assert.equal(live.changes().filter((call) => call.method === "create_audio_clip").length, 1);
  } finally {
    for (const close of closers) close();
    first.server.kill("SIGTERM");
    if (first.server.exitCode === null) await once(first.server, "exit");
  }
});
