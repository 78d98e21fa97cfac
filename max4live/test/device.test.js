// The device's logic, driven with a fake Live set and fake outlets.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { Device, FakeLive, FakeDisk, fakeEnv, loadedDevice, wavBytes } = require("../helpers/fakes.js");
const { clipName, seedOf, firstGap } = require("../sonocanvas.js");

const WAV = "/drop/20261121-133000_castle-towers_bells_s42.wav";
const PNG = "/drop/20261121-133000_castle-towers_bells_s42.png";
const JSON_PATH = "/drop/20261121-133000_castle-towers_bells_s42.json";

function generated(options = {}) {
  const fixture = loadedDevice({
    live: new FakeLive({ disk: new FakeDisk({ [WAV]: wavBytes(2) }) }),
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
  assert.deepEqual(env.listening, [9011]);
  assert.deepEqual(env.outlets[0], [["host", "127.0.0.1"], ["port", 9010], ["/sonocanvas/hello", 9011]]);
  assert.deepEqual(env.shown.filter(([name]) => name === "light").pop(), ["light", "int", 0]);
});

test("each device instance gets its own reply port, and gives it back when deleted", () => {
  const ports = {};
  const first = loadedDevice({ ports });
  const second = loadedDevice({ ports });
  const third = loadedDevice({ ports, values: { reply_port: 9500 } });
  assert.deepEqual([first.device.replyPort, second.device.replyPort, third.device.replyPort], [9011, 9012, 9500]);
  const fourth = loadedDevice({ ports, values: { reply_port: 9012 } });
  assert.equal(fourth.device.replyPort, 9013, "a port another device holds is never bound again, even when asked for");
  assert.deepEqual(fourth.env.listening, [9013]);
  assert.equal(loadedDevice({ ports: {}, values: { reply_port: 9010 } }).device.replyPort, 9011, "nor the server's own port");
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

test("an unlocked seed is picked by the device and shown without touching a parameter; lock keeps it", () => {
  const { env, device } = generated({ values: { seed_lock: 0, seed: 5 } });
  const atoms = env.osc().pop();
  assert.equal(atoms[atoms.indexOf("seed") + 1], 250000);
  assert.deepEqual(env.shown.filter(([name]) => name === "seed"), [], "the seed parameter is not written: no undo step");
  assert.deepEqual(env.shown.find(([name]) => name === "last_seed"), ["last_seed", "set", "seed 250000"]);
  device.lock();
  assert.deepEqual(env.shown.filter(([name]) => name === "seed"), [], "lock still off: nothing kept");
  env.values.seed_lock = 1;
  device.lock();
  assert.deepEqual(env.shown.filter(([name]) => name === "seed"), [["seed", "set", 250000]]);
  device.generate();
  const again = env.osc().pop();
  assert.equal(again[again.indexOf("seed") + 1], 250000, "the kept seed is sent");
});

test("controls are clamped to the bounds the server gives in /sonocanvas/limits", () => {
  const { env, device } = loadedDevice({ values: { image_prompt: "a", audio_prompt: "b", seed_lock: 1, seed: 7,
    steps: 900.4, guidance: 71, audio_weight: -1, variations: 0, audio_model: 1 } });
  device.generate();
  let atoms = env.osc().pop();
  const value = (key) => atoms[atoms.indexOf(key) + 1];
  assert.deepEqual([value("steps"), value("image_guidance"), value("variations")], [900, 71, 0],
    "before the server's bounds are known, values go as the controls give them (the server checks)");
  device.receive("/sonocanvas/ready", ["0.1.0", "cpu", "tiny", "c0ffee"]);
  assert.deepEqual(env.osc().slice(-3)[0], ["/sonocanvas/limits"], "the device asks for the bounds after ready");
  device.receive("/sonocanvas/limits", ["steps", 1, 50, "image_guidance", 0, 30.5, "audio_guidance", 0, 20,
    "audio_weight", 0, 1, "variations", 1, 4, "seed", 0, 5, "junk", 3]);
  device.generate();
  atoms = env.osc().pop();
  assert.deepEqual([value("steps"), value("image_guidance"), value("audio_guidance"), value("audio_weight"), value("variations"),
    value("seed"), value("audio_model")], [50, 30.5, 20, 0, 1, 5, "riffusion"]);
});

test("previews: a server whose limits name preview gets one every 5 steps, shown in the picture panel until the clip's own", () => {
  const { env, device } = loadedDevice({ values: { image_prompt: "a", audio_prompt: "b", seed_lock: 1, seed: 7 } });
  device.generate();
  assert.ok(!env.osc().pop().includes("preview"), "a server that has not said it previews is not asked to (an older one refuses the key)");
  device.receive("/sonocanvas/ready", ["0.1.0", "cpu", "tiny", "c0ffee"]);
  device.receive("/sonocanvas/limits", ["steps", 1, 1000, "preview", 0, 1000]);
  const job = device.generate();
  const atoms = env.osc().pop();
  assert.deepEqual(atoms.slice(atoms.indexOf("preview"), atoms.indexOf("preview") + 2), ["preview", 5]);
  device.receive("/sonocanvas/preview", [job, 5, 100, "C:\\Users\\Léa\\Music\\sonocanvas\\.sonocanvas-previews\\ab-5.png"]);
  assert.deepEqual(env.shown.filter(([name]) => name === "picture").pop(),
    ["picture", "read", "C:/Users/Léa/Music/sonocanvas/.sonocanvas-previews/ab-5.png"], "read as Max reads paths");
  device.receive("/sonocanvas/preview", ["someone-else", 5, 100, "/x/other.png"]);
  assert.equal(env.shown.filter(([name]) => name === "picture").pop()[2].endsWith("ab-5.png"), true,
    "another job's preview is not shown");
  device.cancel();
  device.receive("/sonocanvas/preview", [job, 10, 100, "/x/late.png"]);
  assert.equal(env.shown.filter(([name]) => name === "picture").pop()[2].endsWith("ab-5.png"), true,
    "nor one that comes after Cancel");
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

test("sections need the clip in bars: without fit to bars or loop the status says so and nothing is sent", () => {
  const { env, device, job } = generated({ values: { audio_prompt: "church bells @4 | choir", fit_bars: 0, loop: 0 } });
  assert.equal(job, null);
  assert.match(env.status(), /^audio prompt: sections \(\|\) need the clip in bars: turn on fit to bars \(or loop\)/);
  assert.deepEqual(env.osc().map((atoms) => atoms[0]), ["/sonocanvas/hello"]);
  env.values.image_prompt = "towers | sky";
  env.values.audio_prompt = "bells";
  assert.equal(device.generate(), null);
  assert.match(env.status(), /^image prompt: sections/);
  env.values.audio_prompt = "bells @2 | choir";
  env.values.loop = 1;
  env.values.bars = 8;
  assert.ok(device.generate(), "a loop is in bars");
  const atoms = env.osc().pop();
  assert.deepEqual(atoms.slice(atoms.indexOf("image_prompt"), atoms.indexOf("image_prompt") + 4),
    ["image_prompt", "towers | sky", "audio_prompt", "bells @2 | choir"], "the prompts go as typed");
  assert.deepEqual(atoms.slice(atoms.indexOf("bpm") + 2, atoms.indexOf("bpm") + 4), ["bars", 8]);
});

test("a preset may stand in for the prompts; the effect chain goes by name", () => {
  const { env, device } = loadedDevice();
  device.receive("/sonocanvas/preset/names", ["castle bells", "ocean choir"]);
  device.receive("/sonocanvas/preset/names/end", [2]);
  device.receive("/sonocanvas/fx/names", ["warm tape", "wide hall"]);
  device.receive("/sonocanvas/fx/names/end", [2]);
  assert.deepEqual(env.shown.filter(([, selector]) => selector === "_parameter_range"), [
    ["preset", "_parameter_range", "(none)", "castle bells", "ocean choir"],
    ["fx", "_parameter_range", "(none)", "warm tape", "wide hall"],
  ]);
  env.values.preset = 2;
  env.values.fx = 1;
  device.presetChosen();
  device.fxChosen();
  assert.deepEqual([env.values.preset_name, env.values.fx_name], ["ocean choir", "warm tape"], "the names are kept with the set");
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
  device.receive("/sonocanvas/preset/names/end", [1]);
  device.receive("/sonocanvas/fx/names", ["warm tape"]);
  device.receive("/sonocanvas/fx/names/end", [1]);
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

test("a preset's loop is read as int 0/1, and as T/F or True/False from other servers", () => {
  const { env, device } = loadedDevice();
  for (const [value, loop] of [[1, 1], [0, 0], ["True", 1], ["False", 0], ["T", 1], ["F", 0]]) {
    device.receive("/sonocanvas/preset", ["mine", "loop", value]);
    assert.equal(env.values.loop, loop, `loop ${value}`);
  }
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

test("cancel asks the server to cancel this device's running jobs, saying where to reply", () => {
  const { env, device } = generated();
  device.cancel();
  assert.deepEqual(env.osc().pop(), ["/sonocanvas/cancel", "sc1-1", "reply_port", 9011]);
  device.receive("/sonocanvas/cancelled", ["sc1-1"]);
  assert.equal(env.status(), "Cancelled");
  device.cancel();
  assert.equal(env.status(), "Nothing to cancel");
  assert.deepEqual(env.osc().pop(), ["/sonocanvas/cancel", "sc1-1", "reply_port", 9011], "no second cancel was sent");
});

test("the client secret from ready goes with every generate and cancel; a typed token goes with hello", () => {
  const { env, device } = loadedDevice({ values: { image_prompt: "a", audio_prompt: "b", token: "s3cret word" } });
  assert.deepEqual(env.osc()[0], ["/sonocanvas/hello", 9011, "s3cret word"]);
  device.receive("/sonocanvas/ready", ["0.1.0", "cpu", "tiny", "9f2c4e"]);
  const id = device.generate();
  assert.deepEqual(env.osc().pop().slice(-4), ["reply_port", 9011, "client", "9f2c4e"]);
  device.cancel();
  assert.deepEqual(env.osc().pop(), ["/sonocanvas/cancel", id, "reply_port", 9011, "client", "9f2c4e"]);
  device.connect();
  assert.deepEqual(env.osc().pop(), ["/sonocanvas/hello", 9011, "s3cret word"]);
  device.receive("/sonocanvas/ready", ["0.1.0", "cpu", "tiny"]);
  device.generate();
  assert.equal(env.osc().pop().indexOf("client"), -1, "a server that gives no secret gets none (nor an old one)");
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
  assert.deepEqual(env.osc().slice(-3), [["/sonocanvas/limits"], ["/sonocanvas/preset/list"], ["/sonocanvas/fx/list"]]);
  env.clock += 2000;
  device.tick();
  assert.deepEqual(env.osc().pop(), ["/sonocanvas/status"]);
  env.clock += 6000;
  device.tick();
  assert.deepEqual(env.shown.filter(([name]) => name === "light").pop(), ["light", "int", 0]);
  assert.match(env.status(), /^No answer from 127\.0\.0\.1:9010/);
  assert.deepEqual(env.osc().pop(), ["/sonocanvas/hello", 9011], "a silent server is greeted again");
});

test("menus select again the names saved with the set once the server's lists arrive", () => {
  const { env, device } = loadedDevice({ values: { preset_name: "ocean choir", fx_name: "gone chain", preset: 2, fx: 1 } });
  device.receive("/sonocanvas/preset/names", ["castle bells", "new one", "ocean choir"]);
  device.receive("/sonocanvas/preset/names/end", [3]);
  device.receive("/sonocanvas/fx/names", ["warm tape"]);
  device.receive("/sonocanvas/fx/names/end", [1]);
  assert.deepEqual(env.shown.filter(([name, selector]) => selector === "set" && (name === "preset" || name === "fx")),
    [["preset", "set", 3], ["fx", "set", 0]], "by name, not by the index saved before the list changed; a name gone is (none)");
  assert.equal(device.chosen(device.presetNames, "preset"), "ocean choir");
});

test("a list split over several names messages is offered whole, once, at its names/end", () => {
  const { env, device } = loadedDevice();
  const first = Array.from({ length: 300 }, (_, i) => `preset ${i}`);
  device.receive("/sonocanvas/preset/names", first);
  device.receive("/sonocanvas/preset/names", ["the last one"]);
  assert.deepEqual(env.shown.filter(([name, selector]) => name === "preset" && selector === "_parameter_range"), [],
    "nothing is offered before the end");
  device.receive("/sonocanvas/preset/names/end", [301]);
  const offered = env.shown.filter(([name, selector]) => name === "preset" && selector === "_parameter_range");
  assert.equal(offered.length, 1);
  assert.deepEqual(offered[0].slice(2), ["(none)", ...first, "the last one"]);
  assert.equal(device.presetNames.length, 301);
  device.receive("/sonocanvas/preset/names", ["fresh"]);  // the next list starts afresh
  device.receive("/sonocanvas/preset/names/end", [1]);
  assert.deepEqual(device.presetNames, ["fresh"]);
  assert.deepEqual(env.posted, [], "nothing in the Max Console");
});

test("the gap finder", () => {
  assert.equal(firstGap([[0, 8], [10, 12]], 4, 4), 12, "the gap 8..10 is too short");
  assert.equal(firstGap([[0, 8], [10, 12]], 4, 2), 8);
  assert.equal(firstGap([[10, 12], [0, 8]], 0, null), 12, "unknown length: after every clip");
  assert.equal(firstGap([], 3.5, 4), 3.5);
});

test("the seed in the clip name is the one the server used, read from the file name", () => {
  assert.equal(seedOf("/d/20261121-133000_a_b_s1234_v2-3.wav"), 1234);
  assert.equal(seedOf("/d/odd name.wav"), null);
  const job = { imagePrompt: "x".repeat(60), audioPrompt: "", preset: "p", seed: 5, variations: 1 };
  assert.equal(clipName(job, 0, "/d/odd.wav"), "x".repeat(39) + "\u2026 s5");
});
