// The device's patcher run as Max runs it, for the objects the device uses: its boxes and patch lines from
// sonocanvas.maxpat, and sonocanvas.js loaded in a `js` box with the globals Max's js gives a script (JSJS: the
// js object reference, https://docs.cycling74.com/apiref/js/: LiveAPI, Task, Global, Dict, post, outlet,
// arrayfromargs, messagename, this.patcher). Nothing of the device is bypassed: a keystroke in a
// textedit goes out of the textedit's middle outlet, along the patcher's lines, into the script, the pattrs.
//
// The behaviours modelled, each from its Max reference page:
//   textedit   (typing) "The ASCII value of the character typed is sent out the middle outlet"; bang, with the
//              default bangmode 0 ("Bang Outputs Typed Text"), outputs "the text currently being typed" out the
//              left outlet, "preceded by the word text"; `set` "sets the contents ... while causing no output";
//              with keymode 1 the carriage return outputs the contents.
//   deferlow   passes its input on later, from the back of the low-priority queue (here: idle()).
//   t b        a bang for any input.            prepend   its arguments before the input.
//   message    its text, on any input.          udpsend   sends (recorded in `sent`).
//   pattr      holds a value (getvalueof/setvalueof); its value is what the set stores (a parameter, saved()),
//              restored before live.thisdevice bangs (Max User Guide, "Patcher Lifecycle": pattr restoration,
//              then loadbang, then live.thisdevice); bound with @bindto, it sets its object, and takes the
//              object's value when the object outputs it (a textedit: on Return).
//   live.thisdevice  bangs its left outlet once the device is loaded (open()).
//   live.text  (button) its left outlet on a click (press()).
//   Task       schedule(ms) runs once after ms, repeat() every `interval` ms (on this runtime's clock).
"use strict";

const fs = require("node:fs");
const vm = require("node:vm");
const { loadPatcher, initialValues, FakeLive, SCRIPT_PATH } = require("./fakes.js");

const SCRIPT = fs.readFileSync(SCRIPT_PATH, "utf8");

// The words of a textedit's buffer, as Max atoms (numbers where a word is one).
function atoms(textValue) {
  return String(textValue).split(/\s+/).filter((word) => word !== "").map((word) => (/^-?\d+(\.\d+)?$/.test(word) ? Number(word) : word));
}

class MaxPatcher {
  // `restored`: the stored values of the set being opened (what saved() gave), by scripting name.
  // `os`: Max's max.os, "macintosh" or "windows" (docs.cycling74.com/apiref/js/max).
  constructor({ patcher = loadPatcher(), live = new FakeLive(), restored = {}, os = "macintosh" } = {}) {
    this.live = live;
    this.os = os;
    this.clock = 0;
    this.lowQueue = [];
    this.tasks = [];
    this.sent = [];
    this.posted = [];
    this.globals = {};
    this.objects = new Map();
    this.named = new Map();
    this.lines = patcher.lines.map(({ patchline }) => patchline);
    for (const { box } of patcher.boxes) this.add(box);
    const initial = initialValues(patcher);
    for (const [name, value] of Object.entries(initial)) {
      const object = this.named.get(name);
      if (object.kind !== "textedit") object.value = value;
    }
    for (const object of this.objects.values()) {
      if (object.kind === "pattr" && object.name in restored) object.value = restored[object.name];
    }
    for (const object of this.objects.values()) if (object.kind === "pattr") object.restore();
  }

  add(box) {
    const object = this.make(box);
    object.box = box;
    this.objects.set(box.id, object);
    if (box.varname) this.named.set(box.varname, object);
    return object;
  }

