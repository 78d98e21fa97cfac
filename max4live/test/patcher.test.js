// The patcher hangs together, matches its js, and the device speaks only what docs/osc.md documents.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const acorn = require("acorn");
const { loadPatcher, loadedDevice, SCRIPT_PATH, OSC_DOC_PATH } = require("../helpers/fakes.js");

const patcher = loadPatcher();
const boxes = new Map(patcher.boxes.map(({ box }) => [box.id, box]));
const named = new Map(patcher.boxes.filter(({ box }) => box.varname).map(({ box }) => [box.varname, box]));
const script = fs.readFileSync(SCRIPT_PATH, "utf8");
const DEVICE_HEIGHT = 169;

// The js object's inlets and outlets are what its script declares.
function declared(name) {
  const match = new RegExp(`^${name} = (\\d+);$`, "m").exec(script);
  assert.ok(match, `sonocanvas.js declares ${name}`);
  return Number(match[1]);
}

// Inlets and outlets of each object, from its class and arguments (as Max 8 makes them).
const UI = {
  message: [2, 1], comment: [1, 0], "live.comment": [1, 0], textedit: [1, 4], fpic: [1, 1], led: [1, 1], multislider: [1, 2],
  "live.text": [1, 2], "live.numbox": [1, 2], "live.dial": [1, 2], "live.toggle": [1, 1],
  "live.menu": [1, 3], "live.tab": [1, 3],
  // dropfile reference: one inlet; outlets: the dropped file's path, and its type
  dropfile: [1, 2],
};
const OBJECTS = {
  "plugin~": () => [2, 2],
  "plugout~": () => [2, 2],
  "live.thisdevice": () => [1, 3],
  js: () => [declared("inlets"), declared("outlets")],
  udpsend: () => [1, 0],
  deferlow: () => [1, 1],
  pattr: () => [1, 3],
  t: (args) => [1, args.length],
  prepend: () => [1, 1], // as Max writes it (test/data/CPU Reporter.amxd: "prepend", 1 inlet, 1 outlet)
};

function expectedPorts(box) {
  if (box.maxclass !== "newobj") return UI[box.maxclass];
  const [name, ...words] = box.text.split(/\s+/);
  const attributes = words.findIndex((word) => word.startsWith("@"));
  return OBJECTS[name] && OBJECTS[name](attributes < 0 ? words : words.slice(0, attributes));
}

function linesFrom(id, outlet) {
  return patcher.lines.filter(({ patchline }) => patchline.source[0] === id && patchline.source[1] === outlet)
    .map(({ patchline }) => boxes.get(patchline.destination[0]));
}

function theBox(text) {
  const found = patcher.boxes.filter(({ box }) => box.text && box.text.split(" ")[0] === text);
  assert.equal(found.length, 1, `one ${text} box`);
  return found[0].box;
}

test("every box declares the inlets and outlets its object has", () => {
  for (const box of boxes.values()) {
    const ports = expectedPorts(box);
    assert.ok(ports, `${box.id} (${box.maxclass} ${box.text || ""}) is an object this test knows`);
    assert.deepEqual([box.numinlets, box.numoutlets], ports, `${box.id} ${box.maxclass} ${box.text || ""}`);
    assert.equal((box.outlettype || []).length, box.numoutlets, `${box.id} outlettype`);
  }
});

test("every patch line joins existing boxes at existing inlets and outlets", () => {
  assert.ok(patcher.lines.length > 0);
  for (const { patchline } of patcher.lines) {
    const [from, outlet] = patchline.source;
    const [to, inlet] = patchline.destination;
    assert.ok(boxes.has(from) && boxes.has(to), `${from} -> ${to}`);
    assert.ok(Number.isInteger(outlet) && outlet >= 0 && outlet < boxes.get(from).numoutlets, `${from} outlet ${outlet}`);
    assert.ok(Number.isInteger(inlet) && inlet >= 0 && inlet < boxes.get(to).numinlets, `${to} inlet ${inlet}`);
  }
});

test("box ids and scripting names are unique", () => {
  assert.equal(boxes.size, patcher.boxes.length);
  assert.equal(named.size, patcher.boxes.filter(({ box }) => box.varname).length);
});

