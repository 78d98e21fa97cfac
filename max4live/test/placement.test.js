// Where a finished clip goes in the Live set, on every kind of track, against a fake Live that
// behaves as the Live Object Model documents (helpers/fakes.js).
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { FakeLive, FakeDisk, loadedDevice, wavBytes } = require("../helpers/fakes.js");

const WAV = "/drop/20261121-133000_castle-towers_bells_s42.wav";
const PNG = "/drop/20261121-133000_castle-towers_bells_s42.png";
const JSON_PATH = "/drop/20261121-133000_castle-towers_bells_s42.json";
const NAME = "castle towers / bells s42";

// A set whose computer holds the clip (2 s: 4 beats at 120 BPM) and its variations.
function liveWith(options = {}, files = { [WAV]: 2 }) {
  const disk = new FakeDisk();
  for (const [file, seconds] of Object.entries(files)) disk.add(file, wavBytes(seconds));
  return new FakeLive({ disk, ...options });
}

// A device that generated one job, got `done` for each file, and ran its deferred Live calls.
function finished(live, { files = [WAV], values = {} } = {}) {
  const fixture = loadedDevice({ live, values: { image_prompt: "castle towers", audio_prompt: "bells", seed: 42, seed_lock: 1,
    variations: files.length, ...values } });
  const job = fixture.device.generate();
  files.forEach((file, index) => fixture.device.receive("/sonocanvas/done", [job, index, file, PNG, JSON_PATH]));
  assert.equal(live.opened, 0, "Live API calls wait for the deferred task");
  fixture.env.flush();
  return fixture;
}

test("Session: the clip goes into the first empty clip slot, and is named after its prompts and seed", () => {
  const live = liveWith({ slots: [true, false, false] });
  const { env } = finished(live);
  const [, second] = live.slotIds();
  assert.deepEqual(live.changes().find((call) => call.method === "create_audio_clip"), { id: second, method: "create_audio_clip", args: [WAV] });
  assert.deepEqual(live.clip(live.objects.get(second).props.clip[1]).name, [NAME]);
  assert.equal(env.status(), `Placed \u201c${NAME}\u201d in scene 2`);
  assert.deepEqual(live.errors, [], "every Live API call the device made is one Live has");
});

test("Session: a new scene only when the track has slots and every one is full", () => {
  const live = liveWith({ slots: [true, true] });
  const { env } = finished(live);
  assert.deepEqual(live.changes().filter((call) => call.method !== "set").map((call) => [call.method, call.args]),
    [["create_scene", [-1]], ["create_audio_clip", [WAV]]]);
  const slots = live.slotIds();
  assert.equal(slots.length, 3);
  assert.equal(live.changes()[1].id, slots[2]);
  assert.equal(env.status(), `Placed \u201c${NAME}\u201d in scene 3`);
});

test("Session: a track with no clip slots gets no new scene, and nothing changes", () => {
  const live = liveWith({ slots: [] });
  const before = live.snapshot();
  const { env } = finished(live);
  assert.equal(live.snapshot(), before);
  assert.equal(env.status(), `Not placed: this track has no clip slots. The clip is at ${WAV}`);
});

test("Session: variations fill the empty slots one after another, each named with its own seed", () => {
  const v0 = WAV.replace("s42", "s42_v0");
  const v1 = WAV.replace("s42", "s43_v1");
  const live = liveWith({ slots: [false, true, false] }, { [v0]: 2, [v1]: 2 });
  const { device } = finished(live, { files: [v0, v1] });
  assert.deepEqual(device.jobs, {});
  const names = live.slotIds().map((id) => live.clip(live.objects.get(id).props.clip[1]).name[0]);
  assert.deepEqual(names, [`${NAME} v1`, "old", "castle towers / bells s43 v2"]);
});

test("Session: \"Placed\" only once Live has made the clip; a file Live cannot load changes nothing", () => {
  const live = liveWith({ slots: [false] }, {});
  const before = live.snapshot();
  const { env } = finished(live);
  assert.equal(live.errors.length, 1, live.errors.join("; "));
  assert.match(live.errors[0], /invalid file/);
  assert.equal(live.snapshot(), before);
  assert.equal(env.status(), `Not placed: Live could not load the clip (see the Max window). The clip is at ${WAV}`);
});

