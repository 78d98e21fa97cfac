/*
 * sonocanvas.js: the logic of the sonocanvas Max for Live device (ES5, for Max's `js` object).
 *
 * The device speaks docs/osc.md to `sonocanvas serve`: outlet 0 feeds `udpsend` (OSC messages,
 * plus its `host` and `port` settings), outlet 1 points `udpreceive` at this instance's own reply
 * port. Replies arrive through `udpreceive` -> `deferlow` -> here, so they are handled at low
 * priority, where the Live API may be used; the Live API calls themselves are deferred once more
 * (a Task), because Live refuses changes to the set made from inside a notification.
 *
 * Everything Max-specific is reached through `env`, so node tests drive this same code with fakes:
 *   env.outlet(index, atoms)        send a message out of an outlet
 *   env.value(name)                 the current value of the patcher box with that scripting name
 *   env.show(name, selector, args)  send a message to the patcher box with that scripting name
 *   env.live(path)                  a LiveAPI object for a Live Object Model path
 *   env.defer(fn)                   run fn later, on the low-priority thread
 *   env.every(ms, fn)               run fn every ms milliseconds (the heartbeat); returns a Task-like .cancel()
 *   env.ports                       reply ports taken by the sonocanvas devices of this Live
 *   env.volume                      on a Mac, the name of the drive Live runs from ("" elsewhere)
 *   env.now(), env.random(), env.post(text)
 */
autowatch = 1;
inlets = 1;
outlets = 2;

var ADDRESS = {
    hello: "/sonocanvas/hello",
    generate: "/sonocanvas/generate",
    cancel: "/sonocanvas/cancel",
    status: "/sonocanvas/status",
    audition: "/sonocanvas/audition",
    stop: "/sonocanvas/stop",
    presetList: "/sonocanvas/preset/list",
    presetGet: "/sonocanvas/preset/get",
    fxList: "/sonocanvas/fx/list"
};

var DEFAULT_HOST = "127.0.0.1";
var DEFAULT_SERVER_PORT = 9010;
var FIRST_REPLY_PORT = 9011;
var HEARTBEAT_MS = 2000;
var SILENCE_MS = 5000;
var NONE = "(none)";
var AUDIO_MODELS = ["auffusion", "riffusion"];
var LIVE_WITH_AUDIO_CLIPS = [12, 0, 5];
var SEED_MAX = 999999;

/* ---------- small helpers ---------- */

function text(value) {
    if (value === null || value === undefined) {
        return "";
    }
    if (value instanceof Array) {
        return value.join(" ").replace(/^\s+|\s+$/g, "");
    }
    return String(value).replace(/^\s+|\s+$/g, "");
}

function number(value) {
    if (value instanceof Array) {
        value = value[value.length - 1];
    }
    var n = Number(value);
    return isNaN(n) ? 0 : n;
}

function clamp(n, low, high) {
    return Math.min(high, Math.max(low, n));
}

function ids(list) {
    var out = [];
    for (var i = 0; i + 1 < list.length; i += 2) {
        if (list[i] === "id" && Number(list[i + 1]) !== 0) {
            out.push(Number(list[i + 1]));
        }
    }
    return out;
}

function atLeast(version, wanted) {
    for (var i = 0; i < wanted.length; i++) {
        if (version[i] !== wanted[i]) {
            return version[i] > wanted[i];
        }
    }
    return true;
}

function basename(path) {
    return String(path).replace(/^.*[\/\\]/, "");
}

/* The seed the server used, from the drop folder name `..._s<seed>[_v<index>][-<n>].wav`. */
function seedOf(wavPath) {
    var match = /_s(\d+)(?:_v\d+)?(?:-\d+)?\.wav$/.exec(basename(wavPath));
    return match ? Number(match[1]) : null;
}

/* Live on a Mac takes absolute paths as /Volumes/<drive name>/... (see the LOM's create_audio_clip). */
function livePath(path, volume) {
    if (!volume || path.charAt(0) !== "/" || path.indexOf("/Volumes/") === 0) {
        return path;
    }
    return "/Volumes/" + volume + path;
}

function shorten(prompt, length) {
    return prompt.length > length ? prompt.substring(0, length - 1) + "\u2026" : prompt;
}