test("audio passes through unchanged: plugin~ straight to plugout~, both channels", () => {
  const plugin = theBox("plugin~");
  const plugout = theBox("plugout~");
  const audio = patcher.lines.filter(({ patchline }) => patchline.source[0] === plugin.id).map(({ patchline }) => patchline);
  assert.deepEqual(audio.map((line) => [line.source[1], line.destination]).sort(),
    [[0, [plugout.id, 0]], [1, [plugout.id, 1]]]);
});

test("the js is wired: loaded after live.thisdevice, replies through deferlow, its outlet to udpsend", () => {
  const js = theBox("js");
  assert.equal(js.text, "js sonocanvas.js");
  const [loadedMessage] = linesFrom(theBox("live.thisdevice").id, 0);
  assert.equal(loadedMessage.text, "loaded");
  assert.deepEqual(linesFrom(loadedMessage.id, 0), [js]);
  assert.deepEqual(linesFrom(js.id, 0), [theBox("udpsend")]);
  assert.equal(theBox("udpsend").text, "udpsend 127.0.0.1 9010", "the default port of docs/osc.md");
  // No udpreceive is saved: it would bind its port as the device loads, before the script can pick a
  // port no other device holds. The script makes it and connects it to this deferlow by name.
  assert.ok(!patcher.boxes.some(({ box }) => box.text && box.text.startsWith("udpreceive")));
  const deferlow = named.get("replies_deferred");
  assert.equal(deferlow.text, "deferlow");
  assert.deepEqual(linesFrom(deferlow.id, 0), [js]);
  assert.match(script, /named\("replies"\)/);
  assert.match(script, /newdefault\([^)]*"udpreceive", port\)/);
  assert.match(script, /connect\(box, 0, named\("replies_deferred"\), 0\)/);
  assert.match(script, /^autowatch = 0;$/m, "a frozen device's script is not watched on disk");
});

test("every message box into the js names a function the script defines", () => {
  const functions = new Set(acorn.parse(script, { ecmaVersion: 5 }).body
    .filter((node) => node.type === "FunctionDeclaration").map((node) => node.id.name));
  const js = theBox("js");
  const into = patcher.lines.filter(({ patchline }) => patchline.destination[0] === js.id)
    .map(({ patchline }) => boxes.get(patchline.source[0])).filter((box) => box.maxclass === "message");
  assert.deepEqual(into.map((box) => box.text).sort(),
    ["audition", "cancel", "connect", "fx", "generate", "loaded", "lock", "preset", "riff", "see", "stop"]);
  for (const box of into) assert.ok(functions.has(box.text), `function ${box.text}`);
  const prefixed = patcher.lines.filter(({ patchline }) => patchline.destination[0] === js.id)
    .map(({ patchline }) => boxes.get(patchline.source[0])).filter((box) => box.maxclass === "newobj" && /^prepend /.test(box.text));
  assert.deepEqual(prefixed.map((box) => box.text).sort(),
    ["prepend dropped", "prepend typed audio_prompt", "prepend typed image_prompt"]);
  for (const box of prefixed) assert.ok(functions.has(box.text.split(" ")[1]), box.text);
  assert.ok(functions.has("anything"), "OSC replies arrive as `anything`");
});

