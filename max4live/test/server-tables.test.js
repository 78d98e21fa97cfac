// The device against the server's own tables (bridge/osc/addresses.py, engine/catalog.py), read from the
// installed package: every address it sends is a request the server handles, every reply those requests
// bring has a handler in the device (so nothing lands in the Max Console as "ignored"), and its model menu
// offers the server's audio models, in the server's order.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { execFileSync } = require("node:child_process");
const { loadPatcher } = require("../helpers/fakes.js");
const { ADDRESS, REPLIES, AUDIO_MODELS } = require("../sonocanvas.js");

const TABLES = JSON.parse(execFileSync("python3", ["-c", [
  "import json",
  "from sonocanvas.bridge.osc.addresses import ERROR, REQUESTS",
  "from sonocanvas.engine.catalog import AUDIO_MODELS",
  "print(json.dumps({'requests': {a: list(r.replies) for a, r in REQUESTS.items()}, 'error': ERROR,",
  "                  'audio_models': list(AUDIO_MODELS)}))",
].join("\n")], { encoding: "utf8" }));

test("every address the device sends is a request of the server's table", () => {
  for (const address of Object.values(ADDRESS)) {
    assert.ok(address in TABLES.requests, `${address} is in bridge/osc/addresses.py`);
  }
});

test("every reply to what the device sends has a handler in the device", () => {
  const expected = new Set([TABLES.error]);
  for (const address of Object.values(ADDRESS)) {
    for (const reply of TABLES.requests[address]) {
      expected.add(reply);
    }
  }
  const missing = [...expected].filter((reply) => typeof REPLIES[reply] !== "function");
  assert.deepEqual(missing, []);
});

test("the model menu and the script offer the server's audio models in its order", () => {
  const menu = loadPatcher().boxes.map(({ box }) => box).find((box) => box.varname === "audio_model");
  assert.ok(menu, "the patcher has an audio_model menu");
  assert.deepEqual(menu.saved_attribute_attributes.valueof.parameter_enum, TABLES.audio_models);
  assert.deepEqual(AUDIO_MODELS, TABLES.audio_models);
});
