// The device recovers by itself: a restarted server (which no longer knows this device's client secret) costs
// the musician nothing, and a server that never answers is named within three heartbeats.
// docs/osc.md: the secret comes with /sonocanvas/ready and "an unknown secret is refused on field `client`";
// bridge/osc/server.py sends that refusal as /sonocanvas/error <job> client "client: unknown client secret; ...".
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { FakeLive, FakeDisk, loadedDevice, wavBytes } = require("../helpers/fakes.js");

const WAV = "/drop/20261121-133000_castle-towers_bells_s42.wav";
const UNKNOWN = "client: unknown client secret; say /sonocanvas/hello again for a new one";

function connected() {
  const live = new FakeLive({ disk: new FakeDisk({ [WAV]: wavBytes(2) }), slots: [false, false] });
  const fixture = loadedDevice({ live, values: { image_prompt: "castle towers", audio_prompt: "bells", seed: 42, seed_lock: 1 } });
  fixture.device.receive("/sonocanvas/ready", ["0.2.0", "cpu", "tiny", "old-secret", "clip clap"]);
  return fixture;
}

const statusLines = (env) => env.shown.filter(([name, selector]) => name === "status" && selector === "set").map(([, , line]) => line);

test("a restarted server: the device says hello at once, and sends the Generate again once ready brings the new secret", () => {
  const { env, device, live } = connected();
  const job = device.generate();
  const first = env.osc().pop();
  assert.deepEqual(first.slice(-2), ["client", "old-secret"]);
  const before = statusLines(env).length;

  device.receive("/sonocanvas/error", [job, "client", UNKNOWN]);
  assert.deepEqual(env.osc().pop(), ["/sonocanvas/hello", 9011], "hello again, at once");
  device.receive("/sonocanvas/ready", ["0.2.0", "cpu", "tiny", "new-secret", "clip clap"]);
  const again = env.osc().filter((atoms) => atoms[0] === "/sonocanvas/generate");
  assert.equal(again.length, 2, "sent once more, not more");
  assert.deepEqual(again[1], [...first.slice(0, -1), "new-secret"], "the same job, with the new secret");
  assert.deepEqual(statusLines(env).slice(before), ["127.0.0.1:9010 restarted: sending the Generate again"],
    "one status line about the restart, and no error");

  device.receive("/sonocanvas/queued", [job, 1]);
  device.receive("/sonocanvas/done", [job, 0, WAV, WAV.replace(".wav", ".png"), WAV.replace(".wav", ".json")]);
  env.flush();
  assert.match(env.status(), /^Placed /);
  assert.equal(live.changes().filter((call) => call.method === "create_audio_clip").length, 1);
  device.generate();
  assert.deepEqual(env.osc().pop().slice(-2), ["client", "new-secret"], "later jobs carry the new secret");
});

// Today's server sends that refusal before it reads the generate's reply_port, to the port udpsend sends from,
// where no one listens; the heartbeat's answers go there too, so the device falls silent and says hello again.
test("a ready with a new secret is a new server: a Generate it never queued goes again, a queued one does not", () => {
  const { env, device } = connected();
  const queued = device.generate();
  device.receive("/sonocanvas/queued", [queued, 2]);
  const lost = device.generate();
  const before = statusLines(env).length;
  device.receive("/sonocanvas/ready", ["0.2.0", "cpu", "tiny", "old-secret"]);
  assert.equal(env.osc().filter((atoms) => atoms[0] === "/sonocanvas/generate").length, 2, "the same secret: the same server");
  device.receive("/sonocanvas/ready", ["0.2.0", "cpu", "tiny", "new-secret"]);
  const generates = env.osc().filter((atoms) => atoms[0] === "/sonocanvas/generate");
  assert.equal(generates.length, 3);
  assert.deepEqual([generates[2][1], generates[2].slice(-1)[0]], [lost, "new-secret"]);
  assert.deepEqual(statusLines(env).slice(before).filter((line) => !line.startsWith("Connected")),
    ["127.0.0.1:9010 restarted: sending the Generate again"]);
});

test("a job being cancelled when the server restarted is over: it is not sent again", () => {
  const { env, device } = connected();
  const job = device.generate();
  device.cancel();
  device.receive("/sonocanvas/error", [job, "client", UNKNOWN]);
  assert.equal(env.status(), "Cancelled (127.0.0.1:9010 had restarted, and its jobs with it)");
  assert.deepEqual(device.jobs, {});
  device.receive("/sonocanvas/ready", ["0.2.0", "cpu", "tiny", "new-secret"]);
  assert.equal(env.osc().filter((atoms) => atoms[0] === "/sonocanvas/generate").length, 1);
  assert.match(env.status(), /^Connected: /);
});

test("a Generate refused for its secret a second time is not sent a third: the error is shown", () => {
  const { env, device } = connected();
  const job = device.generate();
  device.receive("/sonocanvas/error", [job, "client", UNKNOWN]);
  device.receive("/sonocanvas/ready", ["0.2.0", "cpu", "tiny", "new-secret"]);
  device.receive("/sonocanvas/error", [job, "client", UNKNOWN]);
  assert.equal(env.status(), `Error: client: ${UNKNOWN}`);
  assert.deepEqual(device.jobs, {});
  assert.equal(env.osc().filter((atoms) => atoms[0] === "/sonocanvas/generate").length, 2);
});

test("a server that never answers is named by the third heartbeat, once, and greeted at every one", () => {
  const { env, device } = loadedDevice();
  assert.equal(env.heartbeat.ms, 2000);
  assert.match(env.status(), /^Connecting to 127\.0\.0\.1:9010/);
  for (let beat = 1; beat <= 2; beat++) {
    env.clock += env.heartbeat.ms;
    env.heartbeat.fn();
    assert.match(env.status(), /^Connecting to /, `heartbeat ${beat}: still connecting`);
  }
  env.clock += env.heartbeat.ms;
  env.heartbeat.fn();
  assert.equal(env.status(), "No answer from 127.0.0.1:9010: is `sonocanvas serve` running?");
  for (let beat = 4; beat <= 6; beat++) {
    env.clock += env.heartbeat.ms;
    env.heartbeat.fn();
  }
  assert.equal(statusLines(env).filter((line) => line.startsWith("No answer")).length, 1, "said once");
  assert.equal(env.osc().filter((atoms) => atoms[0] === "/sonocanvas/hello").length, 7, "hello at load and at each heartbeat");
  device.receive("/sonocanvas/ready", ["0.2.0", "cpu", "tiny", "s"]);
  assert.match(env.status(), /^Connected: /, "and once it answers, it is connected");
  assert.deepEqual(env.shown.filter(([name]) => name === "light").pop(), ["light", "int", 1]);
});