test("presentation fits Live's device strip, and settings are live.* parameters saved with the set", () => {
  assert.equal(patcher.openinpresentation, 1);
  const shown = patcher.boxes.map(({ box }) => box).filter((box) => box.presentation);
  for (const box of shown) {
    const [x, y, w, h] = box.presentation_rect;
    assert.ok(x >= 0 && y >= 0 && x + w <= patcher.devicewidth && y + h <= DEVICE_HEIGHT, `${box.varname || box.text} fits`);
  }
  const longnames = new Set();
  for (const box of named.values()) {
    if (box.maxclass.startsWith("live.") && box.maxclass !== "live.comment") {
      assert.ok(box.presentation, `${box.varname} is shown`);
      assert.equal(box.parameter_enable, 1, `${box.varname} is a parameter`);
      const { parameter_longname: longname } = box.saved_attribute_attributes.valueof;
      assert.ok(!longnames.has(longname), `parameter names are unique: ${longname}`);
      longnames.add(longname);
    }
  }
  const pattrs = patcher.boxes.map(({ box }) => box).filter((box) => box.text && box.text.startsWith("pattr "));
  for (const box of named.values()) {
    if (box.maxclass !== "textedit") continue;
    // A prompt's pattr is written by the script as it is typed (test/saved.test.js); the server boxes, which
    // reconnect on Return, keep theirs bound.
    const kept = /_prompt$/.test(box.varname) ? `pattr ${box.varname}_text` : `pattr ${box.varname}_text @bindto ${box.varname}`;
    assert.ok(pattrs.find((b) => b.text === kept), `a pattr keeps the ${box.varname} text: ${kept}`);
  }
  for (const name of ["preset_name", "fx_name"]) assert.ok(named.get(name) && pattrs.includes(named.get(name)), `a pattr keeps the ${name}`);
  for (const menu of ["preset", "fx"]) {
    assert.equal(named.get(menu).saved_attribute_attributes.valueof.parameter_invisible, 2,
      `${menu}: a hidden parameter (its name is what is saved), so selecting it again adds no undo step`);
  }
  for (const store of pattrs) {
    // As Max writes a pattr (Test.amxd: "saved_object_attributes": {"parameter_enable": 0, ...},
    // "text": "pattr test"): parameter_enable inside saved_object_attributes, not on the box.
    assert.equal(store.parameter_enable, undefined, `${store.text}: not a UI object's top-level parameter_enable`);
    assert.deepEqual(store.saved_object_attributes, { parameter_enable: 1, parameter_mappable: 0 }, store.text);
    const { valueof } = store.saved_attribute_attributes;
    assert.equal(valueof.parameter_type, 3, "a blob parameter holds text");
    assert.equal(valueof.parameter_invisible, 1, "stored with the set, not automatable");
    assert.ok(!longnames.has(valueof.parameter_longname), valueof.parameter_longname);
    longnames.add(valueof.parameter_longname);
  }
});

// Where each box shows in the device: [x, y, w, h] → edges.
function edges(box) {
  const [x, y, w, h] = box.presentation_rect;
  return { left: x, top: y, right: x + w, bottom: y + h };
}

test("no label overlaps a control, and no two controls overlap", () => {
  const shown = patcher.boxes.map(({ box }) => box).filter((box) => box.presentation);
  const labels = shown.filter((box) => box.maxclass === "live.comment" && !box.varname);
  const controls = shown.filter((box) => box.maxclass !== "live.comment" || box.varname);
  const overlap = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  assert.ok(labels.length >= 10 && controls.length >= 25);
  for (const label of labels) {
    for (const control of controls) {
      assert.ok(!overlap(edges(label), edges(control)), `label "${label.text}" ${label.presentation_rect} overlaps ${control.varname || control.maxclass} ${control.presentation_rect}`);
    }
  }
  // The drop zone lies on the picture by design: a picture is dropped onto the panel that shows pictures.
  const onPicture = (a, b) => [a.varname, b.varname].sort().join() === "picture,picture_drop" &&
    JSON.stringify(a.presentation_rect) === JSON.stringify(b.presentation_rect);
  controls.forEach((a, i) => controls.slice(i + 1).forEach((b) => {
    assert.ok(onPicture(a, b) || !overlap(edges(a), edges(b)), `${a.varname || a.maxclass} ${a.presentation_rect} overlaps ${b.varname || b.maxclass} ${b.presentation_rect}`);
  }));
  for (const box of shown) assert.ok(box.presentation_rect.every(Number.isInteger), `${box.varname || box.text} sits on whole pixels`);
});

test("the status line shows three lines, so a long message with its path can be read whole", () => {
  const status = named.get("status");
  assert.equal(status.linecount, 3);
  assert.ok(status.presentation_rect[3] >= 18 + 2 * 11, "three lines: 18 px, and 11 px for each line after the first");
  assert.ok(status.presentation_rect[2] >= 580);
  const { env, device } = loadedDevice();
  const long = "Not placed: this is a group track, whose slots only launch the tracks inside it; put the device on an audio track. " +
    "The clip is at C:\\Users\\Léa\\Music\\sonocanvas\\drop\\20261121-133000_castle-towers-at-dusk_church-bells_s123456.wav";
  device.status(long);
  assert.deepEqual(env.shown.slice(-2), [["status", "set", long], ["status", "annotation", long]],
    "and the Info View shows it whole when the mouse is over it");
});

// Max writes a one-line live.comment 18 px tall and one of two lines 29 (test/data/CPU Reporter.amxd): 11 px a line more.
const COMMENT_LINE = 11;
// About how wide a character of Ableton Sans is at the patcher's 10 pt (an estimate, generous to the label).
const CHARACTER = 5;