/* A clip's name: what it shows, what it sounds like, and the seed that makes it again. */
function clipName(job, index, wavPath) {
    var seed = seedOf(wavPath);
    var parts = [];
    if (job.imagePrompt) {
        parts.push(shorten(job.imagePrompt, 40));
    }
    if (job.audioPrompt) {
        parts.push(shorten(job.audioPrompt, 40));
    }
    if (!parts.length) {
        parts.push(job.preset);
    }
    var name = parts.join(" / ") + " s" + (seed === null ? job.seed + index : seed);
    return job.variations > 1 ? name + " v" + (index + 1) : name;
}

/* ---------- the device ---------- */

function Device(env) {
    this.env = env;
    this.isLoaded = false;
    this.connected = false;
    this.lastReplyAt = 0;
    this.server = "";
    this.replyPort = 0;
    this.jobs = {};
    this.jobCount = 0;
    /* job ids are unique across reloads too: an old job may still run, or be reported after a restart */
    this.jobPrefix = "sc" + Math.floor(env.now() / 1000).toString(36).slice(-5) + "-";
    this.presetNames = [];
    this.fxNames = [];
    this.lastWav = "";
    this.liveVersion = null;
    this.heartbeat = null;
}

Device.prototype.send = function (address, args) {
    this.env.outlet(0, [address].concat(args || []));
};

Device.prototype.status = function (line) {
    this.env.show("status", "set", [line]);
};

Device.prototype.progress = function (fraction) {
    this.env.show("progress", "set", [fraction]);
};

Device.prototype.light = function (on) {
    this.connected = on;
    this.env.show("light", "int", [on ? 1 : 0]);
};

/* `live.thisdevice` says the device is loaded: only now may the Live API be touched. */
Device.prototype.loaded = function () {
    var self = this;
    this.isLoaded = true;
    this.connect();
    this.env.defer(function () {
        self.readLiveVersion();
    });
    if (!this.heartbeat) {
        this.heartbeat = this.env.every(HEARTBEAT_MS, function () {
            self.tick();
        });
    }
};

/* (Re)point udpsend at the server and udpreceive at this device's reply port, then say hello. */
Device.prototype.connect = function () {
    if (!this.isLoaded) {
        return;
    }
    var host = text(this.env.value("host")) || DEFAULT_HOST;
    var port = Math.round(number(this.env.value("server_port"))) || DEFAULT_SERVER_PORT;
    this.releasePort();
    this.replyPort = this.claimPort(Math.round(number(this.env.value("reply_port"))), port);
    this.server = host + ":" + port;
    this.env.outlet(1, ["port", this.replyPort]);
    this.env.outlet(0, ["host", host]);
    this.env.outlet(0, ["port", port]);
    this.light(false);
    this.status("Connecting to " + this.server + ", replies on port " + this.replyPort);
    this.send(ADDRESS.hello, [this.replyPort]);
};

/* Each device instance listens on its own port, so several devices on several tracks work at once. */
Device.prototype.claimPort = function (wanted, serverPort) {
    var ports = this.env.ports;
    if (wanted > 0 && !ports[wanted]) {
        ports[wanted] = true;
        return wanted;
    }
    var port = FIRST_REPLY_PORT;
    while (ports[port] || port === serverPort) {
        port++;
    }
    ports[port] = true;
    return port;
};

Device.prototype.releasePort = function () {
    if (this.replyPort) {
        delete this.env.ports[this.replyPort];
        this.replyPort = 0;
    }
};

Device.prototype.free = function () {
    if (this.heartbeat) {
        this.heartbeat.cancel();
        this.heartbeat = null;
    }
    this.releasePort();
};

/* Heartbeat: a silent server turns the light off; while it is off, keep saying hello. */
Device.prototype.tick = function () {
    if (!this.isLoaded) {
        return;
    }
    if (this.connected && this.env.now() - this.lastReplyAt > SILENCE_MS) {
        this.light(false);
        this.status("No answer from " + this.server + ": is `sonocanvas serve` running?");
    }
    if (this.connected) {
        this.send(ADDRESS.status);
    } else {
        this.send(ADDRESS.hello, [this.replyPort]);
    }
};

/* The menus hold "(none)" and then the server's names. */
Device.prototype.chosen = function (names, control) {
    var index = Math.round(number(this.env.value(control)));
    return index >= 1 && index <= names.length ? names[index - 1] : "";
};