  // A runtime object for a box: { kind, receive(inlet, message) } plus what its class has.
  make(box) {
    const runtime = this;
    const out = (index, message) => this.outlet(box.id, index, message);
    const [word, ...args] = box.maxclass === "newobj" ? box.text.split(/\s+/) : [box.maxclass];
    switch (word) {
      case "textedit":
        return {
          kind: "textedit",
          buffer: box.text || "",
          type(character) {
            if (character === "\r" && box.keymode === 1) return out(0, ["text", ...atoms(this.buffer)]);
            this.buffer += character;
            out(1, [character.charCodeAt(0)]);
          },
          receive(inlet, [selector, ...rest]) {
            if (selector === "bang") out(0, ["text", ...atoms(this.buffer)]);
            else if (selector === "set") this.buffer = rest.join(" ");
          },
          getvalueof() { return atoms(this.buffer); },
          setvalueof(value) { this.buffer = [].concat(value).join(" "); },
        };
      case "deferlow":
        return { kind: "deferlow", receive(inlet, message) { runtime.lowQueue.push(() => out(0, message)); } };
      case "t":
        return { kind: "t", receive() { for (let i = args.length - 1; i >= 0; i--) out(i, ["bang"]); } };
      case "prepend":
        return { kind: "prepend", receive(inlet, message) { out(0, [...args, ...message]); } };
      case "message":
        return { kind: "message", receive() { out(0, atoms(box.text)); } };
      case "udpsend":
        return { kind: "udpsend", receive(inlet, message) { runtime.sent.push(message); } };
      case "pattr": {
        const bound = box.text.match(/@bindto (\S+)/);
        return {
          kind: "pattr",
          name: args[0],
          value: null,
          writes: 0,
          boundTo: bound ? bound[1] : null,
          restore() {
            if (this.boundTo && this.value !== null) runtime.named.get(this.boundTo).setvalueof(this.value);
          },
          receive(inlet, message) { this.setvalueof(message); },
          getvalueof() { return this.value; },
          setvalueof(value) {
            this.writes++;
            this.value = value;
            if (this.boundTo) runtime.named.get(this.boundTo).setvalueof(value);
          },
        };
      }
      case "js":
        return this.script(box);
      default:
        // live.* controls and the rest: a value, messages that set it, and nothing out.
        return {
          kind: box.maxclass,
          value: null,
          receive(inlet, [selector, ...rest]) { if (selector === "set") this.value = rest.length === 1 ? rest[0] : rest; },
          getvalueof() { return this.value; },
          setvalueof(value) { this.value = value; },
        };
    }
  }

  // The js box: sonocanvas.js in a context with what Max's js gives a script.
  script(box) {
    const runtime = this;
    // What Max hands a script is made in the script's own realm (an array from LiveAPI.get passes
    // `instanceof Array` there): values going in are copied into the context's realm.
    let local = (value) => value;
    const wrap = (object) => object && {
      varname: object.box.varname,
      getvalueof: () => local(object.getvalueof()),
      setvalueof: (value) => object.setvalueof(value),
      message: (selector, ...rest) => object.receive(0, [selector, ...rest]),
    };
    class Task {
      constructor(fn) { this.fn = fn; this.interval = 0; this.due = null; this.every = 0; runtime.tasks.push(this); }
      schedule(ms = 0) { this.due = runtime.clock + ms; this.every = 0; }
      repeat() { this.every = this.interval; this.due = runtime.clock + this.interval; }
      cancel() { this.due = null; }
    }
    const context = {
      post: (line) => runtime.posted.push(String(line)),
      max: { os: runtime.os },
      outlet: (index, ...rest) => runtime.outlet(box.id, index, rest.flat()),
      messagename: "",
      LiveAPI: function LiveAPI(path) {
        const api = runtime.live.api(path);
        return { ...api, get: (prop) => local(api.get(prop)), call: (...more) => local(api.call(...more)) };
      },
      Task,
      Global: function Global(name) { return (runtime.globals[name] = runtime.globals[name] || {}); },
      // Max's Dict: named key-value storage, here just get and set (what a LOM dict argument needs).
      Dict: function Dict() {
        const entries = {};
        return { set: (k, v) => { entries[k] = v; }, get: (k) => entries[k] };
      },
      patcher: {
        getnamed: (name) => wrap(runtime.named.get(name)),
        newdefault: (x, y, className, ...rest) => {
          const made = runtime.add({ id: `made-${runtime.objects.size}`, maxclass: "newobj", text: [className, ...rest].join(" ") });
          return {
            set varname(name) { made.box.varname = name; runtime.named.set(name, made); },
            message: (selector, ...more) => made.receive(0, [selector, ...more]),
            made,
          };
        },
        connect: (from, outlet, to, inlet) => {
          const id = (end) => (end.made ? end.made.box.id : runtime.named.get(end.varname).box.id);
          runtime.lines.push({ source: [id(from), outlet], destination: [id(to), inlet] });
        },
      },
    };
    vm.createContext(context);
    local = vm.runInContext("(function local(v) { return Array.isArray(v) ? v.map(local) : v; })", context);
    vm.runInContext("function arrayfromargs(a, b) { var out = [], i; if (b === undefined) { b = a; } else { out.push(a); }" +
      " for (i = 0; i < b.length; i++) { out.push(b[i]); } return out; }", context);
    vm.runInContext(SCRIPT, context, { filename: SCRIPT_PATH });
    return {
      kind: "js",
      context,
      receive(inlet, [selector, ...rest]) {
        const fn = context[selector];
        context.messagename = String(selector);
        if (typeof fn === "function" && !fn.local) fn.apply(context, rest);
        else context.anything.apply(context, rest);
      },
    };
  }