test("labels are 18 px tall, as Max writes a live.comment, and wide enough for their words", () => {
  const comments = patcher.boxes.map(({ box }) => box).filter((box) => box.maxclass === "live.comment");
  assert.ok(comments.length >= 15);
  for (const box of comments) {
    const lines = box.linecount || 1;
    for (const rect of [box.presentation_rect, box.patching_rect].filter(Boolean)) {
      assert.ok(rect[3] >= 18 + COMMENT_LINE * (lines - 1), `${box.text || box.varname}: ${rect[3]} px for ${lines} line(s)`);
    }
    if (!box.presentation || box.varname === "status") continue;
    const widest = lines > 1 ? Math.max(...box.text.split(" ").map((word) => word.length)) : box.text.length;
    const shown = box.varname === "last_seed" ? "seed 999999".length : widest;
    assert.ok(box.presentation_rect[2] >= CHARACTER * shown, `"${box.text || box.varname}" fits its ${box.presentation_rect[2]} px`);
  }
});

test("one font: Ableton Sans, the patcher's default, and no box sets its own", () => {
  // Max for Live production guidelines: "Ableton Sans is included as a standard font in Max ... Use this type
  // face for a look that is consistent with Live's devices"; "Font consistency: All UI fonts are set to default."
  assert.match(patcher.default_fontname, /^Ableton Sans/);
  for (const box of boxes.values()) {
    assert.equal(box.fontname, undefined, `${box.varname || box.text}`);
    assert.equal(box.fontsize, undefined, `${box.varname || box.text}`);
  }
});

test("every colour an object draws follows the theme: the progress bar's background and the light's off colour too", () => {
  const bound = (name, key) => named.get(name).saved_attribute_attributes[key].expression;
  assert.match(bound("progress", "bgcolor"), /^themecolor\.live_/);
  assert.match(bound("progress", "slidercolor"), /^themecolor\.live_/);
  assert.match(bound("light", "offcolor"), /^themecolor\.live_/);
  assert.match(bound("light", "oncolor"), /^themecolor\.live_/);
});

test("the buttons sit on one row, at one height, and the device's margins are even", () => {
  const rows = ["generate", "riff", "see", "cancel", "audition", "stop"].map((name) => named.get(name).presentation_rect);
  assert.deepEqual(new Set(rows.map(([, y, , h]) => `${y}/${h}`)).size, 1, JSON.stringify(rows));
  const shown = patcher.boxes.map(({ box }) => box).filter((box) => box.presentation);
  const left = Math.min(...shown.map((box) => box.presentation_rect[0]));
  const right = patcher.devicewidth - Math.max(...shown.map(({ presentation_rect: [x, , w] }) => x + w));
  assert.equal(left, right, "the left-most element as far from the left side as the right-most from the right (guidelines)");
});

test("every control has an Info View annotation, and buttons act on mouse-up", () => {
  const controls = patcher.boxes.map(({ box }) => box).filter((box) => box.presentation && (box.maxclass !== "live.comment" || box.varname));
  for (const box of controls) {
    assert.ok(box.annotation_name && box.annotation && box.annotation.length > 20, `${box.varname} has Info text`);
  }
  const buttons = controls.filter((box) => box.maxclass === "live.text");
  assert.deepEqual(buttons.map((box) => box.varname).sort(), ["audition", "cancel", "generate", "riff", "see", "stop"]);
  for (const box of buttons) {
    // live.text reference: in button mode the value goes 0 -> 1 on mouse-down and 1 -> 0 on mouse-up, and
    // "transition" 1 ("One->Zero") sends the bang on the second: mouse-up, as the production guidelines ask.
    // (outputmode applies to toggle mode only.)
    assert.equal(box.mode, 0, `${box.varname}: a button`);
    assert.equal(box.transition, 1, `${box.varname}: acts on mouse-up`);
    assert.equal(box.saved_attribute_attributes.valueof.parameter_invisible, 2, `${box.varname}: a button is a hidden parameter`);
  }
});