Device.prototype.seed = function () {
    if (number(this.env.value("seed_lock"))) {
        return clamp(Math.round(number(this.env.value("seed"))), 0, SEED_MAX);
    }
    var seed = Math.floor(this.env.random() * (SEED_MAX + 1));
    this.env.show("seed", "set", [seed]);
    return seed;
};

/* The song's tempo when "fit to bars" is on, so the clip lasts a whole number of bars. */
Device.prototype.tempo = function () {
    return number(this.env.live("live_set").get("tempo"));
};

Device.prototype.generate = function () {
    if (!this.isLoaded) {
        this.status("Still loading; try again in a moment");
        return null;
    }
    var imagePrompt = text(this.env.value("image_prompt"));
    var audioPrompt = text(this.env.value("audio_prompt"));
    var preset = this.chosen(this.presetNames, "preset");
    if (!preset && !imagePrompt) {
        this.status("image prompt: type what the picture shows, or pick a preset");
        return null;
    }
    if (!preset && !audioPrompt) {
        this.status("audio prompt: type what the sound is, or pick a preset");
        return null;
    }
    var guidance = clamp(number(this.env.value("guidance")), 0, 50);
    var job = {
        id: this.jobPrefix + (++this.jobCount),
        imagePrompt: imagePrompt,
        audioPrompt: audioPrompt,
        preset: preset,
        seed: this.seed(),
        variations: clamp(Math.round(number(this.env.value("variations"))), 1, 8),
        done: 0
    };
    var args = [job.id];
    if (preset) {
        args.push("preset", preset);
    }
    if (imagePrompt) {
        args.push("image_prompt", imagePrompt);
    }
    if (audioPrompt) {
        args.push("audio_prompt", audioPrompt);
    }
    args.push(
        "seed", job.seed,
        "steps", clamp(Math.round(number(this.env.value("steps"))), 1, 500),
        "image_guidance", guidance,
        "audio_guidance", guidance,
        "audio_weight", clamp(number(this.env.value("audio_weight")), 0, 1),
        "variations", job.variations,
        "audio_model", AUDIO_MODELS[clamp(Math.round(number(this.env.value("audio_model"))), 0, 1)]
    );
    var fx = this.chosen(this.fxNames, "fx");
    if (fx) {
        args.push("fx", fx);
    }
    if (number(this.env.value("fit_bars"))) {
        args.push("bpm", clamp(this.tempo(), 20, 999), "bars", clamp(Math.round(number(this.env.value("bars"))), 1, 64));
    }
    args.push("reply_port", this.replyPort);
    this.jobs[job.id] = job;
    this.progress(0);
    this.status("Sent to " + this.server + (this.connected ? "" : " (not connected yet)"));
    this.send(ADDRESS.generate, args);
    return job.id;
};

Device.prototype.cancel = function () {
    var any = false;
    for (var id in this.jobs) {
        if (this.jobs.hasOwnProperty(id)) {
            this.send(ADDRESS.cancel, [id]);
            any = true;
        }
    }
    if (!any) {
        this.status("Nothing to cancel");
    }
};

Device.prototype.audition = function () {
    if (!this.lastWav) {
        this.status("Audition: no clip yet; generate one first");
        return;
    }
    this.send(ADDRESS.audition, [this.lastWav]);
};

Device.prototype.stop = function () {
    this.send(ADDRESS.stop);
};

/* A preset picked from the menu: ask for its values, to show them in the controls. */
Device.prototype.presetChosen = function () {
    var name = this.chosen(this.presetNames, "preset");
    if (this.isLoaded && name) {
        this.send(ADDRESS.presetGet, [name]);
    }
};

/* ---------- replies ---------- */

Device.prototype.receive = function (address, args) {
    var handler = REPLIES[address];
    this.lastReplyAt = this.env.now();
    if (!this.connected) {
        this.light(true);
    }
    if (handler) {
        handler.call(this, args);
    } else {
        this.env.post("sonocanvas: ignored reply " + address);
    }
};

var REPLIES = {};

REPLIES["/sonocanvas/ready"] = function (args) {
    this.status("Connected: sonocanvas " + args[0] + " on " + args[1] + " (" + args[2] + ")");
    this.send(ADDRESS.presetList);
    this.send(ADDRESS.fxList);
};

