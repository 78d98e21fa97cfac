// The device against the server's own tables (bridge/osc/addresses.py, engine/catalog.py, engine/sections.py), read from the
// installed package: every address it sends is a request the server handles, every reply those requests
// bring has a handler in the device (so nothing lands in the Max Console as "ignored"), and its model menu
// offers the server's audio models, in the server's order; it tells a prompt in sections as the server does.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { execFileSync } = require("node:child_process");
const { loadPatcher } = require("../helpers/fakes.js");
const { ADDRESS, REPLIES, AUDIO_MODELS, hasSections } = require("../sonocanvas.js");

/* Prompts with and without sections, one with a fullwidth vertical line (not the separator). */
const PROMPTS = ["bells @4 | choir", "bells|choir", "bells @4", "bells \uff5c choir", "|"];

const TABLES = JSON.parse(execFileSync("python3", ["-c", [
  "import json",
  "from sonocanvas.bridge.osc.addresses import ERROR, REQUESTS",
  "from sonocanvas.engine.catalog import AUDIO_MODELS",
  "from sonocanvas.engine.sections import has_sections",
  `prompts = json.loads(${JSON.stringify(JSON.stringify(PROMPTS))})`,
  "print(json.dumps({'requests': {a: list(r.replies) for a, r in REQUESTS.items()}, 'error': ERROR,",
  "                  'audio_models': list(AUDIO_MODELS), 'has_sections': [has_sections(p) for p in prompts]}))",
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

test("the device finds sections in a prompt as the server does", () => {
  assert.deepEqual(PROMPTS.map(hasSections), TABLES.has_sections);
  assert.ok(TABLES.has_sections.includes(true) && TABLES.has_sections.includes(false), "the prompts test both answers");
});

test("the model menu and the script offer the server's audio models in its order", () => {
  const menu = loadPatcher().boxes.map(({ box }) => box).find((box) => box.varname === "audio_model");
  assert.ok(menu, "the patcher has an audio_model menu");
  assert.deepEqual(menu.saved_attribute_attributes.valueof.parameter_enum, TABLES.audio_models);
  assert.deepEqual(AUDIO_MODELS, TABLES.audio_models);
});
