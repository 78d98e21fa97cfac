// Loop: the device asks for a seamless loop of so many bars at the set's tempo, and places the clip warped,
// looping, its loop region exactly those bars, against a fake Live that behaves as the LOM documents.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { FakeLive, FakeDisk, loadedDevice, wavBytes } = require("../helpers/fakes.js");

// 4 s: 2 bars of 4/4 at 120 BPM, as the server makes a 2-bar loop at that tempo.
const WAV = "/drop/20261121-133000_tiles_drums_s42.wav";
const NAME = "tiles / drums s42";

function liveWith(options = {}, files = { [WAV]: 4 }) {
  const disk = new FakeDisk();
  for (const [file, seconds] of Object.entries(files)) disk.add(file, wavBytes(seconds));
  return new FakeLive({ disk, ...options });
}

function device(live, values = {}) {
  return loadedDevice({ live, values: { image_prompt: "tiles", audio_prompt: "drums", seed: 42, seed_lock: 1, loop: 1, bars: 2, ...values } });
}

// The generate the device sent, as key -> value, with the keys in the order sent.
function sent(env) {
  const atoms = env.osc().filter((a) => a[0] === "/sonocanvas/generate").pop();
  const keys = {};
  for (let i = 2; i + 1 < atoms.length; i += 2) keys[atoms[i]] = atoms[i + 1];
  return keys;
}

function finish(fixture, files = [WAV]) {
  const job = fixture.device.generate();
  files.forEach((file, i) => fixture.device.receive("/sonocanvas/done", [job, i, file, "/drop/x.png", "/drop/x.json"]));
  fixture.env.flush();
  return job;
}

function placedClip(live, file = WAV) {
  return [...live.objects.values()].find((o) => o.type === "Clip" && o.props.file_path && o.props.file_path[0] === file).props;
}

test("Loop sends loop 1 with the set's tempo and the bars, whether fit to bars is on or not", () => {
  for (const fit of [0, 1]) {
    const { env, device: d } = device(new FakeLive({ tempo: 126.5 }), { fit_bars: fit, bars: 3 });
    d.generate();
    const atoms = env.osc().pop();
    assert.deepEqual(atoms.slice(atoms.indexOf("loop"), atoms.indexOf("loop") + 6), ["loop", 1, "bpm", 126.5, "bars", 3]);
    assert.equal(atoms.filter((a) => a === "bpm").length, 1, "one tempo, one bar count");
  }
  const { env, device: d } = device(new FakeLive({ tempo: 126.5 }), { loop: 0, fit_bars: 1, bars: 3 });
  d.generate();
  const keys = sent(env);
  assert.equal(keys.loop, undefined, "Loop off: no loop key");
  assert.deepEqual([keys.bpm, keys.bars], [126.5, 3], "fit to bars alone still sends the tempo and bars");
});

test("the bars are held to the server's bounds for bars", () => {
  const { env, device: d } = device(new FakeLive(), { bars: 64 });
  d.receive("/sonocanvas/limits", ["bars", 1, 16]);
  d.generate();
  assert.equal(sent(env).bars, 16);
});

test("the fake Live refuses to loop unwarped audio and keeps an end marker after the start, as the LOM says", () => {
  const live = liveWith({ slots: [false] });
  const slot = live.api(`id ${live.slotIds()[0]}`);
  slot.call("create_audio_clip", WAV);
  const clip = live.api(`id ${slot.get("clip")[1]}`);
  assert.deepEqual([clip.get("warping"), clip.get("loop_end"), clip.get("end_marker")], [[0], [4], [4]], "unwarped: seconds of the file");
  clip.set("looping", 1);
  assert.deepEqual(clip.get("looping"), [0]);
  assert.match(live.errors.pop(), /unwarped audio cannot be looped/);
  clip.set("warping", 1);
  assert.deepEqual([clip.get("loop_end"), clip.get("end_marker")], [[8], [8]], "warped: beats (4 s at 120 BPM)");
  assert.deepEqual(JSON.parse(clip.get("warp_markers")[0]).warp_markers, [{ beat_time: 0, sample_time: 0 }, { beat_time: 8, sample_time: 4 }]);
  clip.set("start_marker", 2);
  clip.set("end_marker", 1);
  assert.deepEqual(clip.get("end_marker"), [8]);
  assert.match(live.errors.pop(), /before the start marker/);
});

