// The device's logic, driven with a fake Live set and fake outlets.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { Device, FakeLive, fakeEnv, loadedDevice } = require("../helpers/fakes.js");
const { clipName, seedOf, livePath } = require("../sonocanvas.js");

const WAV = "/drop/20261121-133000_castle-towers_bells_s42.wav";
const PNG = "/drop/20261121-133000_castle-towers_bells_s42.png";
const JSON_PATH = "/drop/20261121-133000_castle-towers_bells_s42.json";

function generated(options = {}) {
  const fixture = loadedDevice({
    ...options,
    values: { image_prompt: "castle towers", audio_prompt: "bells", seed: 42, seed_lock: 1, ...options.values },
  });
  const job = fixture.device.generate();
  return { ...fixture, job };
}

test("nothing touches the Live API before live.thisdevice says the device is loaded", () => {
  const env = fakeEnv({ values: { image_prompt: "a", audio_prompt: "b", fit_bars: 1 } });
  const device = new Device(env);
  assert.equal(device.generate(), null);
  device.receive("/sonocanvas/done", ["sc1-1", 0, WAV, PNG, JSON_PATH]);
  env.flush();
  assert.equal(env.fakeLive.opened, 0);
  assert.deepEqual(env.osc(), []);
  assert.match(env.status(), /^Still loading/);

  device.loaded();
  assert.equal(env.fakeLive.opened, 0, "the version is read in a deferred call, not at once");
  env.flush();
  assert.deepEqual(device.liveVersion, [12, 1, 5]);
});

test("loading points udpreceive at a reply port, udpsend at the server, and says hello", () => {
  const { env } = loadedDevice();
  assert.deepEqual(env.outlets[1], [["port", 9011]]);
  assert.deepEqual(env.outlets[0], [["host", "127.0.0.1"], ["port", 9010], ["/sonocanvas/hello", 9011]]);
  assert.deepEqual(env.shown.filter(([name]) => name === "light").pop(), ["light", "int", 0]);
});

test("each device instance gets its own reply port, and gives it back when deleted", () => {
  const ports = {};
  const first = loadedDevice({ ports });
  const second = loadedDevice({ ports });
  const third = loadedDevice({ ports, values: { reply_port: 9500 } });
  assert.deepEqual([first.device.replyPort, second.device.replyPort, third.device.replyPort], [9011, 9012, 9500]);
  first.device.free();
  assert.equal(first.env.heartbeat.cancelled, true, "its heartbeat stops");
  assert.equal(loadedDevice({ ports }).device.replyPort, 9011);
});

test("host and port changes reconnect to the new server", () => {
  const { env, device } = loadedDevice();
  env.values.host = "192.168.1.20";
  env.values.server_port = 9100;
  device.connect();
  assert.deepEqual(env.outlets[0].slice(-3), [["host", "192.168.1.20"], ["port", 9100], ["/sonocanvas/hello", 9011]]);
  assert.equal(device.server, "192.168.1.20:9100");
});

test("generate sends every setting, and prompts with spaces and quotes go as single strings", () => {
  const { env, job } = generated({ values: { image_prompt: 'castle "towers" at dusk', audio_prompt: "bells, low drone" } });
  assert.equal(job, "sc1-1");
  assert.deepEqual(env.osc().pop(), [
    "/sonocanvas/generate", "sc1-1",
    "image_prompt", 'castle "towers" at dusk',
    "audio_prompt", "bells, low drone",
    "seed", 42, "steps", 100, "image_guidance", 10, "audio_guidance", 10, "audio_weight", 0.5,
    "variations", 1, "audio_model", "auffusion", "reply_port", 9011,
  ]);
});

test("job ids stay unique when the device is loaded again", () => {
  const first = generated();
  const later = generated();
  later.env.clock += 3600 * 1000;
  const again = new Device(later.env);
  again.loaded();
  assert.notEqual(again.generate(), first.job);
});

test("a textedit's value given as a list of words is one prompt", () => {
  const { env } = generated({ values: { image_prompt: ["castle", "towers"], audio_prompt: "bells" } });
  const atoms = env.osc().pop();
  assert.equal(atoms[atoms.indexOf("image_prompt") + 1], "castle towers");
});

test("an unlocked seed is picked by the device and shown, so it can be locked afterwards", () => {
  const { env } = generated({ values: { seed_lock: 0 } });
  const atoms = env.osc().pop();
  assert.equal(atoms[atoms.indexOf("seed") + 1], 250000);
  assert.deepEqual(env.shown.find(([name]) => name === "seed"), ["seed", "set", 250000]);
});

