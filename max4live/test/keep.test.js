// Keep: make N candidates, keep the best K. The device sends variations, keep and rank; the server sends
// /sonocanvas/scores before each kept clip's done; only the kept clips are placed, named with rank and scores.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { FakeLive, FakeDisk, loadedDevice, wavBytes } = require("../helpers/fakes.js");
const { scoreLabel } = require("../sonocanvas.js");

const DROP = "/drop/20261121-133000_castle-towers_bells";
const PNG = "/drop/x.png";
const JSON_PATH = "/drop/x.json";

function keeping(values = {}, live = new FakeLive({ slots: [true, false, false, false] })) {
  return loadedDevice({ live, values: { image_prompt: "castle towers", audio_prompt: "bells", seed: 42, seed_lock: 1,
    variations: 16, keep: 3, ...values } });
}

function sent(env) {
  const atoms = env.osc().filter((a) => a[0] === "/sonocanvas/generate").pop();
  const keys = {};
  for (let i = 2; i + 1 < atoms.length; i += 2) keys[atoms[i]] = atoms[i + 1];
  return keys;
}

test("Keep K sends the variations control as the candidates, keep K and rank both", () => {
  const { env, device } = keeping();
  device.generate();
  const keys = sent(env);
  assert.deepEqual([keys.variations, keys.keep, keys.rank], [16, 3, "both"]);
});

test("Keep 0 is off: no keep or rank is sent", () => {
  const { env, device } = keeping({ keep: 0, variations: 2 });
  device.generate();
  const keys = sent(env);
  assert.deepEqual([keys.variations, "keep" in keys, "rank" in keys], [2, false, false]);
});

test("Keep more than the variations is refused with a message, and nothing is sent", () => {
  const { env, device } = keeping({ keep: 5, variations: 4 });
  assert.equal(device.generate(), null);
  assert.equal(env.status(), "Keep: 5 is more than the 4 variations it keeps from; raise variations or lower Keep");
  assert.deepEqual(env.osc().map((a) => a[0]), ["/sonocanvas/hello"]);
});

test("with the server's limits, the variations cap holds the clips kept and the candidates may go to keep's range", () => {
  // As the server does (bridge/protocol.py): with keep, its variations cap bounds keep instead of variations.
  const { env, device } = keeping({ variations: 40, keep: 12 });
  device.receive("/sonocanvas/limits", ["variations", 1, 8, "keep", 1, 64]);
  device.generate();
  assert.deepEqual([sent(env).variations, sent(env).keep], [40, 8]);
  env.values.keep = 0;
  device.generate();
  assert.equal(sent(env).variations, 8, "without keep, the cap holds the variations");
});

test("ready with no scorers greys Keep out and says why; Generate then counts Keep as 0 and says so", () => {
  const { env, device } = keeping({ variations: 4 });
  device.receive("/sonocanvas/ready", ["0.2.0", "cpu", "tiny", "c0ffee", ""]);
  assert.deepEqual(env.shown.filter(([name]) => name === "keep").pop(), ["keep", "active", 0]);
  assert.equal(env.status(), "Connected: sonocanvas 0.2.0 on cpu (tiny). Keep is off: this server has no CLIP or CLAP scorer to rank candidates with");
  assert.ok(device.generate(), "a greyed-out Keep cannot be changed, so it must not block Generate");
  const keys = sent(env);
  assert.deepEqual([keys.variations, "keep" in keys, "rank" in keys], [4, false, false]);
  assert.equal(env.status(), "Sent to 127.0.0.1:9010. Keep is off: this server has no CLIP or CLAP scorer to rank candidates with");
  assert.equal(device.jobs[Object.keys(device.jobs)[0]].keep, 0, "the job keeps nothing: every variation will be placed");
});