const REFUSED = {
  midi: "this is a MIDI track; put the device on an audio track",
  return: "this is a return track, which holds no clips; put the device on an audio track",
  main: "this is the main track, which holds no clips; put the device on an audio track",
  group: "this is a group track, whose slots only launch the tracks inside it; put the device on an audio track",
  frozen: "this track is frozen; unfreeze it (or use another audio track) and drag the clip in",
  chain: "the device is inside a rack, and clips go on tracks; put it directly on an audio track",
};

for (const [kind, why] of Object.entries(REFUSED)) {
  for (const view of ["Session", "Arranger"]) {
    test(`${view}: on a ${kind} track nothing in the set changes, and the status says why and where the clip is`, () => {
      const live = liveWith(kind === "frozen" ? { frozen: true, view, slots: [true, true] } : { kind, view, slots: [true, true] });
      const before = live.snapshot();
      const { env } = finished(live);
      assert.equal(live.snapshot(), before, "no scene, no clip, no name");
      assert.deepEqual(live.changes(), []);
      assert.deepEqual(live.errors, [], "and no call that Live would refuse");
      assert.equal(env.status(), `Not placed: ${why}. The clip is at ${WAV}`);
    });
  }
}

test("the fake Live itself: a group track's slots are group slots, return and main tracks have none", () => {
  const group = liveWith({ kind: "group", slots: [false, false] });
  const slots = group.slotIds();
  assert.equal(slots.length, 2);
  for (const id of slots) assert.deepEqual(group.api(`id ${id}`).get("is_group_slot"), [1]);
  group.api(`id ${slots[0]}`).call("create_audio_clip", WAV);
  assert.deepEqual(group.api(`id ${slots[0]}`).get("has_clip"), [0], "a group slot takes no clip");
  for (const kind of ["return", "main"]) assert.deepEqual(liveWith({ kind, slots: [false] }).api("this_device canonical_parent").get("clip_slots"), []);
  const gone = group.api("live_set tracks 7");
  assert.equal(gone.id, "0", "a path with nothing behind it has id 0");
  assert.equal(gone.call("create_audio_clip", WAV, 0), undefined, "and its calls do nothing");
  assert.deepEqual(gone.get("clip_slots"), []);
  assert.match(group.errors.pop(), /no valid object/);
  assert.deepEqual(group.api("live_set").get("tracks"), ["id", group.track.id], "children come back as id N id M");
});

test("Arrangement: the clip goes to the first gap at or after the insert marker that fits it", () => {
  const live = liveWith({ view: "Arranger", songTime: 26, insertMarker: 4, arrangement: [[0, 8], [10, 12], [20, 30]] });
  const { env } = finished(live);
  const copy = live.changes().find((call) => call.method === "duplicate_clip_to_arrangement");
  assert.deepEqual([copy.id, copy.args[1]], [live.track.id, 12], "8..10 is too short for 4 beats; 12..20 fits");
  assert.deepEqual(live.arrangement(), [[0, 8, "old.wav"], [10, 12, "old.wav"], [12, 16, WAV], [20, 30, "old.wav"]],
    "nothing was replaced");
  const clip = live.track.props.arrangement_clips.filter((x) => x !== "id").map((id) => live.clip(id)).find((c) => c.file_path[0] === WAV);
  assert.deepEqual(clip.name, [NAME]);
  assert.equal(env.status(), `Placed \u201c${NAME}\u201d in the Arrangement at beat 12`);
});

test("Arrangement: variations are laid one after another, never over each other or anything else", () => {
  const files = [0, 1, 2].map((i) => WAV.replace("s42", `s${42 + i}_v${i}`));
  const live = liveWith({ view: "Arranger", songTime: 16, arrangement: [[22, 24]] }, Object.fromEntries(files.map((f) => [f, 2])));
  finished(live, { files });
  assert.deepEqual(live.arrangement().map(([start, end]) => [start, end]), [[16, 20], [22, 24], [24, 28], [28, 32]]);
});

test("Arrangement: the fake replaces what a clip covers, as Live does, so the tests above can fail", () => {
  const live = liveWith({ arrangement: [[0, 3], [5, 6], [7, 20]], guessBpm: 120 });
  live.track.methods.create_audio_clip(WAV, 2);
  assert.deepEqual(live.arrangement(), [[0, 2, "old.wav"], [2, 6, WAV], [7, 20, "old.wav"]]);
  const [, session] = live.slotIds();
  live.api(`id ${session}`).call("create_audio_clip", WAV);
  live.track.methods.duplicate_clip_to_arrangement(`id ${live.objects.get(session).props.clip[1]}`, 6);
  assert.deepEqual(live.arrangement().map(([s, e]) => [s, e]), [[0, 2], [2, 6], [6, 10], [10, 20]], "a copy replaces alike");
});