test("controls out of range are clamped to what docs/osc.md allows", () => {
  const { env } = generated({ values: { steps: 900.4, guidance: 71, audio_weight: -1, variations: 0, audio_model: 1 } });
  const atoms = env.osc().pop();
  const value = (key) => atoms[atoms.indexOf(key) + 1];
  assert.deepEqual([value("steps"), value("image_guidance"), value("audio_weight"), value("variations"), value("audio_model")],
    [500, 50, 0, 1, "riffusion"]);
});

test("fit to bars sends the Live set's tempo and the bar count", () => {
  const { env } = generated({ live: new FakeLive({ tempo: 126.5 }), values: { fit_bars: 1, bars: 8 } });
  const atoms = env.osc().pop();
  assert.deepEqual(atoms.slice(atoms.indexOf("bpm"), atoms.indexOf("bpm") + 4), ["bpm", 126.5, "bars", 8]);
});

test("without fit to bars no tempo is sent", () => {
  const { env } = generated();
  assert.equal(env.osc().pop().indexOf("bpm"), -1);
});

test("a preset may stand in for the prompts; the effect chain goes by name", () => {
  const { env, device } = loadedDevice();
  device.receive("/sonocanvas/preset/names", ["castle bells", "ocean choir"]);
  device.receive("/sonocanvas/fx/names", ["warm tape", "wide hall"]);
  assert.deepEqual(env.shown.filter(([, selector]) => selector === "_parameter_range"), [
    ["preset", "_parameter_range", "(none)", "castle bells", "ocean choir"],
    ["fx", "_parameter_range", "(none)", "warm tape", "wide hall"],
  ]);
  env.values.preset = 2;
  env.values.fx = 1;
  device.generate();
  const atoms = env.osc().pop();
  assert.deepEqual(atoms.slice(0, 4), ["/sonocanvas/generate", "sc1-1", "preset", "ocean choir"]);
  assert.equal(atoms.indexOf("image_prompt"), -1);
  assert.deepEqual(atoms.slice(atoms.indexOf("fx"), atoms.indexOf("fx") + 2), ["fx", "warm tape"]);
});

test("a missing prompt is named and nothing is sent", () => {
  const { env, device } = loadedDevice({ values: { image_prompt: "castle", audio_prompt: "  " } });
  assert.equal(device.generate(), null);
  assert.equal(env.status(), "audio prompt: type what the sound is, or pick a preset");
  env.values.image_prompt = "";
  device.generate();
  assert.equal(env.status(), "image prompt: type what the picture shows, or pick a preset");
  assert.deepEqual(env.osc().map((atoms) => atoms[0]), ["/sonocanvas/hello"]);
});

test("picking a preset asks for it, and its values fill the controls", () => {
  const { env, device } = loadedDevice();
  device.receive("/sonocanvas/preset/names", ["castle bells"]);
  device.receive("/sonocanvas/fx/names", ["warm tape"]);
  env.values.preset = 1;
  device.presetChosen();
  assert.deepEqual(env.osc().pop(), ["/sonocanvas/preset/get", "castle bells"]);
  device.receive("/sonocanvas/preset", ["castle bells", "image_prompt", "castle towers", "audio_prompt", "church bells",
    "steps", 30, "image_guidance", 7.5, "seed", 7, "audio_model", "riffusion", "fx", "warm tape", "scheduler", "dpm++"]);
  assert.deepEqual(
    { image: env.values.image_prompt, audio: env.values.audio_prompt, steps: env.values.steps, guidance: env.values.guidance,
      seed: env.values.seed, lock: env.values.seed_lock, model: env.values.audio_model, fx: env.values.fx },
    { image: "castle towers", audio: "church bells", steps: 30, guidance: 7.5, seed: 7, lock: 1, model: 1, fx: 1 });
  device.generate();
  const atoms = env.osc().pop();
  assert.deepEqual(atoms.slice(2, 8), ["preset", "castle bells", "image_prompt", "castle towers", "audio_prompt", "church bells"]);
  assert.equal(atoms[atoms.indexOf("seed") + 1], 7);
});

test("queue position and progress show in the status line and the bar", () => {
  const { env, device } = generated();
  device.receive("/sonocanvas/queued", ["sc1-1", 3]);
  assert.equal(env.status(), "Queued: 2 job(s) ahead");
  device.receive("/sonocanvas/progress", ["sc1-1", 25, 100]);
  assert.deepEqual(env.shown.filter(([name]) => name === "progress").pop(), ["progress", "set", 0.25]);
  assert.equal(env.status(), "Generating: step 25 of 100");
  device.receive("/sonocanvas/progress", ["someone-else", 99, 100]);
  assert.equal(env.status(), "Generating: step 25 of 100", "another job's progress is not ours");
});

