// Stand-ins for what Max and Live give the device's js: its patcher's boxes, its outlets, the Live API.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.join(__dirname, "..");
const PATCHER_PATH = path.join(ROOT, "sonocanvas.maxpat");
const SCRIPT_PATH = path.join(ROOT, "sonocanvas.js");
const OSC_DOC_PATH = path.join(ROOT, "..", "docs", "osc.md");

const { Device } = require(SCRIPT_PATH);

function loadPatcher() {
  return JSON.parse(fs.readFileSync(PATCHER_PATH, "utf8")).patcher;
}

// The value each named box starts with, read from the patcher itself (live.* initial values,
// textedit text, menus at their first item), so the fake device starts where the real one does.
function initialValues(patcher = loadPatcher()) {
  const values = {};
  for (const { box } of patcher.boxes) {
    if (!box.varname) continue;
    const valueof = box.saved_attribute_attributes && box.saved_attribute_attributes.valueof;
    if (box.maxclass === "textedit") values[box.varname] = box.text || "";
    else if (valueof && valueof.parameter_type !== 3) {
      values[box.varname] = valueof.parameter_initial ? valueof.parameter_initial[0] : valueof.parameter_mmin || 0;
    }
  }
  return values;
}

// A little Live set: the app, its view, the song and the track the device sits on.
class FakeLive {
  constructor({ version = [12, 1, 5], view = "Session", slots = [false, false], midi = false, tempo = 120, songTime = 0 } = {}) {
    this.objects = new Map();
    this.nextId = 1;
    this.calls = [];
    this.opened = 0;
    this.app = this.add({ methods: { get_major_version: () => version[0], get_minor_version: () => version[1], get_bugfix_version: () => version[2] } });
    this.view = this.add({ props: { focused_document_view: [view] } });
    this.track = this.add({
      props: { has_midi_input: [midi ? 1 : 0], clip_slots: [], arrangement_clips: [] },
      methods: { create_audio_clip: (file, position) => this.arrangementClip(file, position) },
    });
    this.song = this.add({
      props: { tempo: [tempo], current_song_time: [songTime] },
      methods: { create_scene: (index) => { if (index !== -1) throw new Error("scene index"); this.addSlot(false); } },
    });
    for (const full of slots) this.addSlot(full);
  }

  add(object) {
    const id = this.nextId++;
    object.id = id;
    object.props = object.props || {};
    object.methods = object.methods || {};
    this.objects.set(id, object);
    return object;
  }

  addClip(file, start) {
    return this.add({ props: { name: [""], file_path: [file], start_time: [start] } });
  }

  addSlot(full) {
    const slot = this.add({ props: { has_clip: [full ? 1 : 0], clip: ["id", full ? this.addClip("old.wav", 0).id : 0] } });
    slot.methods.create_audio_clip = (file) => {
      if (slot.props.has_clip[0]) throw new Error("clip slot is not empty");
      slot.props.has_clip = [1];
      slot.props.clip = ["id", this.addClip(file, 0).id];
    };
    this.track.props.clip_slots.push("id", slot.id);
    return slot;
  }

  arrangementClip(file, position) {
    const clip = this.addClip(file, position);
    this.track.props.arrangement_clips.push("id", clip.id);
  }

  resolve(livePath) {
    const named = {
      live_app: this.app,
      "live_app view": this.view,
      live_set: this.song,
      "this_device canonical_parent": this.track,
    };
    if (named[livePath]) return named[livePath];
    const match = /^id (\d+)$/.exec(livePath);
    if (match && this.objects.has(Number(match[1]))) return this.objects.get(Number(match[1]));
    throw new Error(`no Live object at ${livePath}`);
  }

  // What `new LiveAPI(path)` gives: get / set / call on one object.
  api(livePath) {
    this.opened++;
    const object = this.resolve(livePath);
    const live = this;
    return {
      id: object.id,
      get(prop) {
        if (!(prop in object.props)) throw new Error(`no property ${prop} at ${livePath}`);
        return object.props[prop].slice();
      },
      set(prop, value) {
        live.calls.push({ id: object.id, method: "set", args: [prop, value] });
        object.props[prop] = [value];
      },
      call(method, ...args) {
        live.calls.push({ id: object.id, method, args });
        if (!object.methods[method]) throw new Error(`no function ${method} at ${livePath}`);
        return object.methods[method](...args);
      },
    };
  }

  // The calls that change the set (the version queries left out).
  changes() {
    return this.calls.filter((call) => call.id !== this.app.id);
  }

  clip(id) {
    return this.objects.get(id).props;
  }

  slotIds() {
    return this.track.props.clip_slots.filter((x) => x !== "id");
  }
}

// The env the device gets in Max (see sonocanvas.js), recording what goes out of it.
function fakeEnv({ live = new FakeLive(), values = {}, ports = {}, volume = "" } = {}) {
  const env = {
    outlets: [[], []],
    shown: [],
    deferred: [],
    ports,
    volume,
    clock: 1000,
    values: { ...initialValues(), ...values },
    read: [],
    live: null,
    fakeLive: live,
    outlet(index, atoms) {
      env.outlets[index].push(atoms);
    },
    value(name) {
      env.read.push(name);
      return name in env.values ? env.values[name] : null;
    },
    show(name, selector, args) {
      env.shown.push([name, selector, ...args]);
      if (selector === "set") env.values[name] = args.length === 1 ? args[0] : args;
    },
    defer(fn) {
      env.deferred.push(fn);
    },
    every(ms, fn) {
      env.heartbeat = { ms, fn, cancelled: false, cancel() { this.cancelled = true; } };
      return env.heartbeat;
    },
    now: () => env.clock,
    random: () => 0.25,
    post() {},
    flush() {
      while (env.deferred.length) env.deferred.shift()();
    },
    osc() {
      return env.outlets[0].filter((atoms) => String(atoms[0]).startsWith("/"));
    },
    status() {
      const lines = env.shown.filter(([name]) => name === "status");
      return lines.length ? lines[lines.length - 1][2] : undefined;
    },
  };
  env.live = (livePath) => live.api(livePath);
  return env;
}

function loadedDevice(options = {}) {
  const env = fakeEnv(options);
  const device = new Device(env);
  device.loaded();
  return { env, device, live: env.fakeLive };
}

module.exports = { Device, FakeLive, fakeEnv, loadedDevice, loadPatcher, initialValues, PATCHER_PATH, SCRIPT_PATH, OSC_DOC_PATH, ROOT };