test("ready naming scorers, or an older ready without the argument, leaves Keep usable", () => {
  for (const ready of [["0.2.0", "cpu", "tiny", "c0ffee", "clip clap"], ["0.2.0", "cpu", "tiny", "c0ffee"], ["0.1.0", "cpu", "tiny"]]) {
    const { env, device } = keeping();
    device.receive("/sonocanvas/ready", ["0.2.0", "cpu", "tiny", "c0ffee", ""]);
    device.receive("/sonocanvas/ready", ready);
    assert.deepEqual(env.shown.filter(([name]) => name === "keep").pop(), ["keep", "active", 1], `after ${ready.length} arguments`);
    assert.ok(device.generate());
    assert.equal(sent(env).keep, 3);
  }
});

test("only the kept clips are placed, in rank order, named with their rank and scores; the status says kept K of N", () => {
  const files = [44, 50, 42].map((seed) => `${DROP}_s${seed}.wav`);
  const disk = new FakeDisk(Object.fromEntries(files.map((f) => [f, wavBytes(2)])));
  const live = new FakeLive({ disk, slots: [true, false, false, false, false] });
  const { env, device } = keeping({}, live);
  const job = device.generate();
  const scores = [[0.31, 0.12], [0.29, 0.2], [0.305, 0.01]];
  files.forEach((file, i) => {
    device.receive("/sonocanvas/scores", [job, i, i + 1, 16, "clip", scores[i][0], "clap", scores[i][1]]);
    device.receive("/sonocanvas/done", [job, i, file, PNG, JSON_PATH]);
  });
  env.flush();
  const names = live.slotIds().map((id) => live.objects.get(id).props).filter((slot) => slot.has_clip[0])
    .map((slot) => live.clip(slot.clip[1]).name[0]);
  assert.deepEqual(names, ["old",
    "castle towers / bells s44 #1 clip 0.31 clap 0.12",
    "castle towers / bells s50 #2 clip 0.29 clap 0.20",
    "castle towers / bells s42 #3 clip 0.30 clap 0.01"]);
  assert.equal(live.changes().filter((c) => c.method === "create_audio_clip").length, 3, "three kept, three placed");
  assert.equal(env.status(), "Placed \u201ccastle towers / bells s42 #3 clip 0.30 clap 0.01\u201d in scene 4; kept 3 of 16");
  assert.deepEqual(device.jobs, {}, "the job ends with its third done, not its sixteenth");
});

test("a done whose scores did not come is still placed, under its plain name; scores of another job change nothing", () => {
  const file = `${DROP}_s42.wav`;
  const live = new FakeLive({ disk: new FakeDisk({ [file]: wavBytes(2) }), slots: [false] });
  const { env, device } = keeping({ keep: 1 }, live);
  const job = device.generate();
  device.receive("/sonocanvas/scores", ["someone-else", 0, 1, 16, "clip", 0.5]);
  device.receive("/sonocanvas/done", [job, 0, file, PNG, JSON_PATH]);
  env.flush();
  assert.equal(env.status(), "Placed \u201ccastle towers / bells s42\u201d in scene 1; kept 1 of 16");
});

test("a score label: rank, then each kind and its score to two decimals", () => {
  assert.equal(scoreLabel(1, ["clip", 0.314159, "clap", -0.05]), "#1 clip 0.31 clap -0.05");
  assert.equal(scoreLabel(2, ["clap", 0.2]), "#2 clap 0.20");
  assert.equal(scoreLabel(3, []), "#3");
});

test("a preset's keep, loop and bars show in their controls, so what is sent agrees with the preset", () => {
  const { env, device } = keeping({ keep: 0, loop: 0, bars: 4, variations: 1 });
  device.receive("/sonocanvas/preset/names", ["best of 16"]);
  device.receive("/sonocanvas/preset/names/end", [1]);
  env.values.preset = 1;
  device.presetChosen();
  device.receive("/sonocanvas/preset", ["best of 16", "variations", 16, "keep", 2, "loop", true, "bars", 2]);
  assert.deepEqual([env.values.variations, env.values.keep, env.values.loop, env.values.bars], [16, 2, 1, 2]);
  device.generate();
  const keys = sent(env);
  assert.deepEqual([keys.variations, keys.keep, keys.loop, keys.bars], [16, 2, 1, 2]);
  device.receive("/sonocanvas/preset", ["plain", "loop", false]);
  assert.equal(env.values.loop, 0);
});
