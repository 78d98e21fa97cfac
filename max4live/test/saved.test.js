// Saved with the set: a prompt typed and never confirmed with Return is still there after save and reopen.
// The device runs as Max runs it (helpers/max-patcher.js): keystrokes go through the patcher's own boxes and
// lines (textedit, t b, deferlow, prepend, js, pattr), and reopening restores the pattrs before live.thisdevice.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { MaxPatcher } = require("../helpers/max-patcher.js");
const { loadedDevice } = require("../helpers/fakes.js");

const generated = (device) => device.sent.filter((atoms) => atoms[0] === "/sonocanvas/generate");
const key = (atoms, name) => atoms[atoms.indexOf(name) + 1];

test("prompts typed without Return are saved with the set and are there when it is opened again", () => {
  const first = new MaxPatcher().open();
  first.type("image_prompt", "castle towers at dusk");
  first.type("audio_prompt", "church bells");
  first.advance(1000);
  const stored = first.saved();
  assert.deepEqual([stored.image_prompt_text, stored.audio_prompt_text], ["castle towers at dusk", "church bells"]);

  const again = new MaxPatcher({ restored: stored }).open();
  assert.equal(again.named.get("image_prompt").buffer, "castle towers at dusk", "shown in its box");
  assert.equal(again.named.get("audio_prompt").buffer, "church bells");
  again.press("generate");
  const [sent] = generated(again);
  assert.deepEqual([key(sent, "image_prompt"), key(sent, "audio_prompt")], ["castle towers at dusk", "church bells"]);
  assert.deepEqual(again.posted, [], "and nothing in the Max Console");
});

test("Generate sends the prompt as typed, Return pressed or not", () => {
  const device = new MaxPatcher().open();
  device.type("image_prompt", "lighthouse");
  device.type("audio_prompt", "foghorn\r");
  device.type("audio_prompt", " and gulls");
  device.press("generate");
  const [sent] = generated(device);
  assert.deepEqual([key(sent, "image_prompt"), key(sent, "audio_prompt")], ["lighthouse", "foghorn and gulls"]);
});

test("a burst of typing is one write of the stored prompt (one undo step in Live), not one per key", () => {
  const device = new MaxPatcher().open();
  const pattr = device.named.get("image_prompt_text");
  device.type("image_prompt", "tiles");
  device.advance(999);
  assert.equal(pattr.writes, 0, "not while typing goes on");
  device.type("image_prompt", " and sand");
  device.advance(1000);
  assert.deepEqual([pattr.writes, pattr.value], [1, "tiles and sand"]);
});

test("the server host stays bound to its box: kept when Return reconnects, and connected to when the set opens", () => {
  const first = new MaxPatcher().open();
  first.named.get("host").buffer = "";
  first.type("host", "192.168.1.20\r");
  const stored = first.saved();
  assert.equal([].concat(stored.host_text).join(" "), "192.168.1.20", "the host is kept when Return reconnects");
  const again = new MaxPatcher({ restored: stored }).open();
  assert.equal(again.named.get("host").buffer, "192.168.1.20");
  assert.ok(again.sent.some((atoms) => atoms[0] === "host" && atoms[1] === "192.168.1.20"), "and the device connects there");
});

test("a device deleted while a typed prompt waits to be stored writes nothing afterwards", () => {
  const { env, device } = loadedDevice();
  device.typed("image_prompt", ["text", "castle"]);
  device.free();
  env.advance(5000);
  assert.equal(env.values.image_prompt_text, undefined);
});