test("an error names the field, resets the bar and forgets the job", () => {
  const { env, device } = generated();
  device.receive("/sonocanvas/error", ["sc1-1", "steps", "steps: 900 is out of range 1 … 500"]);
  assert.equal(env.status(), "Error: steps: steps: 900 is out of range 1 … 500");
  assert.deepEqual(env.shown.filter(([name]) => name === "progress").pop(), ["progress", "set", 0]);
  device.receive("/sonocanvas/progress", ["sc1-1", 5, 100]);
  assert.match(env.status(), /^Error/);
  device.receive("/sonocanvas/error", ["", "address", "unknown address /sonocanvas/x"]);
  assert.equal(env.status(), "Error: address: unknown address /sonocanvas/x");
});

test("cancel asks the server to cancel this device's running jobs", () => {
  const { env, device } = generated();
  device.cancel();
  assert.deepEqual(env.osc().pop(), ["/sonocanvas/cancel", "sc1-1"]);
  device.receive("/sonocanvas/cancelled", ["sc1-1"]);
  assert.equal(env.status(), "Cancelled");
  device.cancel();
  assert.equal(env.status(), "Nothing to cancel");
  assert.deepEqual(env.osc().pop(), ["/sonocanvas/cancel", "sc1-1"], "no second cancel was sent");
});

test("a finished clip goes into the first empty clip slot, named after its prompts and seed, later", () => {
  const live = new FakeLive({ slots: [true, false, false] });
  const { env, device } = generated({ live });
  device.receive("/sonocanvas/done", ["sc1-1", 0, WAV, PNG, JSON_PATH]);
  assert.deepEqual(env.shown.find(([name]) => name === "picture"), ["picture", "read", PNG]);
  assert.equal(live.opened, 0, "Live API calls wait for the deferred task");
  env.flush();
  const [, second] = live.slotIds();
  const create = live.changes().find((call) => call.method === "create_audio_clip");
  assert.deepEqual(create, { id: second, method: "create_audio_clip", args: [WAV] });
  const clipId = live.objects.get(second).props.clip[1];
  assert.deepEqual(live.clip(clipId).name, ["castle towers / bells s42"]);
  assert.equal(env.status(), "Placed \u201ccastle towers / bells s42\u201d in scene 2");
  assert.deepEqual(device.jobs, {});
});

test("with no free clip slot a scene is created for the clip", () => {
  const live = new FakeLive({ slots: [true, true] });
  const { env, device } = generated({ live });
  device.receive("/sonocanvas/done", ["sc1-1", 0, WAV, PNG, JSON_PATH]);
  env.flush();
  assert.deepEqual(live.changes().filter((call) => call.method !== "set").map((call) => [call.method, call.args]),
    [["create_scene", [-1]], ["create_audio_clip", [WAV]]]);
  const slots = live.slotIds();
  assert.equal(slots.length, 3);
  assert.equal(live.changes()[1].id, slots[2]);
  assert.equal(env.status(), "Placed \u201ccastle towers / bells s42\u201d in scene 3");
});

test("in the Arrangement the clip goes onto the track at the insert marker", () => {
  const live = new FakeLive({ view: "Arranger", songTime: 16 });
  const { env, device } = generated({ live });
  device.receive("/sonocanvas/done", ["sc1-1", 0, WAV, PNG, JSON_PATH]);
  env.flush();
  assert.deepEqual(live.changes()[0], { id: live.track.id, method: "create_audio_clip", args: [WAV, 16] });
  const clipId = live.track.props.arrangement_clips[1];
  assert.deepEqual(live.clip(clipId).name, ["castle towers / bells s42"]);
  assert.equal(env.status(), "Placed \u201ccastle towers / bells s42\u201d in the Arrangement at beat 16");
});

test("on a Mac Live is given the clip's path as /Volumes/<drive name>/...", () => {
  const live = new FakeLive({ view: "Arranger" });
  const { env, device } = generated({ live, volume: "Macintosh HD" });
  device.receive("/sonocanvas/done", ["sc1-1", 0, WAV, PNG, JSON_PATH]);
  env.flush();
  assert.deepEqual(live.changes()[0].args, ["/Volumes/Macintosh HD" + WAV, 0]);
  assert.deepEqual(live.clip(live.track.props.arrangement_clips[1]).name, ["castle towers / bells s42"]);
  assert.equal(livePath("/Volumes/Data/x.wav", "Macintosh HD"), "/Volumes/Data/x.wav");
  assert.equal(livePath("C:\\Music\\x.wav", ""), "C:\\Music\\x.wav");
});

