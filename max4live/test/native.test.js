// Quiet and native: nothing in the Max Console in normal use (Ableton's Max for Live production guidelines:
// "There are no prints in the Max Console on load"), a real problem posted once; Max's own objects (fpic) given
// Max-style paths, LiveAPI the native one.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { FakeLive, FakeDisk, loadedDevice, wavBytes } = require("../helpers/fakes.js");
const { maxPath } = require("../sonocanvas.js");

const WAV = "/drop/20261121-133000_castle-towers_bells_s42.wav";

// A device that goes through a musician's first minutes: connect, menus (a long one in two chunks), a preset,
// heartbeats, generate, progress, done, the clip placed; then a reconnect, which does it all again.
function firstMinutes(view) {
  const live = new FakeLive({ view, disk: new FakeDisk({ [WAV]: wavBytes(2) }), slots: [false, false] });
  const fixture = loadedDevice({ live, values: { image_prompt: "castle towers", audio_prompt: "bells", seed: 42, seed_lock: 1 } });
  const { env, device } = fixture;
  env.flush();
  for (let round = 0; round < 2; round++) {
    device.receive("/sonocanvas/ready", ["0.2.0", "cpu", "tiny", "c0ffee", "clip clap"]);
    device.receive("/sonocanvas/limits", ["steps", 1, 500, "bars", 1, 64]);
    device.receive("/sonocanvas/preset/names", ["castle bells"]);
    device.receive("/sonocanvas/preset/names", ["ocean choir"]);
    device.receive("/sonocanvas/preset/names/end", [2]);
    device.receive("/sonocanvas/fx/names", ["warm tape"]);
    device.receive("/sonocanvas/fx/names/end", [1]);
    env.values.preset = 1;
    device.presetChosen();
    device.receive("/sonocanvas/preset", ["castle bells", "image_prompt", "castle towers", "loop", 0]);
    env.clock += 2000;
    device.tick();
    device.receive("/sonocanvas/status", ["", 0, "cpu"]);
    const job = device.generate();
    device.receive("/sonocanvas/queued", [job, 1]);
    device.receive("/sonocanvas/progress", [job, 1, 2]);
    device.receive("/sonocanvas/done", [job, 0, WAV, WAV.replace(".wav", ".png"), WAV.replace(".wav", ".json")]);
    env.flush();
    assert.match(env.status(), /^Placed /);
    device.connect();
  }
  return fixture;
}

for (const view of ["Session", "Arranger"]) {
  test(`${view}: connect, menus, a preset, generate and place print nothing in the Max Console`, () => {
    const { env, live } = firstMinutes(view);
    assert.deepEqual(env.posted, []);
    assert.deepEqual(live.errors, [], "nor does any Live API call the device makes (Live prints those)");
  });
}

test("a real problem is posted once, not on every reply or reconnect", () => {
  const { env, device } = loadedDevice();
  for (let i = 0; i < 3; i++) {
    device.receive("/sonocanvas/ready", ["0.1.0", "cpu", "tiny"]);
    device.receive("/sonocanvas/error", ["", "address", "address: unknown address '/sonocanvas/limits'"]);
    device.receive("/sonocanvas/surprise", [1]);
    device.connect();
  }
  assert.deepEqual(env.posted, [
    "sonocanvas: the server gives no bounds; using the controls' ranges",
    "sonocanvas: ignored reply /sonocanvas/surprise (from a newer server?)",
  ]);
});

test("Max-style paths: backslashes of a Windows path become slashes, other paths stay as they are", () => {
  assert.equal(maxPath("C:\\Users\\Léa\\Music\\a b.wav"), "C:/Users/Léa/Music/a b.wav");
  assert.equal(maxPath("\\\\studio\\share\\drop\\x.wav"), "//studio/share/drop/x.wav");
  assert.equal(maxPath("/Users/lea/odd\\name.wav"), "/Users/lea/odd\\name.wav", "a backslash in a macOS file name is a character");
  assert.equal(maxPath("/Volumes/Samples ∆/x.wav"), "/Volumes/Samples ∆/x.wav");
});

test("on Windows, fpic gets the Max-style path and LiveAPI the native one", () => {
  const wav = "C:\\Users\\Léa\\Music\\sonocanvas\\20261121-133000_a_b_s42.wav";
  const png = wav.replace(".wav", ".png");
  const live = new FakeLive({ view: "Arranger", disk: new FakeDisk({ [wav]: wavBytes(2) }), arrangement: [[4, 8]], slots: [false] });
  const { env, device } = loadedDevice({ live, values: { image_prompt: "a", audio_prompt: "b", seed: 42, seed_lock: 1 } });
  const job = device.generate();
  device.receive("/sonocanvas/done", [job, 0, wav, png, wav.replace(".wav", ".json")]);
  env.flush();
  assert.deepEqual(env.shown.find(([name]) => name === "picture"), ["picture", "read", "C:/Users/Léa/Music/sonocanvas/20261121-133000_a_b_s42.png"]);
  const create = live.changes().find((call) => call.method === "create_audio_clip");
  assert.equal(create.args[0], wav, "Live gets the path as the server sent it");
  assert.deepEqual(live.arrangement(), [[0, 4, wav], [4, 8, "old.wav"]], "and its clip, 4 beats (2 s at 120 BPM), fits before beat 4");
  assert.deepEqual(live.errors, []);
});