  outlet(id, index, message) {
    for (const line of this.lines) {
      if (line.source[0] === id && line.source[1] === index) this.objects.get(line.destination[0]).receive(line.destination[1], message);
    }
    const object = this.objects.get(id);
    if (object.kind === "textedit" && index === 0) {
      for (const other of this.objects.values()) {
        if (other.kind === "pattr" && other.boundTo === object.box.varname) other.value = object.getvalueof();
      }
    }
  }

  // The device opened: live.thisdevice bangs, then what that set going runs.
  open() {
    const [device] = [...this.objects.values()].filter((o) => o.box.text === "live.thisdevice");
    this.outlet(device.box.id, 0, ["bang"]);
    this.idle();
    return this;
  }

  // The low-priority queue and the tasks due now run until nothing is left to run.
  idle() {
    for (;;) {
      if (this.lowQueue.length) {
        this.lowQueue.shift()();
        continue;
      }
      const task = this.tasks.filter((t) => t.due !== null && t.due <= this.clock).sort((a, b) => a.due - b.due)[0];
      if (!task) return;
      task.due = task.every ? task.due + task.every : null;
      task.fn();
    }
  }

  advance(ms) {
    const end = this.clock + ms;
    for (;;) {
      const next = this.tasks.filter((t) => t.due !== null && t.due <= end).sort((a, b) => a.due - b.due)[0];
      if (!next) break;
      this.clock = Math.max(this.clock, next.due);
      this.idle();
    }
    this.clock = end;
    this.idle();
  }

  // A musician typing `text` into the textedit named `name`, one key at a time (a person types slower than
  // the low-priority queue runs), without pressing Return.
  type(name, textValue) {
    for (const character of textValue) {
      this.named.get(name).type(character);
      this.idle();
    }
  }

  press(name) {
    this.outlet(this.named.get(name).box.id, 0, ["bang"]);
    this.idle();
  }

  // A file dragged from the Finder or Explorer onto the dropfile named `name`: its left outlet sends "the absolute
  // pathname of the file ... as a single symbol", in Max's slash style (docs.cycling74.com/reference/dropfile).
  drop(name, path) {
    this.outlet(this.named.get(name).box.id, 0, [path]);
    this.idle();
  }

  // What the set stores for this device: the value of each pattr that is a parameter, by scripting name.
  saved() {
    const values = {};
    for (const object of this.objects.values()) {
      if (object.kind === "pattr" && object.box.saved_object_attributes && object.box.saved_object_attributes.parameter_enable) {
        values[object.name] = object.value;
      }
    }
    return values;
  }
}

module.exports = { MaxPatcher };