test("colours follow Live's theme: every colour set on a box is bound to a theme colour", () => {
  const boxesWithColour = patcher.boxes.map(({ box }) => box).filter((box) => Object.keys(box).some((key) => /color$/.test(key)));
  assert.ok(boxesWithColour.length >= 5);
  for (const box of boxesWithColour) {
    for (const key of Object.keys(box).filter((k) => /color$/.test(k))) {
      const expression = box.saved_attribute_attributes && box.saved_attribute_attributes[key] && box.saved_attribute_attributes[key].expression;
      assert.match(expression || "", /^themecolor\.live_/, `${box.varname || box.maxclass}.${key} follows the theme`);
    }
  }
  assert.ok(!patcher.boxes.some(({ box }) => box.maxclass === "comment"), "labels are live.comment, which take the theme's text colour");
});

// Every box the js reads or writes, found by running the device through all it does.
function exercise() {
  const { env, device, live } = loadedDevice({ values: { image_prompt: "a b", audio_prompt: "c", fit_bars: 1, seed_lock: 0, loop: 1,
    variations: 3, keep: 2 } });
  // (the `client` key is documented with the server that serves it, issue 15; device.test.js covers it)
  device.receive("/sonocanvas/ready", ["0.1.0", "cpu", "tiny"]);
  device.receive("/sonocanvas/limits", ["steps", 1, 500]);
  device.tick();
  device.receive("/sonocanvas/preset/names", ["p"]);
  device.receive("/sonocanvas/preset/names/end", [1]);
  device.receive("/sonocanvas/fx/names", ["f"]);
  device.receive("/sonocanvas/fx/names/end", [1]);
  env.values.preset = 1;
  env.values.fx = 1;
  device.presetChosen();
  device.fxChosen();
  device.receive("/sonocanvas/preset", ["p", "image_prompt", "x", "audio_prompt", "y", "steps", 3, "image_guidance", 2,
    "audio_weight", 0.2, "variations", 2, "seed", 4, "audio_model", "riffusion", "fx", "f"]);
  device.generate();
  env.values.seed_lock = 1;
  device.lock();
  const clip = live.addArrangementClip(live.track, "/d/x.wav", 0, 4);
  live.songView.props.detail_clip = ["id", clip.id];
  device.riff();
  Object.assign(clip.props, { warping: [0], looping: [0], loop_start: [0], loop_end: [2] });  // a region to hear
  device.pictureDropped("/d/cover.png");
  device.see();
  device.receive("/sonocanvas/queued", ["sc1-1", 1]);
  device.receive("/sonocanvas/progress", ["sc1-1", 1, 2]);
  device.receive("/sonocanvas/scores", ["sc1-1", 0, 1, 3, "clip", 0.3, "clap", 0.1]);
  device.receive("/sonocanvas/done", ["sc1-1", 0, "/d/a_s4.wav", "/d/a_s4.png", "/d/a_s4.json"]);
  device.audition();
  device.stop();
  device.receive("/sonocanvas/playing", ["/d/a_s4.wav"]);
  device.receive("/sonocanvas/stopped", []);
  device.receive("/sonocanvas/status", ["", 0, "cpu"]);
  device.cancel();
  device.receive("/sonocanvas/cancelled", ["sc1-1"]);
  device.receive("/sonocanvas/error", ["", "address", "x"]);
  env.clock += 60000;
  device.tick();
  env.flush();
  return env;
}

test("every box the js reads or writes exists, with the class the js expects", () => {
  const env = exercise();
  const kinds = {
    status: "live.comment", progress: "multislider", picture: "fpic", light: "led", image_prompt: "textedit",
    audio_prompt: "textedit", host: "textedit", token: "textedit", preset: "live.menu", fx: "live.menu", audio_model: "live.tab",
    preset_name: "newobj", fx_name: "newobj", last_seed: "live.comment", image_prompt_text: "newobj", audio_prompt_text: "newobj",
    seed_lock: "live.toggle", fit_bars: "live.toggle", loop: "live.toggle", guidance: "live.dial", audio_weight: "live.dial",
    see_picture: "newobj",
  };
  const used = new Set([...env.read, ...env.shown.map(([name]) => name)]);
  assert.ok(used.size >= 18, `the exercise reached ${[...used]}`);
  for (const name of used) {
    assert.ok(named.has(name), `a box named ${name}`);
    assert.equal(named.get(name).maxclass, kinds[name] || "live.numbox", name);
  }
});

