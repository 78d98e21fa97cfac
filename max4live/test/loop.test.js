// Loop: the device asks for a seamless loop of so many bars at the set's tempo, and places the clip warped,
// looping, its loop region exactly those bars, against a fake Live that behaves as the LOM documents.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { FakeLive, FakeDisk, loadedDevice, wavBytes, secondsAt } = require("../helpers/fakes.js");

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

function placedObject(live, file = WAV) {
  return [...live.objects.values()].find((o) => o.type === "Clip" && o.props.file_path && o.props.file_path[0] === file);
}

function placedClip(live, file = WAV) {
  return placedObject(live, file).props;
}

// Seconds of the placed clip's file at `beat`, through its warp markers (as Live plays it).
const fileAt = (live, beat) => secondsAt(placedObject(live).warp, beat);

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

test("the fake Live: a new clip is warped at Live's guess; unwarped it is seconds and cannot loop; warp markers as the LOM limits them", () => {
  const live = liveWith({ slots: [false], guessBpm: 100 });
  const slot = live.api(`id ${live.slotIds()[0]}`);
  slot.call("create_audio_clip", WAV);
  const clip = live.api(`id ${slot.get("clip")[1]}`);
  assert.deepEqual([clip.get("warping"), clip.get("looping")], [[1], [0]], "create_audio_clip gives warping 1");
  assert.equal(clip.get("end_marker")[0], 4 * 100 / 60, "the 4 s file in beats at the guessed 100 BPM");
  assert.deepEqual([clip.get("sample_length"), clip.get("sample_rate")], [[4 * 44100], [44100]]);
  clip.set("warping", 0);
  assert.deepEqual([clip.get("loop_end"), clip.get("end_marker")], [[4], [4]], "unwarped: seconds of the file");
  clip.set("looping", 1);
  assert.deepEqual(clip.get("looping"), [0]);
  assert.match(live.errors.pop(), /unwarped audio cannot be looped/);
  clip.set("warping", 1);
  assert.equal(clip.get("end_marker")[0], 4 * 100 / 60, "warped again, at the same markers");
  clip.call("add_warp_marker", { beat_time: 8, sample_time: 5 });
  assert.match(live.errors.pop(), /outside the sample/, "[0, s]");
  clip.call("add_warp_marker", { beat_time: 8, sample_time: 0.01 });
  assert.match(live.errors.pop(), /5 \.\.\. 999 BPM/);
  clip.call("add_warp_marker", { beat_time: 8, sample_time: 4 });
  const markers = JSON.parse(clip.get("warp_markers")[0]).warp_markers;
  assert.deepEqual(markers.slice(0, 2), [{ beat_time: 0, sample_time: 0 }, { beat_time: 8, sample_time: 4 }]);
  assert.equal(markers.length, 3, "and the hidden marker after the last");
  assert.equal(secondsAt(markers.map((m) => [m.beat_time, m.sample_time]), 8.5), 4.25, "the last segment's tempo goes on");
  clip.set("start_marker", 2);
  clip.set("end_marker", 1);
  assert.match(live.errors.pop(), /before the start marker/);
  assert.deepEqual(live.errors, []);
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

test("Session: without Loop an ordinary clip is set unwarped, so it plays at its own speed; only that and its name are set", () => {
  const live = liveWith({ slots: [false] });
  finish(device(live, { loop: 0 }));
  const clip = placedClip(live);
  assert.deepEqual([clip.warping[0], clip.looping[0], clip.end_marker[0]], [0, 0, 4], "the whole 4 s file");
  assert.deepEqual(live.changes().map((c) => (c.method === "set" ? c.args[0] : c.method)), ["create_audio_clip", "warping", "name"],
    "three undo steps: the clip, Warp off, its name");
});

test("Arrangement: the gap for a looped clip is its bars x 4 beats, and nothing is replaced", () => {
  const live = liveWith({ view: "Arranger", songTime: 2, arrangement: [[0, 2], [10, 12], [13, 14]] });
  const fixture = device(live);
  finish(fixture);
  assert.deepEqual(live.arrangement(), [[0, 2, "old.wav"], [2, 10, WAV], [10, 12, "old.wav"], [13, 14, "old.wav"]], "2..10 holds 8 beats");
  const clip = placedClip(live);
  assert.deepEqual([clip.warping[0], clip.looping[0], clip.loop_start[0], clip.loop_end[0], clip.end_marker[0]], [1, 1, 0, 8, 8]);
  assert.equal(fixture.env.status(), `Placed \u201c${NAME}\u201d in the Arrangement at beat 2, looping over 2 bar(s)`);
});

test("Arrangement: a looped clip is exactly its bars long, though Live fixes an Arrangement clip's length when it makes it", () => {
  // Live would make the 4 s file 4 * 75 / 60 = 5 beats long at its guessed 75 BPM, and keep that length (fakes.js,
  // trackAudioClip): so the device sets the loop up in a Session slot and duplicates it to the Arrangement.
  const other = "/drop/other.wav";
  const live = liveWith({ view: "Arranger", songTime: 0, slots: [true, false], guessBpm: 75 }, { [WAV]: 4, [other]: 4 });
  const direct = live.track.methods.create_audio_clip(other, 100);
  const made = live.api(direct.join(" "));
  made.set("looping", 1);
  made.set("loop_end", 8);
  assert.deepEqual([made.get("start_time"), made.get("end_time")], [[100], [105]], "the fake Live: set after, the length stays");
  const scenes = live.song.props.scenes.length;
  const fixture = device(live);
  finish(fixture);
  assert.deepEqual(live.arrangement(), [[0, 8, WAV], [100, 105, other]], "8 beats: 2 bars");
  assert.equal(fileAt(live, 8), 4, "the file's end on the bars' last beat: the song's tempo");
  assert.deepEqual(live.slotIds().map((id) => live.objects.get(id).props.has_clip[0]), [1, 0], "the Session slot it was set up in is empty again");
  assert.equal(live.song.props.scenes.length, scenes, "and no scene was added");
  const calls = live.changes().map((c) => (c.method === "set" ? c.args[0] : c.method));
  assert.deepEqual(calls.slice(-2), ["duplicate_clip_to_arrangement", "delete_clip"]);
});

test("Arrangement: a gap shorter than the bars is skipped", () => {
  const live = liveWith({ view: "Arranger", songTime: 0, arrangement: [[0, 2], [8, 12]] });
  finish(device(live));
  assert.deepEqual(live.arrangement().map(([s, e]) => [s, e]), [[0, 2], [8, 12], [12, 20]], "2..8 is 6 beats, the loop is 8");
});

for (const guessBpm of [240, 100, 120]) {
  test(`a loop Live warped at ${guessBpm} BPM plays its whole file over exactly its bars: only what differs is set`, () => {
    const live = liveWith({ slots: [false], guessBpm });
    const fixture = device(live);
    finish(fixture);
    const clip = placedClip(live);
    assert.deepEqual([clip.warping[0], clip.looping[0], clip.loop_start[0], clip.loop_end[0], clip.start_marker[0], clip.end_marker[0]],
      [1, 1, 0, 8, 0, 8]);
    assert.equal(fileAt(live, 8), 4, "the 4 s file's end on beat 8");
    assert.equal(fileAt(live, 4), 2, "and its middle on beat 4: one segment at 120 BPM");
    const calls = live.changes().map((c) => (c.method === "set" ? c.args[0] : c.method));
    const marker = guessBpm === 120 ? [] : ["add_warp_marker"];
    const ends = guessBpm * 4 / 60 === 8 ? [] : ["loop_end", "end_marker"];
    assert.deepEqual(calls, ["create_audio_clip", ...marker, "looping", ...ends, "name"], "warping was already 1, the starts 0");
    assert.deepEqual(live.errors, []);
    assert.equal(fixture.env.status(), `Placed \u201c${NAME}\u201d in scene 1, looping over 2 bar(s)`);
  });
}

test("fit to bars without Loop: warped at the song's tempo, its markers the bars, not looped", () => {
  const live = liveWith({ slots: [false], guessBpm: 90 });
  const fixture = device(live, { loop: 0, fit_bars: 1, bars: 2 });
  finish(fixture);
  const clip = placedClip(live);
  assert.deepEqual([clip.warping[0], clip.looping[0], clip.start_marker[0], clip.end_marker[0]], [1, 0, 0, 8]);
  assert.equal(fileAt(live, 8), 4);
  assert.equal(fixture.env.status(), `Placed \u201c${NAME}\u201d in scene 1`);
});

test("Live refusing the warp marker is said: the bars would play another part of the file", () => {
  const live = liveWith({ slots: [false], guessBpm: 100 });
  const fixture = device(live);
  const fileClip = live.fileClip.bind(live);
  live.fileClip = (...args) => {
    const clip = fileClip(...args);
    if (clip) clip.methods.add_warp_marker = () => live.error("add_warp_marker: refused");
    return clip;
  };
  finish(fixture);
  assert.equal(fixture.env.status(), `Placed \u201c${NAME}\u201d in scene 1, but Live kept a tempo of its own, so its 2 bar(s) ` +
    "do not play its whole file: set its Seg. BPM to 120");
});

test("variations of a loop are each looped, and laid one after another in the Arrangement", () => {
  const files = [0, 1].map((i) => WAV.replace("s42", `s${42 + i}_v${i}`));
  const live = liveWith({ view: "Arranger", songTime: 0 }, Object.fromEntries(files.map((f) => [f, 4])));
  finish(device(live, { variations: 2 }), files);
  assert.deepEqual(live.arrangement().map(([s, e]) => [s, e]), [[0, 8], [8, 16]]);
  for (const file of files) assert.deepEqual([placedClip(live, file).looping[0], placedClip(live, file).loop_end[0]], [1, 8]);
});