test("Session: a looped clip is placed warped, looping, its loop and markers exactly the bars", () => {
  const live = liveWith({ slots: [true, false] });
  const fixture = device(live);
  finish(fixture);
  const clip = placedClip(live);
  assert.deepEqual([clip.warping[0], clip.looping[0], clip.loop_start[0], clip.loop_end[0], clip.start_marker[0], clip.end_marker[0]],
    [1, 1, 0, 8, 0, 8], "2 bars = 8 beats");
  const sets = live.changes().filter((c) => c.method === "set").map((c) => c.args[0]);
  assert.ok(sets.indexOf("warping") < sets.indexOf("looping"), `warp goes on before looping: ${sets}`);
  assert.deepEqual(live.errors, [], "every change is one Live accepts");
  assert.equal(fixture.env.status(), `Placed \u201c${NAME}\u201d in scene 2, looping over 2 bar(s)`);
});

test("Session: without Loop the clip is placed as Live loads it, unwarped and unlooped", () => {
  const live = liveWith({ slots: [false] });
  finish(device(live, { loop: 0 }));
  const clip = placedClip(live);
  assert.deepEqual([clip.warping[0], clip.looping[0]], [0, 0]);
  assert.deepEqual(live.changes().filter((c) => c.method === "set").map((c) => c.args[0]), ["name"]);
});

test("Arrangement: the gap for a looped clip is found with its bars x 4 beats, and nothing is replaced", () => {
  // The file's length cannot be read (Max's File could not open it), yet a loop's length is known: 8 beats.
  const live = liveWith({ view: "Arranger", songTime: 2, arrangement: [[0, 2], [10, 12], [13, 14]] });
  const fixture = device(live);
  fixture.env.readBytes = () => null;
  finish(fixture);
  assert.deepEqual(live.changes()[0], { id: live.track.id, method: "create_audio_clip", args: [WAV, 2] }, "2..10 holds 8 beats");
  assert.deepEqual(live.arrangement(), [[0, 2, "old.wav"], [2, 10, WAV], [10, 12, "old.wav"], [13, 14, "old.wav"]]);
  const clip = placedClip(live);
  assert.deepEqual([clip.warping[0], clip.looping[0], clip.loop_start[0], clip.loop_end[0], clip.end_marker[0]], [1, 1, 0, 8, 8]);
  assert.equal(fixture.env.status(), `Placed \u201c${NAME}\u201d in the Arrangement at beat 2, looping over 2 bar(s)`);
});

test("Arrangement: a gap shorter than the bars is skipped", () => {
  const live = liveWith({ view: "Arranger", songTime: 0, arrangement: [[0, 2], [8, 12]] });
  finish(device(live));
  assert.deepEqual(live.arrangement().map(([s, e]) => [s, e]), [[0, 2], [8, 12], [12, 20]], "2..8 is 6 beats, the loop is 8");
});

test("a clip Live warped at a tempo of its own is reported: its loop would play another part of the file", () => {
  // Auto-Warp guessed 240 BPM: 8 beats are then 2 s of the 4 s file.
  const live = liveWith({ slots: [false], autoWarpBpm: 240 });
  const fixture = device(live);
  finish(fixture);
  const clip = placedClip(live);
  assert.deepEqual([clip.looping[0], clip.loop_end[0]], [1, 8]);
  assert.equal(fixture.env.status(), `Placed \u201c${NAME}\u201d in scene 1, looping over 2 bar(s), but Live warped it at a tempo of ` +
    "its own, so the loop plays 2.00 s of the 4.00 s file: set its Seg. BPM to 120");
});

test("variations of a loop are each looped, and laid one after another in the Arrangement", () => {
  const files = [0, 1].map((i) => WAV.replace("s42", `s${42 + i}_v${i}`));
  const live = liveWith({ view: "Arranger", songTime: 0 }, Object.fromEntries(files.map((f) => [f, 4])));
  finish(device(live, { variations: 2 }), files);
  assert.deepEqual(live.arrangement().map(([s, e]) => [s, e]), [[0, 8], [8, 16]]);
  for (const file of files) assert.deepEqual([placedClip(live, file).looping[0], placedClip(live, file).loop_end[0]], [1, 8]);
});
