// Riff on a clip that is in Live: the device sends the clip's file and the region it plays, and the
// result goes beside the original, never over it.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { FakeLive, FakeDisk, loadedDevice, wavBytes } = require("../helpers/fakes.js");

const SOURCE = "C:\\Users\\Léa\\Music\\Samples\\été loop.wav";
const RESULT = "/drop/20261121-133000_castle-towers_bells_s42.wav";

function setup(options = {}) {
  const disk = new FakeDisk({ [SOURCE]: wavBytes(8), [RESULT]: wavBytes(2) });
  const live = new FakeLive({ disk, slots: [false, false, false, false], ...options });
  const fixture = loadedDevice({ live, values: { image_prompt: "castle towers", audio_prompt: "bells", seed: 42, seed_lock: 1, strength: 0.45 } });
  fixture.env.flush();
  return fixture;
}

// The generate the device sent, as key -> value.
function sent(env) {
  const atoms = env.osc().pop();
  assert.equal(atoms[0], "/sonocanvas/generate");
  const keys = {};
  for (let i = 2; i + 1 < atoms.length; i += 2) keys[atoms[i]] = atoms[i + 1];
  return keys;
}

function finish(fixture, job) {
  fixture.device.receive("/sonocanvas/done", [job, 0, RESULT, "/drop/x.png", "/drop/x.json"]);
  fixture.env.flush();
}

test("no clip in view: the status says what to do, and nothing is sent", () => {
  const { env, device, live } = setup();
  assert.equal(device.riff(), null);
  assert.equal(env.status(), "Riff: no clip selected. Click an audio clip so that it shows in the Detail View, then press Riff");
  assert.deepEqual(env.osc().map((atoms) => atoms[0]), ["/sonocanvas/hello"]);
  assert.deepEqual(live.changes(), []);
});

test("a MIDI clip has no audio: the status says so, and nothing is sent", () => {
  const { env, device, live } = setup();
  const clip = live.addSessionClip(live.track, 0, "none.mid", { is_audio_clip: [0], is_midi_clip: [1], name: ["bassline"] });
  live.songView.props.detail_clip = ["id", clip.id];
  assert.equal(device.riff(), null);
  assert.equal(env.status(), "Riff: \u201cbassline\u201d is a MIDI clip, which has no audio to riff on; pick an audio clip");
  assert.deepEqual(env.osc().map((atoms) => atoms[0]), ["/sonocanvas/hello"]);
  assert.deepEqual(live.errors, [], "a MIDI clip's file_path is never asked for");
});

test("an unwarped clip: its markers are seconds of its file, sent as the region with the strength", () => {
  const { env, device, live } = setup();
  const clip = live.addSessionClip(live.track, 1, SOURCE, { warping: [0], looping: [0], loop_start: [1.5], loop_end: [3.25] });
  live.songView.props.detail_clip = ["id", clip.id];
  const job = device.riff();
  assert.ok(job);
  const keys = sent(env);
  assert.deepEqual([keys.init_audio, keys.init_start, keys.init_end, keys.strength], [SOURCE, 1.5, 3.25, 0.45],
    "the path exactly as Live gave it");
  assert.equal(keys.image_prompt, "castle towers");
  assert.match(env.status(), /^Riffing on \u201c/);
});

test("a warped clip: its markers are beats, turned into seconds of the file through its warp markers", () => {
  const { env, device, live } = setup();
  const clip = live.addSessionClip(live.track, 0, SOURCE, { warping: [1], looping: [1], start_marker: [2], end_marker: [6],
    loop_start: [0], loop_end: [8], sample_rate: [48000] });
  // the file's first beat is 0.25 s in; 2 beats a second up to beat 4, then 1 beat a second (a slower passage)
  clip.warp = [[0, 0.25], [4, 2.25], [5, 3.25]];
  live.songView.props.detail_clip = ["id", clip.id];
  device.riff();
  const keys = sent(env);
  assert.deepEqual([keys.init_start, keys.init_end], [1.25, 4.25], "interpolated between markers, extrapolated past the last");
});