REPLIES["/sonocanvas/queued"] = function (args) {
    if (this.jobs[args[0]]) {
        this.status(Number(args[1]) <= 1 ? "Starting..." : "Queued: " + (Number(args[1]) - 1) + " job(s) ahead");
    }
};

REPLIES["/sonocanvas/progress"] = function (args) {
    if (this.jobs[args[0]]) {
        var step = Number(args[1]);
        var total = Number(args[2]);
        this.progress(total > 0 ? step / total : 0);
        this.status("Generating: step " + step + " of " + total);
    }
};

REPLIES["/sonocanvas/done"] = function (args) {
    var job = this.jobs[args[0]];
    if (!job) {
        return;
    }
    var index = Number(args[1]);
    var wav = String(args[2]);
    var self = this;
    var name = clipName(job, index, wav);
    job.done++;
    if (job.done >= job.variations) {
        delete this.jobs[job.id];
    }
    this.lastWav = wav;
    this.progress(1);
    this.env.show("picture", "read", [String(args[3])]);
    this.status("Done: " + name);
    this.env.defer(function () {
        self.placeClip(wav, name);
    });
};

REPLIES["/sonocanvas/cancelled"] = function (args) {
    if (this.jobs[args[0]]) {
        delete this.jobs[args[0]];
        this.progress(0);
        this.status("Cancelled");
    }
};

REPLIES["/sonocanvas/error"] = function (args) {
    var job = String(args[0]);
    if (job && this.jobs[job]) {
        delete this.jobs[job];
        this.progress(0);
    }
    this.status("Error: " + args[1] + ": " + args[2]);
};

REPLIES["/sonocanvas/status"] = function () {
    /* the heartbeat's answer: receive() has already noted that the server is there */
};

REPLIES["/sonocanvas/playing"] = function (args) {
    this.status("Playing " + basename(args[0]));
};

REPLIES["/sonocanvas/stopped"] = function () {
    this.status("Audition stopped");
};

REPLIES["/sonocanvas/preset/names"] = function (args) {
    this.presetNames = args.slice(0);
    this.env.show("preset", "_parameter_range", [NONE].concat(this.presetNames));
};

REPLIES["/sonocanvas/fx/names"] = function (args) {
    this.fxNames = args.slice(0);
    this.env.show("fx", "_parameter_range", [NONE].concat(this.fxNames));
};

/* A preset's values, shown in the controls they belong to (keys the device has no control for
 * still reach the server, because generate sends the preset's name along). */
REPLIES["/sonocanvas/preset"] = function (args) {
    var shown = {
        image_prompt: "image_prompt",
        audio_prompt: "audio_prompt",
        steps: "steps",
        image_guidance: "guidance",
        audio_weight: "audio_weight",
        variations: "variations"
    };
    for (var i = 1; i + 1 < args.length; i += 2) {
        var key = args[i];
        var value = args[i + 1];
        if (shown[key]) {
            this.env.show(shown[key], "set", [value]);
        } else if (key === "seed" && Number(value) >= 0) {
            this.env.show("seed", "set", [Number(value)]);
            this.env.show("seed_lock", "set", [1]);
        } else if (key === "audio_model" && AUDIO_MODELS.indexOf(value) >= 0) {
            this.env.show("audio_model", "set", [AUDIO_MODELS.indexOf(value)]);
        } else if (key === "fx") {
            this.env.show("fx", "set", [this.fxNames.indexOf(value) + 1]);
        }
    }
    this.status("Preset " + args[0]);
};

/* ---------- clips onto the track ---------- */

Device.prototype.readLiveVersion = function () {
    var app = this.env.live("live_app");
    this.liveVersion = [
        number(app.call("get_major_version")),
        number(app.call("get_minor_version")),
        number(app.call("get_bugfix_version"))
    ];
};

/* Runs deferred: into the first free clip slot of this device's track (a new scene when none is
 * free), or in the Arrangement at the insert marker when the Arrangement is in view. */