test("Arrangement: a clip Live warped at a tempo of its own is unwarped first, so it lasts its own length and covers nothing", () => {
  // At Live's guessed 240 BPM the 2 s file would last 8 beats, over the clip at beat 6.
  const live = liveWith({ view: "Arranger", songTime: 0, arrangement: [[6, 8]], guessBpm: 240 });
  const { env } = finished(live);
  assert.deepEqual(live.arrangement(), [[0, 4, WAV], [6, 8, "old.wav"]]);
  assert.equal(env.status(), `Placed \u201c${NAME}\u201d in the Arrangement at beat 0`);
});

test("Arrangement: the clip lasts what Live says of it, the file's own length at the song's tempo", () => {
  // 2 s at 90 BPM: 3 beats, which fit in 8..11.
  const live = liveWith({ view: "Arranger", tempo: 90, songTime: 8, arrangement: [[0, 8], [11, 12]] });
  finished(live);
  assert.deepEqual(live.arrangement().map(([s, e]) => [s, e]), [[0, 8], [8, 11], [11, 12]]);
});

test("Arrangement: with every Session slot full, the clip is set up in a new scene, deleted again after", () => {
  const live = liveWith({ view: "Arranger", slots: [true, true] });
  const { env } = finished(live);
  assert.equal(live.song.props.scenes.length / 2, 2, "two scenes, as before");
  assert.deepEqual(live.slotIds().map((id) => live.clip(live.objects.get(id).props.clip[1]).name[0]), ["old", "old"]);
  assert.deepEqual(live.arrangement(), [[0, 4, WAV]]);
  assert.deepEqual(live.changes().filter((c) => /scene/.test(c.method)).map((c) => [c.method, c.args]),
    [["create_scene", [-1]], ["delete_scene", [2]]]);
  assert.match(env.status(), /^Placed .* in the Arrangement at beat 0$/);
  assert.deepEqual(live.errors, []);
});

for (const [what, file] of [
  ["a Windows path (drive letter, backslashes)", "C:\\Users\\Léa\\Music\\sonocanvas\\20261121-133000_a_b_s42.wav"],
  ["a path with spaces", "/Users/lea/Music/My Drop Folder/20261121-133000_a_b_s42.wav"],
  ["a non-ASCII path", "/Users/lea/Musique/été – 夏/20261121-133000_a_b_s42.wav"],
  ["a macOS path on an external drive", "/Volumes/Samples ∆/drop/20261121-133000_a_b_s42.wav"],
]) {
  for (const view of ["Session", "Arranger"]) {
    test(`${view}: ${what} reaches Live exactly as the server sent it`, () => {
      const live = liveWith({ view, slots: [false] }, { [file]: 2 });
      const { env } = finished(live, { files: [file] });
      const create = live.changes().find((call) => call.method === "create_audio_clip");
      assert.equal(create.args[0], file);
      assert.match(env.status(), /^Placed /);
      assert.deepEqual(live.errors, []);
    });
  }
}

test("Live 12.0.5 places in Session slots but not in the Arrangement: it says so and changes nothing", () => {
  const live = liveWith({ version: [12, 0, 5], view: "Arranger", arrangement: [[0, 8]] });
  const before = live.snapshot();
  const { env } = finished(live);
  assert.equal(live.snapshot(), before);
  assert.deepEqual(live.changes(), []);
  assert.equal(env.status(), `Live 12.0.5 cannot place clips in the Arrangement (Live 12.1 or later can): drag in ${WAV}`);
});

for (const version of [[12, 0, 1], [11, 3, 25]]) {
  test(`Live ${version.join(".")} cannot place clips: the device says so and shows the path`, () => {
    const live = liveWith({ version });
    const { env } = finished(live);
    assert.deepEqual(live.changes(), []);
    assert.equal(env.status(), `Live ${version.join(".")} cannot place clips (Live 12.0.5 or later can): drag in ${WAV}`);
  });
}