// The addresses and generate keys docs/osc.md documents.
function documented() {
  const doc = fs.readFileSync(OSC_DOC_PATH, "utf8");
  const section = (title) => doc.split(/^## /m).find((part) => part.startsWith(title));
  const firstColumn = (text) => [...text.matchAll(/^\| `([^`]+)` \|/gm)].map((match) => match[1]);
  return {
    requests: new Set(firstColumn(section("Requests").split(/^### /m)[0])),
    generateKeys: new Set(firstColumn(section("Requests").split(/^### /m).find((part) => part.startsWith("Keys of `/sonocanvas/generate`")))),
    replies: new Set(firstColumn(section("Replies"))),
  };
}

test("every OSC address the device sends, and every key of its generate, is one docs/osc.md documents", () => {
  const { requests, generateKeys } = documented();
  assert.ok(requests.has("/sonocanvas/generate") && generateKeys.has("image_prompt"), "the document was read");
  const env = exercise();
  const sent = env.outlets[0].filter((atoms) => String(atoms[0]).startsWith("/"));
  const addresses = new Set(sent.map((atoms) => atoms[0]));
  const { ADDRESS } = require(SCRIPT_PATH);
  assert.deepEqual([...addresses].sort(), Object.values(ADDRESS).sort(), "the exercise sent every address the device has");
  for (const address of addresses) assert.ok(requests.has(address), `${address} is documented`);
  const generate = sent.find((atoms) => atoms[0] === "/sonocanvas/generate");
  const keys = generate.slice(2).filter((_, i) => i % 2 === 0);
  assert.ok(keys.length >= 12);
  for (const key of ["keep", "rank", "loop", "bpm", "bars"]) assert.ok(keys.includes(key), `the exercise sent ${key}`);
  for (const key of keys) assert.ok(generateKeys.has(key), `generate key ${key} is documented`);
  const notOsc = env.outlets[0].filter((atoms) => !String(atoms[0]).startsWith("/")).map((atoms) => atoms[0]);
  assert.deepEqual([...new Set(notOsc)].sort(), ["host", "port"], "the rest only set udpsend up");
});


test("every reply the device handles is one docs/osc.md documents", () => {
  const { replies } = documented();
  const { REPLIES } = require(SCRIPT_PATH);
  assert.ok(Object.keys(REPLIES).length >= 10);
  const doc = fs.readFileSync(OSC_DOC_PATH, "utf8");
  for (const address of Object.keys(REPLIES)) {
    assert.ok(replies.has(address), `${address} is documented`);
  }
  const scores = doc.split("\n").find((line) => line.startsWith("| `/sonocanvas/scores` |"));
  assert.ok(scores.includes("job_id:str index:int rank:int candidates:int"), "the scores the device reads, in order");
});

test("Loop and Keep are parameters saved with the set; variations may go to 64 candidates for Keep", () => {
  const valueof = (name) => named.get(name).saved_attribute_attributes.valueof;
  assert.equal(named.get("loop").maxclass, "live.toggle");
  assert.deepEqual([valueof("loop").parameter_type, valueof("loop").parameter_enum, valueof("loop").parameter_initial],
    [valueof("fit_bars").parameter_type, ["off", "on"], [0]], "a toggle like fit to bars, off in a new device");
  assert.equal(named.get("keep").maxclass, "live.numbox");
  assert.deepEqual([valueof("keep").parameter_mmin, valueof("keep").parameter_mmax, valueof("keep").parameter_initial], [0, 64, [0]],
    "0 is off; the settings table's keep goes to 64");
  assert.equal(valueof("variations").parameter_mmax, 64, "the settings table's bound; the server's limits narrow it");
  assert.match(named.get("keep").annotation, /0: off/);
  assert.match(named.get("keep").annotation, /Greyed out when the server has no scorer/);
  assert.match(named.get("bars").annotation, /Fit to bars or Loop/);
  // each new control sits next to its label, and the label names it
  const labelled = (name, text) => {
    const label = patcher.boxes.map(({ box }) => box).find((box) => box.maxclass === "live.comment" && box.text === text);
    const [lx, ly] = label.presentation_rect;
    const [cx, cy, cw] = named.get(name).presentation_rect;
    assert.ok(Math.abs(ly - cy) <= 2 && (Math.abs(lx - (cx + cw)) <= 4 || Math.abs(cx - (lx + label.presentation_rect[2])) <= 4),
      `"${text}" labels ${name}`);
  };
  labelled("loop", "loop");
  labelled("keep", "keep best");
});