Device.prototype.placeClip = function (wav, name) {
    if (!this.liveVersion) {
        this.readLiveVersion();
    }
    if (!atLeast(this.liveVersion, LIVE_WITH_AUDIO_CLIPS)) {
        this.status("Live " + this.liveVersion.join(".") + " cannot place clips (Live 12.0.5 or later can): drag in " + wav);
        return;
    }
    try {
        var track = this.env.live("this_device canonical_parent");
        if (number(track.get("has_midi_input")) === 1) {
            this.status("This is a MIDI track; put the device on an audio track. The clip is at " + wav);
            return;
        }
        var view = text(this.env.live("live_app view").get("focused_document_view"));
        var file = livePath(wav, this.env.volume);
        if (view === "Arranger") {
            this.placeInArrangement(track, file, name);
        } else {
            this.placeInSession(track, file, name);
        }
    } catch (error) {
        this.status("Could not place the clip (" + error.message + "): drag in " + wav);
    }
};

Device.prototype.placeInSession = function (track, file, name) {
    var slots = ids(track.get("clip_slots"));
    var free = -1;
    for (var i = 0; i < slots.length && free < 0; i++) {
        if (number(this.env.live("id " + slots[i]).get("has_clip")) === 0) {
            free = i;
        }
    }
    if (free < 0) {
        this.env.live("live_set").call("create_scene", -1);
        slots = ids(track.get("clip_slots"));
        free = slots.length - 1;
    }
    var slot = this.env.live("id " + slots[free]);
    slot.call("create_audio_clip", file);
    this.env.live("id " + ids(slot.get("clip"))[0]).set("name", name);
    this.status("Placed \u201c" + name + "\u201d in scene " + (free + 1));
};

Device.prototype.placeInArrangement = function (track, file, name) {
    var position = number(this.env.live("live_set").get("current_song_time"));
    track.call("create_audio_clip", file, position);
    var clips = ids(track.get("arrangement_clips"));
    for (var i = clips.length - 1; i >= 0; i--) {
        var clip = this.env.live("id " + clips[i]);
        if (basename(text(clip.get("file_path"))) === basename(file) && number(clip.get("start_time")) === position) {
            clip.set("name", name);
            break;
        }
    }
    this.status("Placed \u201c" + name + "\u201d in the Arrangement at beat " + position);
};

/* ---------- Max entry points ---------- */

function maxEnvironment(jsthis) {
    var pending = [];
    return {
        outlet: function (index, atoms) {
            jsthis.outlet(index, atoms);
        },
        value: function (name) {
            var box = jsthis.patcher.getnamed(name);
            return box ? box.getvalueof() : null;
        },
        show: function (name, selector, args) {
            var box = jsthis.patcher.getnamed(name);
            if (box) {
                box.message.apply(box, [selector].concat(args));
            } else {
                post("sonocanvas: no box named " + name + "\n");
            }
        },
        live: function (path) {
            return new LiveAPI(path);
        },
        defer: function (fn) {
            var task = new Task(function () {
                pending.splice(pending.indexOf(task), 1);
                fn();
            });
            pending.push(task);
            task.schedule(0);
        },
        every: function (ms, fn) {
            var task = new Task(fn);
            task.interval = ms;
            task.repeat();
            return task;
        },
        ports: new Global("sonocanvas_reply_ports"),
        volume: max.os === "macintosh" ? String(max.apppath).split(":")[0] : "",
        now: function () {
            return new Date().getTime();
        },
        random: Math.random,
        post: function (line) {
            post(line + "\n");
        }
    };
}

/* Only the functions below answer messages from the patcher; these are not messages. */
text.local = number.local = clamp.local = ids.local = atLeast.local = basename.local = 1;
seedOf.local = livePath.local = shorten.local = clipName.local = Device.local = maxEnvironment.local = 1;

var device = null;

function loaded() {
    device.loaded();
}

function connect() {
    device.connect();
}

function generate() {
    device.generate();
}

function cancel() {
    device.cancel();
}

function audition() {
    device.audition();
}

function stop() {
    device.stop();
}

function preset() {
    device.presetChosen();
}

function anything() {
    var atoms = arrayfromargs(messagename, arguments);
    device.receive(atoms[0], atoms.slice(1));
}

/* Max calls this when the device is deleted: give its reply port back. */
function notifydeleted() {
    device.free();
}

if (typeof module !== "undefined" && module.exports) {
    module.exports = {
        Device: Device,
        ADDRESS: ADDRESS,
        REPLIES: REPLIES,
        clipName: clipName,
        seedOf: seedOf,
        livePath: livePath,
        outlets: outlets
    };
} else {
    device = new Device(maxEnvironment(this));
}