for (const version of [[12, 0, 1], [11, 3, 25]]) {
  test(`Live ${version.join(".")} cannot place clips: the device says so and shows the path`, () => {
    const live = new FakeLive({ version });
    const { env, device } = generated({ live });
    device.receive("/sonocanvas/done", ["sc1-1", 0, WAV, PNG, JSON_PATH]);
    env.flush();
    assert.deepEqual(live.changes(), []);
    assert.equal(env.status(), `Live ${version.join(".")} cannot place clips (Live 12.0.5 or later can): drag in ${WAV}`);
  });
}

test("on a MIDI track the device says where the clip is instead", () => {
  const live = new FakeLive({ midi: true });
  const { env, device } = generated({ live });
  device.receive("/sonocanvas/done", ["sc1-1", 0, WAV, PNG, JSON_PATH]);
  env.flush();
  assert.deepEqual(live.changes(), []);
  assert.equal(env.status(), `This is a MIDI track; put the device on an audio track. The clip is at ${WAV}`);
});

test("a Live API failure is reported with the file's path", () => {
  const live = new FakeLive();
  const { env, device } = generated({ live });
  live.track.props.clip_slots = ["id", 999];
  device.receive("/sonocanvas/done", ["sc1-1", 0, WAV, PNG, JSON_PATH]);
  env.flush();
  assert.equal(env.status(), `Could not place the clip (no Live object at id 999): drag in ${WAV}`);
});

test("variations each become a clip, named with their own seed", () => {
  const live = new FakeLive({ slots: [false, false] });
  const { env, device } = generated({ live, values: { variations: 2 } });
  device.receive("/sonocanvas/done", ["sc1-1", 0, WAV.replace("s42", "s42_v0"), PNG, JSON_PATH]);
  assert.ok(device.jobs["sc1-1"], "the job waits for its second variation");
  device.receive("/sonocanvas/done", ["sc1-1", 1, WAV.replace("s42", "s43_v1"), PNG, JSON_PATH]);
  assert.deepEqual(device.jobs, {});
  env.flush();
  const names = live.slotIds().map((id) => live.clip(live.objects.get(id).props.clip[1]).name[0]);
  assert.deepEqual(names, ["castle towers / bells s42 v1", "castle towers / bells s43 v2"]);
});

test("audition plays the latest clip; stop stops it", () => {
  const { env, device } = generated();
  device.audition();
  assert.equal(env.status(), "Audition: no clip yet; generate one first");
  device.receive("/sonocanvas/done", ["sc1-1", 0, WAV, PNG, JSON_PATH]);
  device.audition();
  assert.deepEqual(env.osc().pop(), ["/sonocanvas/audition", WAV]);
  device.receive("/sonocanvas/playing", [WAV]);
  assert.equal(env.status(), "Playing 20261121-133000_castle-towers_bells_s42.wav");
  device.stop();
  assert.deepEqual(env.osc().pop(), ["/sonocanvas/stop"]);
  device.receive("/sonocanvas/stopped", []);
  assert.equal(env.status(), "Audition stopped");
});

test("the connection light follows the server: on with its replies, off when it falls silent", () => {
  const { env, device } = loadedDevice();
  device.receive("/sonocanvas/ready", ["0.1.0", "cpu", "tiny-random (random weights, plumbing only)"]);
  assert.deepEqual(env.shown.filter(([name]) => name === "light").pop(), ["light", "int", 1]);
  assert.equal(env.status(), "Connected: sonocanvas 0.1.0 on cpu (tiny-random (random weights, plumbing only))");
  assert.deepEqual(env.osc().slice(-2), [["/sonocanvas/preset/list"], ["/sonocanvas/fx/list"]]);
  env.clock += 2000;
  device.tick();
  assert.deepEqual(env.osc().pop(), ["/sonocanvas/status"]);
  env.clock += 6000;
  device.tick();
  assert.deepEqual(env.shown.filter(([name]) => name === "light").pop(), ["light", "int", 0]);
  assert.match(env.status(), /^No answer from 127\.0\.0\.1:9010/);
  assert.deepEqual(env.osc().pop(), ["/sonocanvas/hello", 9011], "a silent server is greeted again");
});

test("the seed in the clip name is the one the server used, read from the file name", () => {
  assert.equal(seedOf("/d/20261121-133000_a_b_s1234_v2-3.wav"), 1234);
  assert.equal(seedOf("/d/odd name.wav"), null);
  const job = { imagePrompt: "x".repeat(60), audioPrompt: "", preset: "p", seed: 5, variations: 1 };
  assert.equal(clipName(job, 0, "/d/odd.wav"), "x".repeat(39) + "\u2026 s5");
});
