// See a sound: the device restyles a picture the way the clip in view sounds (/sonocanvas/stylize), over the
// region between its markers, and shows the result in the picture panel; nothing is placed on a track.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { FakeLive, FakeDisk, loadedDevice, wavBytes } = require("../helpers/fakes.js");
const { MaxPatcher } = require("../helpers/max-patcher.js");

const SAMPLE = "C:\\Users\\Léa\\Music\\Samples\\rain on a tin roof.wav";
const MADE = "/drop/20261121-133000_castle-towers_bells_s42.wav";

function setup() {
  const disk = new FakeDisk({ [SAMPLE]: wavBytes(8), [MADE]: wavBytes(2) });
  const live = new FakeLive({ disk, slots: [false, false, false] });
  const fixture = loadedDevice({ live });
  fixture.env.flush();
  return fixture;
}

function inView(fixture, file, props = { warping: [0], looping: [0], loop_start: [1.5], loop_end: [3.25] }) {
  const clip = fixture.live.addSessionClip(fixture.live.track, 0, file, props);
  fixture.live.songView.props.detail_clip = ["id", clip.id];
  return clip;
}

test("a picture dropped on the panel is kept with the set as the OS names it, and See restyles it by the clip's region", () => {
  const fixture = setup();
  const { env, device } = fixture;
  env.os = "windows";
  device.pictureDropped("C:/Users/Léa/Pictures/harbour.png");
  assert.equal(env.values.see_picture, "C:/Users/Léa/Pictures/harbour.png", "a Windows path is one already");
  inView(fixture, SAMPLE);
  const job = device.see();
  assert.deepEqual(env.osc().pop(), ["/sonocanvas/stylize", job, "C:/Users/Léa/Pictures/harbour.png", SAMPLE,
    "sound_start", 1.5, "sound_end", 3.25, "reply_port", 9011]);
  assert.equal(env.status(), "Seeing \u201crain on a tin roof\u201d: sent to 127.0.0.1:9010 (not connected yet)");
  device.receive("/sonocanvas/done", [job, 0, "", "C:\\drop\\seen.png", "C:\\drop\\seen.json"]);
  assert.deepEqual(env.shown.filter(([name]) => name === "picture").pop(), ["picture", "read", "C:/drop/seen.png"]);
  assert.equal(env.status(), "Seen: \u201crain on a tin roof\u201d as seen.png");
  env.flush();
  assert.deepEqual(fixture.live.changes(), [], "nothing is placed on a track");
});

test("on macOS a dropped picture's volume is reached under /Volumes, the startup volume's too", () => {
  const { env, device } = setup();
  device.pictureDropped("Macintosh HD:/Users/lea/Pictures/harbour.png");
  assert.equal(env.values.see_picture, "/Volumes/Macintosh HD/Users/lea/Pictures/harbour.png");
  device.pictureDropped("Samples:/Art/tiles.png");  // an exFAT drive
  assert.equal(env.values.see_picture, "/Volumes/Samples/Art/tiles.png");
});

test("a picture dropped through the patcher's own dropfile is kept with the set and there when it opens again", () => {
  const first = new MaxPatcher({ os: "windows" }).open();
  first.drop("picture_drop", "D:/Art/harbour at dusk.png");
  assert.equal(first.saved().see_picture, "D:/Art/harbour at dusk.png");
  const again = new MaxPatcher({ os: "windows", restored: first.saved() }).open();
  assert.equal(again.named.get("see_picture").value, "D:/Art/harbour at dusk.png");
  assert.deepEqual([first.posted, again.posted], [[], []], "nothing in the Max Console");
});

test("a file that is no PNG or JPEG dropped on the panel is not taken, and the status says why", () => {
  const fixture = setup();
  const { env, device } = fixture;
  env.os = "windows";
  device.pictureDropped("C:/Users/Léa/Pictures/harbour.JPG");
  device.pictureDropped("E:/Loops/rain on a tin roof.wav");  // a clip dragged in from Live's browser
  assert.equal(env.status(), "See takes a PNG or JPEG picture dropped here; rain on a tin roof.wav is not one");
  device.pictureDropped("C:/Users/Léa/Pictures/");  // a folder (dropfile ends it with a slash)
  assert.equal(env.status(), "See takes a PNG or JPEG picture dropped here; Pictures is not one");
  assert.equal(env.values.see_picture, "C:/Users/Léa/Pictures/harbour.JPG", "the last picture stays the one");
  assert.deepEqual(env.shown.filter(([name]) => name === "picture"), [["picture", "read", "C:/Users/Léa/Pictures/harbour.JPG"]]);
});

test("without a dropped picture, a sonocanvas clip restyles its own picture; another clip asks for one", () => {
  const fixture = setup();
  const { env, device } = fixture;
  inView(fixture, MADE);
  device.see();
  assert.equal(env.osc().pop()[2], "/drop/20261121-133000_castle-towers_bells_s42.picture.png");
  inView(fixture, SAMPLE);
  assert.equal(device.see(), null);
  assert.equal(env.status(), "See: drop a picture onto the picture panel first (this clip has no picture of its own)");
});

test("no clip, or a MIDI clip: the status says what to do, and nothing is sent", () => {
  const fixture = setup();
  const { env, device, live } = fixture;
  assert.equal(device.see(), null);
  assert.equal(env.status(), "See: no clip selected. Click an audio clip so that it shows in the Detail View, then press See");
  const midi = live.addSessionClip(live.track, 1, "none.mid", { is_audio_clip: [0], is_midi_clip: [1], name: ["bassline"] });
  live.songView.props.detail_clip = ["id", midi.id];
  assert.equal(device.see(), null);
  assert.equal(env.status(), "See: \u201cbassline\u201d is a MIDI clip, which has no audio to see; pick an audio clip");
  assert.ok(!env.osc().some((atoms) => atoms[0] === "/sonocanvas/stylize"));
});