test("a warped clip without warp markers is refused with a message, and nothing is sent", () => {
  const { env, device, live } = setup();
  const clip = live.addSessionClip(live.track, 0, SOURCE, { warping: [1], looping: [1], start_marker: [2], end_marker: [6] });
  live.songView.props.detail_clip = ["id", clip.id];
  assert.equal(device.riff(), null);
  assert.deepEqual(env.osc().map((atoms) => atoms[0]), ["/sonocanvas/hello"]);
  assert.match(env.status(), /no region/);
  assert.deepEqual(live.changes(), []);
});

test("the selected Session clip stands in when the Detail View shows none", () => {
  const { env, device, live } = setup();
  live.addSessionClip(live.track, 2, SOURCE, { loop_start: [0], loop_end: [4] });
  live.songView.props.highlighted_clip_slot = ["id", live.slotIds()[2]];
  device.riff();
  assert.equal(sent(env).init_audio, SOURCE);
});

test("Session: the result goes into the next empty slot after the original on the same track, never over it", () => {
  const fixture = setup();
  const { live, device, env } = fixture;
  const original = live.addSessionClip(live.track, 1, SOURCE, { loop_start: [0], loop_end: [8] });
  live.songView.props.detail_clip = ["id", original.id];
  finish(fixture, device.riff());
  const slots = live.slotIds().map((id) => live.objects.get(id).props);
  assert.equal(slots[1].clip[1], original.id, "the original stays");
  assert.deepEqual(live.clip(slots[2].clip[1]).file_path, [RESULT], "beside it, below");
  assert.deepEqual(slots[0].has_clip, [0], "not the first empty slot of the track");
  assert.match(env.status(), /^Placed \u201criff of été loop: castle towers \/ bells s42\u201d in scene 3$/);
});

test("Session: a clip on another track gets its riff in the same scene on the device's track", () => {
  const fixture = setup();
  const { live, device } = fixture;
  const other = live.addTrack("audio");
  const original = live.addSessionClip(other, 3, SOURCE, { loop_start: [0], loop_end: [8] });
  live.songView.props.detail_clip = ["id", original.id];
  finish(fixture, device.riff());
  const mine = live.slotIds().map((id) => live.objects.get(id).props.has_clip[0]);
  assert.deepEqual(mine, [0, 0, 0, 1]);
});

test("Arrangement: the result goes into the first gap after the original on the same track, never over it", () => {
  const fixture = setup({ view: "Arranger", songTime: 0, arrangement: [[20, 22]] });
  const { live, device } = fixture;
  const original = live.addArrangementClip(live.track, SOURCE, 8, 16);
  original.props.loop_end = [4];
  live.songView.props.detail_clip = ["id", original.id];
  finish(fixture, device.riff());
  assert.deepEqual(live.arrangement(), [[8, 16, SOURCE], [16, 20, RESULT], [20, 22, "old.wav"]]);
});

test("Arrangement: a clip on another track gets its riff at the same time on the device's track", () => {
  const fixture = setup({ view: "Arranger", songTime: 0 });
  const { live, device } = fixture;
  const other = live.addTrack("audio");
  const original = live.addArrangementClip(other, SOURCE, 8, 16);
  original.props.loop_end = [4];
  live.songView.props.detail_clip = ["id", original.id];
  finish(fixture, device.riff());
  assert.deepEqual(live.arrangement(), [[8, 12, RESULT]]);
  assert.deepEqual(live.arrangement(other), [[8, 16, SOURCE]]);
});

test("Live before 12.0.5: riff says which Live it needs", () => {
  const { env, device } = setup({ version: [12, 0, 1] });
  assert.equal(device.riff(), null);
  assert.equal(env.status(), "Riff needs Live 12.0.5 or later (this is Live 12.0.1)");
});
