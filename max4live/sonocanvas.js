/*
 * sonocanvas.js: the logic of the sonocanvas Max for Live device (ES5, for Max's `js` object).
 *
 * The device speaks docs/osc.md to `sonocanvas serve`: outlet 0 feeds `udpsend` (OSC messages,
 * plus its `host` and `port` settings). Replies arrive on this instance's own reply port through a
 * `udpreceive` that the script itself creates once it has claimed a free port (a `udpreceive` saved
 * in the patcher would bind its port the moment the device loads, taking it from another device),
 * then through `deferlow` to here, so they are handled at low priority, where the Live API may be
 * used; the Live API calls that change the set are deferred once more (a Task), because Live
 * refuses changes made from inside a notification.
 *
 * Everything Max-specific is reached through `env`, so node tests drive this same code with fakes:
 *   env.outlet(index, atoms)        send a message out of an outlet
 *   env.value(name)                 the current value of the patcher box with that scripting name
 *   env.show(name, selector, args)  send a message to the patcher box with that scripting name
 *   env.store(name, value)          set a pattr's value (saved with the Live set)
 *   env.listen(port)                point the reply `udpreceive` at a port (made on first use)
 *   env.live(path)                  a LiveAPI object for a Live Object Model path
 *   env.dict(values)                a Max Dict of those keys and values (what LiveAPI.call passes as a LOM dict)
 *   env.defer(fn)                   run fn later, on the low-priority thread
 *   env.every(ms, fn)               run fn every ms milliseconds (the heartbeat); returns a Task-like .cancel()
 *   env.after(ms, fn)               run fn once, ms milliseconds from now; returns a Task-like .cancel()
 *   env.ports                       reply ports taken by the sonocanvas devices of this Live
 *   env.now(), env.random(), env.post(text)
 */
autowatch = 0;
inlets = 1;
outlets = 1;

var ADDRESS = {
    hello: "/sonocanvas/hello",
    limits: "/sonocanvas/limits",
    generate: "/sonocanvas/generate",
    stylize: "/sonocanvas/stylize",
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
/* The server's audio-model kinds, in its order (engine/catalog.py; the model menu's items; a test checks all three agree). */
var AUDIO_MODELS = ["auffusion", "riffusion"];
/* ClipSlot.create_audio_clip came with Live 12.0.5, Track.create_audio_clip (Arrangement clips) with 12.1 (LOM). */
var LIVE_WITH_AUDIO_CLIPS = [12, 0, 5];
var LIVE_WITH_ARRANGEMENT_CLIPS = [12, 1, 0];
/* The seed box's range: a seed the device picks must be one it can show. */
var SEED_MAX = 999999;
/* Track.create_audio_clip takes start_time in [0, 1576800] beats (LOM). */
var LAST_BEAT = 1576800;
/* The generate keys whose values are whole numbers (docs/osc.md); OSC floats and ints both reach js as numbers. */
var INTEGER_KEYS = ["seed", "steps", "variations", "keep", "bars", "preview"];
/* The server's bars are bars of 4/4 (docs/osc.md, `bpm`), so a bar is 4 beats. */
var BEATS_PER_BAR = 4;
/* With Keep on, the device asks for a ranking by both scores (docs/osc.md `rank`). */
var RANK = "both";
/* Steps between the previews the server sends while a clip forms (docs/osc.md, `preview`): the picture panel
 * shows each, and the real picture when the clip is done. */
var PREVIEW_EVERY = 5;
/* Why Keep is greyed out: the server said (in /sonocanvas/ready) that it has nothing to rank with. */
var NO_SCORERS = "this server has no CLIP or CLAP scorer to rank candidates with";
/* What may be dropped onto the picture panel for See: the pictures that both fpic shows (its reference recommends
 * PNG) and the server reads. */
var DROPPED_PICTURE = /\.(png|jpe?g)$/i;
/* The prompt boxes (textedit) and the pattr that keeps each with the Live set. The pattr is not bound to its
 * box: the patcher sends the text on every keystroke (textedit's middle outlet, then a deferred bang, which with
 * the default bangmode "outputs the text currently being typed"), so the set keeps a prompt never confirmed
 * with Return; the script writes the pattr, and at load puts its value back in the box. */
var PROMPTS = { image_prompt: "image_prompt_text", audio_prompt: "audio_prompt_text" };
/* A prompt is written to its pattr once typing pauses this long: each write is a change of a stored parameter,
 * an undo step in Live, and the production guidelines ask that Live's undo menu is never flooded. */
var TYPING_PAUSE_MS = 1000;

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

/* A bool from a server: int 0/1 (docs/osc.md), or the "T"/"F" or "True"/"False" text some servers send. */
function bool(value) {
    var text = String(value);
    if (text === "T" || text === "True" || text === "true") {
        return true;
    }
    if (text === "F" || text === "False" || text === "false") {
        return false;
    }
    return number(value) !== 0;
}

function clamp(n, low, high) {
    return Math.min(high, Math.max(low, n));
}

/* LiveAPI gives lists of children as `id N id M ...` (LOM); id 0 means "none". */
function ids(list) {
    var out = [];
    list = list || [];
    for (var i = 0; i + 1 < list.length; i += 2) {
        if (list[i] === "id" && Number(list[i + 1]) !== 0) {
            out.push(Number(list[i + 1]));
        }
    }
    return out;
}

/* A LiveAPI object that exists: for a path with nothing behind it LiveAPI gives id 0. */
function exists(api) {
    return Number(api.id) !== 0;
}

function atLeast(version, wanted) {
    for (var i = 0; i < wanted.length; i++) {
        if (version[i] !== wanted[i]) {
            return version[i] > wanted[i];
        }
    }
    return true;
}

/* "; kept K of N" for a job that keeps the best K of N candidates (N as the server counted them), else "". */
function kept(job) {
    return job.keep ? "; kept " + job.keep + " of " + (job.candidates || job.variations) : "";
}

/* A path as Max's own objects take it (fpic's `read` here): the standard Max path syntax is `Drive:/path/to/file`
 * (Max reference, conformpath), so a Windows path's backslashes become slashes (`C:\a\b.wav` -> `C:/a/b.wav`,
 * `\\server\share` -> `//server/share`); a macOS or Linux path is already one. LiveAPI takes the native
 * path (LOM ClipSlot.create_audio_clip: "an absolute path"), so only Max's objects get this one. */
function maxPath(path) {
    path = String(path);
    return /^([A-Za-z]:)?\\/.test(path) ? path.replace(/\\/g, "/") : path;
}

function basename(path) {
    return String(path).replace(/^.*[\/\\]/, "");
}

/* The seed the server used, from the drop folder name `..._s<seed>[_v<index>][-<n>].wav`. */
function seedOf(wavPath) {
    var match = /_s(\d+)(?:_v\d+)?(?:-\d+)?\.wav$/.exec(basename(wavPath));
    return match ? Number(match[1]) : null;
}

/* Whether a prompt is given in sections ("church bells @4 | choir"): engine/sections.py (has_sections) is the
 * rule, and test/server-tables.test.js holds this copy to its answers. */
function hasSections(prompt) {
    return String(prompt).indexOf("|") >= 0;
}

function shorten(prompt, length) {
    return prompt.length > length ? prompt.substring(0, length - 1) + "\u2026" : prompt;
}

/* A clip's name: what it shows, what it sounds like, and the seed that makes it again; a kept clip's
 * rank and scores follow (`#1 clip 0.31 clap 0.12`), from the /sonocanvas/scores that came before it. */
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
    if (job.riffOn) {
        name = "riff of " + shorten(job.riffOn, 24) + ": " + name;
    }
    if (job.keep) {
        var scored = job.scores[index];
        return scored ? name + " " + scored.label : name;
    }
    return job.variations > 1 ? name + " v" + (index + 1) : name;
}

/* "#rank kind score...": a kept clip's place among the candidates and its scores, to two decimals. */
function scoreLabel(rank, pairs) {
    var words = ["#" + rank];
    for (var i = 0; i + 1 < pairs.length; i += 2) {
        words.push(String(pairs[i]), Number(pairs[i + 1]).toFixed(2));
    }
    return words.join(" ");
}

/* The first beat at or after `from` where `length` beats fit between the clips `taken` ([start, end]
 * pairs); with length null (unknown), the first beat after every clip that ends after `from`. */
function firstGap(taken, from, length) {
    var sorted = taken.slice(0).sort(function (a, b) {
        return a[0] - b[0];
    });
    var position = from;
    for (var i = 0; i < sorted.length; i++) {
        if (sorted[i][1] <= position) {
            continue;
        }
        if (length !== null && sorted[i][0] >= position + length) {
            break;
        }
        position = Math.max(position, sorted[i][1]);
    }
    return position;
}

/* Where the next clip after `position` starts (the end of the free gap there), or Infinity. */
function roomAfter(taken, position) {
    var room = Infinity;
    for (var i = 0; i < taken.length; i++) {
        if (taken[i][0] >= position) {
            room = Math.min(room, taken[i][0]);
        }
    }
    return room;
}

/* Where a clip slot or Arrangement clip is, from its canonical path. */
function trackOf(path) {
    var match = /^live_set tracks (\d+)/.exec(path);
    return match ? Number(match[1]) : -1;
}

function slotOf(path) {
    var match = /clip_slots (\d+)/.exec(path);
    return match ? Number(match[1]) : -1;
}

/* ---------- the device ---------- */

function Device(env) {
    this.env = env;
    this.isLoaded = false;
    this.connected = false;
    this.lastReplyAt = 0;
    this.helloAt = 0;      /* when connect() last greeted a server: silence is counted from here or the last reply */
    this.silent = false;   /* "No answer from ..." is showing */
    this.restarting = false;  /* the server forgot our secret (it restarted): hello said, generates wait for ready */
    this.server = "";
    this.replyPort = 0;
    this.client = "";
    this.bounds = {};
    this.jobs = {};
    this.jobCount = 0;
    /* job ids are unique across reloads too: an old job may still run, or be reported after a restart */
    this.jobPrefix = "sc" + Math.floor(env.now() / 1000).toString(36).slice(-5) + "-";
    this.presetNames = [];
    this.fxNames = [];
    this.arriving = {};  /* list -> the names of its `names` messages so far, until its `names/end` */
    this.lastWav = "";
    this.lastSeed = null;
    this.liveVersion = null;
    this.heartbeat = null;
    /* the kinds of score the server ranks with (/sonocanvas/ready's 5th argument); null: it did not say */
    this.scorers = null;
    this.posted = {};  /* the lines already posted to the Max Console (see once()) */
    this.prompts = {};  /* prompt box -> its text as last typed, set or restored (see prompt()) */
    this.pendingStores = {};  /* prompt box -> the Task that writes its pattr once typing pauses */
}

Device.prototype.send = function (address, args) {
    this.env.outlet(0, [address].concat(args || []));
};

/* A line for the Max Console, each at most once per device: the production guidelines want nothing printed
 * in normal use, so only a real problem (a reply this device does not know, a server without bounds) is
 * posted, and never again on every reconnect. */
Device.prototype.once = function (line) {
    if (!this.posted[line]) {
        this.posted[line] = true;
        this.env.post(line);
    }
};

/* The status line wraps over two lines in the device; a longer one (a long path) is also its Info
 * View text, so hovering over it shows it whole in Live, with nothing printed to the Max window. */
Device.prototype.status = function (line) {
    this.env.show("status", "set", [line]);
    this.env.show("status", "annotation", [line]);
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
    this.restorePrompts();
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

/* The prompts the set kept (Max restores pattrs before live.thisdevice bangs: Max User Guide, "Patcher
 * Lifecycle"), put back in their boxes with `set` (textedit: "sets the contents ... while causing no output"). */
Device.prototype.restorePrompts = function () {
    for (var box in PROMPTS) {
        if (PROMPTS.hasOwnProperty(box)) {
            var saved = text(this.env.value(PROMPTS[box]));
            if (saved) {
                this.prompts[box] = saved;
                this.env.show(box, "set", [saved]);
            }
        }
    }
};

/* A prompt box's text, as the patcher sent it on the last keystroke (textedit's output starts with the word
 * `text`), kept at once for Generate and written to its pattr once typing pauses. */
Device.prototype.typed = function (box, words) {
    if (!PROMPTS.hasOwnProperty(box)) {
        return;
    }
    words = words.slice(0);
    if (String(words[0]) === "text") {
        words.shift();
    }
    var typed = text(words);
    var self = this;
    this.prompts[box] = typed;
    if (this.pendingStores[box]) {
        this.pendingStores[box].cancel();
    }
    this.pendingStores[box] = this.env.after(TYPING_PAUSE_MS, function () {
        delete self.pendingStores[box];
        self.env.store(PROMPTS[box], typed);
    });
};

/* A prompt's text: as typed (or restored, or set by a preset), else as its box gives it. */
Device.prototype.prompt = function (box) {
    return this.prompts.hasOwnProperty(box) ? this.prompts[box] : text(this.env.value(box));
};

/* (Re)point udpsend at the server and the reply udpreceive at this device's reply port, then say hello. */
Device.prototype.connect = function () {
    if (!this.isLoaded) {
        return;
    }
    var host = text(this.env.value("host")) || DEFAULT_HOST;
    var port = Math.round(number(this.env.value("server_port"))) || DEFAULT_SERVER_PORT;
    this.releasePort();
    this.replyPort = this.claimPort(Math.round(number(this.env.value("reply_port"))), port);
    this.server = host + ":" + port;
    this.client = "";
    this.helloAt = this.env.now();
    this.silent = false;
    this.restarting = false;
    this.env.listen(this.replyPort);
    this.env.outlet(0, ["host", host]);
    this.env.outlet(0, ["port", port]);
    this.light(false);
    this.status("Connecting to " + this.server + ", replies on port " + this.replyPort);
    this.hello();
};

/* hello reply_port [token]: the token only when one is typed (a server started with one wants it). */
Device.prototype.hello = function () {
    var token = text(this.env.value("token"));
    this.send(ADDRESS.hello, token ? [this.replyPort, token] : [this.replyPort]);
};

/* Each device instance listens on its own port, so several devices on several tracks work at once:
 * the ports already claimed by the devices of this Live are never bound again. */
Device.prototype.claimPort = function (wanted, serverPort) {
    var ports = this.env.ports;
    if (wanted > 0 && !ports[wanted] && wanted !== serverPort) {
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
    for (var box in this.pendingStores) {
        if (this.pendingStores.hasOwnProperty(box)) {
            this.pendingStores[box].cancel();
        }
    }
    this.pendingStores = {};
    this.releasePort();
};

/* Heartbeat: a server silent for SILENCE_MS since the last reply (or since hello, for one that never
 * answered) turns the light off and is named, once, by the third heartbeat; while the light is off, keep
 * saying hello. */
Device.prototype.tick = function () {
    if (!this.isLoaded) {
        return;
    }
    if (!this.silent && this.env.now() - Math.max(this.lastReplyAt, this.helloAt) > SILENCE_MS) {
        this.silent = true;
        this.light(false);
        this.status("No answer from " + this.server + ": is `sonocanvas serve` running?");
    }
    if (this.connected) {
        this.send(ADDRESS.status);
    } else {
        this.hello();
    }
};

/* The menus hold "(none)" and then the server's names. */
Device.prototype.chosen = function (names, control) {
    var index = Math.round(number(this.env.value(control)));
    return index >= 1 && index <= names.length ? names[index - 1] : "";
};

/* A numeric generate key: within the server's bounds once /sonocanvas/limits has told them; until
 * then as the control gives it (its own range), and the server checks it. */
Device.prototype.bounded = function (key, value) {
    var bound = this.bounds[key];
    if (bound) {
        value = clamp(value, bound.low, bound.high);
        return bound.integer ? Math.round(value) : value;
    }
    return value;
};

Device.prototype.seed = function () {
    if (number(this.env.value("seed_lock"))) {
        return Math.round(number(this.env.value("seed")));
    }
    return Math.floor(this.env.random() * (SEED_MAX + 1));
};

/* Whether Keep may be used: not when the server said it has no scorer (a server that says nothing checks itself). */
Device.prototype.canRank = function () {
    return this.scorers === null || this.scorers.length > 0;
};

/* The song's tempo when "fit to bars" or Loop is on, so the clip lasts a whole number of bars. */
Device.prototype.tempo = function () {
    return number(this.env.live("live_set").get("tempo"));
};

/* Generate from the prompts; `riff` ({file, start, end, name, beside}) starts from a Live clip. */
Device.prototype.generate = function (riff) {
    if (!this.isLoaded) {
        this.status("Still loading; try again in a moment");
        return null;
    }
    var imagePrompt = this.prompt("image_prompt");
    var audioPrompt = this.prompt("audio_prompt");
    var preset = this.chosen(this.presetNames, "preset");
    if (!preset && !imagePrompt) {
        this.status("image prompt: type what the picture shows, or pick a preset");
        return null;
    }
    if (!preset && !audioPrompt) {
        this.status("audio prompt: type what the sound is, or pick a preset");
        return null;
    }
    var guidance = number(this.env.value("guidance"));
    var candidates = Math.round(number(this.env.value("variations")));
    /* Keep greyed out (a server with nothing to rank with) counts as 0, whatever value the set saved. */
    var keep = this.canRank() ? Math.max(0, Math.round(number(this.env.value("keep")))) : 0;
    if (keep > candidates) {
        this.status("Keep: " + keep + " is more than the " + candidates + " variations it keeps from; raise variations or lower Keep");
        return null;
    }
    var loop = number(this.env.value("loop")) ? 1 : 0;
    var inBars = loop || number(this.env.value("fit_bars"));
    /* Sections need a clip longer than one of the model's windows, and lengths in bars (@4) need a tempo: the
     * device has both only in bars (a preset may give a length of its own, which the server checks). */
    var sectioned = hasSections(audioPrompt) ? "audio" : hasSections(imagePrompt) ? "image" : "";
    if (sectioned && !inBars && !preset) {
        this.status(sectioned + " prompt: sections (|) need the clip in bars: turn on fit to bars (or loop), " +
            "with Bars longer than one of the model's clips; @N bars are at the set's tempo");
        return null;
    }
    var bars = this.bounded("bars", Math.round(number(this.env.value("bars"))));
    var job = {
        id: this.jobPrefix + (++this.jobCount),
        imagePrompt: imagePrompt,
        audioPrompt: audioPrompt,
        preset: preset,
        seed: this.bounded("seed", this.seed()),
        /* With keep the server holds the clips kept to its variations cap and lets the candidates go to the
         * table's bound (bridge/protocol.py), which /sonocanvas/limits reports as keep's range. */
        variations: keep ? this.bounded("keep", candidates) : this.bounded("variations", candidates),
        keep: keep ? this.bounded("variations", keep) : 0,
        scores: {},
        loopBeats: loop ? bars * BEATS_PER_BAR : 0,
        fitBeats: inBars ? bars * BEATS_PER_BAR : 0,
        riffOn: riff ? riff.name : "",
        beside: riff ? riff.beside : null,
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
        "steps", this.bounded("steps", Math.round(number(this.env.value("steps")))),
        "image_guidance", this.bounded("image_guidance", guidance),
        "audio_guidance", this.bounded("audio_guidance", guidance),
        "audio_weight", this.bounded("audio_weight", number(this.env.value("audio_weight"))),
        "variations", job.variations,
        "audio_model", AUDIO_MODELS[clamp(Math.round(number(this.env.value("audio_model"))), 0, AUDIO_MODELS.length - 1)]
    );
    if (this.bounds.preview) {  /* a server that previews says so in its limits; an older one would refuse the key */
        args.push("preview", this.bounded("preview", PREVIEW_EVERY));
    }
    if (job.keep) {
        args.push("keep", job.keep, "rank", RANK);
    }
    var fx = this.chosen(this.fxNames, "fx");
    if (fx) {
        args.push("fx", fx);
    }
    if (loop) {
        args.push("loop", 1);
    }
    if (inBars) {
        args.push("bpm", this.bounded("bpm", this.tempo()), "bars", bars);
    }
    if (riff) {
        args.push("init_audio", riff.file, "init_start", this.bounded("init_start", riff.start),
            "init_end", this.bounded("init_end", riff.end), "strength", this.bounded("strength", number(this.env.value("strength"))));
    }
    args.push("reply_port", this.replyPort);
    job.request = args;
    if (!number(this.env.value("seed_lock"))) {
        this.showSeed(job.seed);
    }
    this.jobs[job.id] = job;
    this.progress(0);
    this.status((riff ? "Riffing on \u201c" + riff.name + "\u201d: sent to " : "Sent to ") + this.server +
        (this.connected ? "" : " (not connected yet)") +
        (!this.canRank() && number(this.env.value("keep")) ? ". Keep is off: " + NO_SCORERS : ""));
    this.sendJob(job);
    return job.id;
};

/* A job's generate, with this device's client secret as the server gave it last (a job sent again after a
 * server restart carries the new one); the job remembers which secret it went with. */
Device.prototype.sendJob = function (job) {
    job.sentWith = this.client;
    this.send(job.address || ADDRESS.generate, this.client ? job.request.concat(["client", this.client]) : job.request);
};

/* The seed a Generate picked, shown beside the seed box: a display, not a parameter, so showing it
 * adds no undo step. Turning "lock" on keeps it (see lock()). */
Device.prototype.showSeed = function (seed) {
    this.lastSeed = seed;
    this.env.show("last_seed", "set", ["seed " + seed]);
};

/* "lock" turned on after a Generate: the seed box takes the seed just heard (one undo step, asked for). */
Device.prototype.lock = function () {
    if (number(this.env.value("seed_lock")) && this.lastSeed !== null) {
        this.env.show("seed", "set", [this.lastSeed]);
    }
};

Device.prototype.cancel = function () {
    var any = false;
    for (var id in this.jobs) {
        if (this.jobs.hasOwnProperty(id)) {
            this.jobs[id].cancelling = true;
            this.send(ADDRESS.cancel, [id, "reply_port", this.replyPort].concat(this.client ? ["client", this.client] : []));
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

/* A preset picked from the menu: keep its name with the set, and ask for its values to show them. */
Device.prototype.presetChosen = function () {
    var name = this.chosen(this.presetNames, "preset");
    if (this.presetNames.length) {
        this.env.store("preset_name", name);
    }
    if (this.isLoaded && name) {
        this.send(ADDRESS.presetGet, [name]);
    }
};

/* An effect chain picked from the menu: keep its name with the set. */
Device.prototype.fxChosen = function () {
    if (this.fxNames.length) {
        this.env.store("fx_name", this.chosen(this.fxNames, "fx"));
    }
};

/* ---------- replies ---------- */

Device.prototype.receive = function (address, args) {
    var handler = REPLIES[address];
    this.lastReplyAt = this.env.now();
    this.silent = false;
    if (!this.connected) {
        this.light(true);
    }
    if (handler) {
        handler.call(this, args);
    } else {
        this.once("sonocanvas: ignored reply " + address + " (from a newer server?)");
    }
};

var REPLIES = {};

/* ready version device models [client [scorers]]: the client secret makes this device's jobs its own
 * whatever port its messages leave from (docs/osc.md); `scorers` names the kinds of score the server ranks
 * with ("clip clap"; "" for none, and Keep is then greyed out; an older server does not say, and Keep stays
 * usable: that server checks a request itself). Then ask the server's bounds and lists. */
REPLIES["/sonocanvas/ready"] = function (args) {
    this.client = args.length > 3 ? String(args[3]) : "";
    this.scorers = args.length > 4 ? text(args[4]).split(/\s+/).filter(function (kind) { return kind !== ""; }) : null;
    /* live.numbox reference, `active`: at 0 "the mouse action does not cause output, and the inactive colors are used" */
    this.env.show("keep", "active", [this.canRank() ? 1 : 0]);
    if (!this.resendJobs()) {
        this.status("Connected: sonocanvas " + args[0] + " on " + args[1] + " (" + args[2] + ")" +
            (this.canRank() ? "" : ". Keep is off: " + NO_SCORERS));
    }
    this.send(ADDRESS.limits);
    this.send(ADDRESS.presetList);
    this.send(ADDRESS.fxList);
};

/* limits [name low high]...: the bounds of each numeric generate key, the server's policy applied. */
REPLIES["/sonocanvas/limits"] = function (args) {
    for (var i = 0; i + 2 < args.length; i += 3) {
        var low = Number(args[i + 1]);
        var high = Number(args[i + 2]);
        if (!isNaN(low) && !isNaN(high) && low <= high) {
            this.bounds[String(args[i])] = { low: low, high: high, integer: INTEGER_KEYS.indexOf(String(args[i])) >= 0 };
        }
    }
};

REPLIES["/sonocanvas/queued"] = function (args) {
    if (this.jobs[args[0]]) {
        this.jobs[args[0]].acknowledged = true;
        this.status(Number(args[1]) <= 1 ? "Starting..." : "Queued: " + (Number(args[1]) - 1) + " job(s) ahead");
    }
};

REPLIES["/sonocanvas/progress"] = function (args) {
    if (this.jobs[args[0]]) {
        this.jobs[args[0]].acknowledged = true;
        var step = Number(args[1]);
        var total = Number(args[2]);
        this.progress(total > 0 ? step / total : 0);
        this.status("Generating: step " + step + " of " + total);
    }
};

/* preview job step total path: the picture as it forms, in the picture panel until the clip's own replaces it
 * (done). A cancelled job's late preview is not shown. */
REPLIES["/sonocanvas/preview"] = function (args) {
    var job = this.jobs[args[0]];
    if (job && !job.cancelling) {
        job.acknowledged = true;
        this.env.show("picture", "read", [maxPath(String(args[3]))]);
    }
};

/* scores job index rank candidates [kind score]...: a kept clip's rank and scores, just before its done. */
REPLIES["/sonocanvas/scores"] = function (args) {
    var job = this.jobs[args[0]];
    if (job && job.keep) {
        job.candidates = Number(args[3]);
        job.scores[Number(args[1])] = { rank: Number(args[2]), label: scoreLabel(Number(args[2]), args.slice(4)) };
    }
};

REPLIES["/sonocanvas/done"] = function (args) {
    var job = this.jobs[args[0]];
    if (!job) {
        return;
    }
    job.acknowledged = true;
    if (job.kind === "see") {  /* a picture and no sound (wav_path ""): shown, nothing placed */
        delete this.jobs[job.id];
        this.progress(1);
        this.env.show("picture", "read", [maxPath(String(args[3]))]);
        this.status("Seen: \u201c" + job.seeing + "\u201d as " + basename(String(args[3])));
        return;
    }
    var index = Number(args[1]);
    var wav = String(args[2]);
    var self = this;
    var name = clipName(job, index, wav);
    job.done++;
    if (job.done >= (job.keep || job.variations)) {
        delete this.jobs[job.id];
    }
    this.lastWav = wav;
    this.progress(1);
    this.env.show("picture", "read", [maxPath(args[3])]);
    this.status("Done: " + name + kept(job));
    this.env.defer(function () {
        self.placeClip(wav, name, job);
    });
};

REPLIES["/sonocanvas/cancelled"] = function (args) {
    if (this.jobs[args[0]]) {
        delete this.jobs[args[0]];
        this.progress(0);
        this.status("Cancelled");
    }
};

/* At `ready`: the jobs a restarted server never took go again, with the new secret. A server process gives
 * each client one secret (docs/osc.md: "the same at every hello"), so a ready with another secret than a job
 * went with is a new process, which never got that job if it was not queued yet; so is a job whose generate was
 * refused for its secret (see restarted()). A job being cancelled is simply over. One status line says so;
 * returns whether it did, so that ready's "Connected" does not replace it. */
Device.prototype.resendJobs = function () {
    var sent = [];
    this.restarting = false;
    for (var id in this.jobs) {
        if (!this.jobs.hasOwnProperty(id)) {
            continue;
        }
        var job = this.jobs[id];
        var lost = job.resend || (!job.acknowledged && job.sentWith && job.sentWith !== this.client);
        if (lost && job.cancelling) {
            delete this.jobs[id];
        } else if (lost) {
            job.resend = false;
            job.resent = true;
            this.sendJob(job);
            sent.push(job.riffOn ? "the riff" : "the Generate");
        }
    }
    if (sent.length) {
        this.status(this.server + " restarted: sending " + (sent.length > 1 ? "your " + sent.length + " jobs" : sent[0]) + " again");
    }
    return sent.length > 0;
};

REPLIES["/sonocanvas/error"] = function (args) {
    var job = String(args[0]);
    if (!job && String(args[1]) === "address" && String(args[2]).indexOf(ADDRESS.limits) >= 0) {
        /* a server from before /sonocanvas/limits: the controls' own ranges stand, the server checks */
        this.once("sonocanvas: the server gives no bounds; using the controls' ranges");
        return;
    }
    if (String(args[1]) === "client" && this.restarted(this.jobs[job])) {
        return;
    }
    if (job && this.jobs[job]) {
        delete this.jobs[job];
        this.progress(0);
    }
    this.status("Error: " + args[1] + ": " + args[2]);
};

/* A `client` error: the server does not know this device's secret, so it is a new server process (docs/osc.md:
 * the secret is bound at hello; "an unknown secret is refused on field `client`"). Say hello again at once; the
 * job it refused goes again once `ready` brings the new secret (resendJobs). A job that was being cancelled is
 * over (the old server took it with it); a job already sent again is not sent a third time, and its error is
 * shown. Returns whether the error was handled here. */
Device.prototype.restarted = function (job) {
    if (job && job.resent) {
        return false;
    }
    if (job && job.cancelling) {
        delete this.jobs[job.id];
        this.progress(0);
        this.status("Cancelled (" + this.server + " had restarted, and its jobs with it)");
    } else if (job) {
        job.resend = true;
    }
    this.client = "";
    if (!this.restarting) {
        this.restarting = true;
        this.hello();
    }
    return true;
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

/* A menu's names arrived: offer them, and select again the name saved with the set. */
Device.prototype.offer = function (control, store, names) {
    var saved = text(this.env.value(store));
    this.env.show(control, "_parameter_range", [NONE].concat(names));
    this.env.show(control, "set", [names.indexOf(saved) + 1]);
};

/* A long list comes in several `names` messages (each fits a datagram), then `names/end count`: the
 * names gather until the end, and the menu is offered once, whole (docs/osc.md, Replies). */
Device.prototype.gather = function (list, names) {
    this.arriving[list] = (this.arriving[list] || []).concat(names);
};

Device.prototype.gathered = function (list) {
    var names = this.arriving[list] || [];
    delete this.arriving[list];
    return names;
};

REPLIES["/sonocanvas/preset/names"] = function (args) {
    this.gather("preset", args);
};

REPLIES["/sonocanvas/preset/names/end"] = function () {
    this.presetNames = this.gathered("preset");
    this.offer("preset", "preset_name", this.presetNames);
};

REPLIES["/sonocanvas/fx/names"] = function (args) {
    this.gather("fx", args);
};

REPLIES["/sonocanvas/fx/names/end"] = function () {
    this.fxNames = this.gathered("fx");
    this.offer("fx", "fx_name", this.fxNames);
};

/* A preset's values, shown in the controls they belong to (keys the device has no control for
 * still reach the server, because generate sends the preset's name along). */
REPLIES["/sonocanvas/preset"] = function (args) {
    var shown = {
        steps: "steps",
        image_guidance: "guidance",
        audio_weight: "audio_weight",
        variations: "variations",
        keep: "keep",
        bars: "bars",
        strength: "strength"
    };
    for (var i = 1; i + 1 < args.length; i += 2) {
        var key = args[i];
        var value = args[i + 1];
        if (PROMPTS.hasOwnProperty(key)) {
            this.prompts[key] = text(value);
            this.env.show(key, "set", [this.prompts[key]]);
            this.env.store(PROMPTS[key], this.prompts[key]);
        } else if (shown[key]) {
            this.env.show(shown[key], "set", [value]);
        } else if (key === "seed" && Number(value) >= 0) {
            this.env.show("seed", "set", [Number(value)]);
            this.env.show("seed_lock", "set", [1]);
        } else if (key === "loop") {
            this.env.show("loop", "set", [bool(value) ? 1 : 0]);
        } else if (key === "audio_model" && AUDIO_MODELS.indexOf(value) >= 0) {
            this.env.show("audio_model", "set", [AUDIO_MODELS.indexOf(value)]);
        } else if (key === "fx") {
            this.env.show("fx", "set", [this.fxNames.indexOf(value) + 1]);
            this.env.store("fx_name", this.fxNames.indexOf(value) >= 0 ? value : "");
        }
    }
    this.status("Preset " + args[0]);
};

/* ---------- the Live set: which clip to riff on, where clips go ---------- */

Device.prototype.readLiveVersion = function () {
    var app = this.env.live("live_app");
    this.liveVersion = [
        number(app.call("get_major_version")),
        number(app.call("get_minor_version")),
        number(app.call("get_bugfix_version"))
    ];
};

/* Why no clip can go on this device's track, or "" when it can: the LOM's create_audio_clip works
 * only on an unfrozen audio track; a return or main track and a group track have no clip slots of
 * their own, and a device in a rack sits on a chain, not a track. */
Device.prototype.refusal = function (track) {
    var path = String(track.unquotedpath || "");
    if (!exists(track)) {
        return "Live did not say which track the device is on";
    }
    if (track.type !== "Track") {
        return "the device is inside a rack, and clips go on tracks; put it directly on an audio track";
    }
    if (/^live_set return_tracks/.test(path)) {
        return "this is a return track, which holds no clips; put the device on an audio track";
    }
    if (/^live_set master_track/.test(path)) {
        return "this is the main track, which holds no clips; put the device on an audio track";
    }
    if (number(track.get("is_foldable"))) {
        return "this is a group track, whose slots only launch the tracks inside it; put the device on an audio track";
    }
    if (number(track.get("has_midi_input"))) {
        return "this is a MIDI track; put the device on an audio track";
    }
    if (number(track.get("is_frozen"))) {
        return "this track is frozen; unfreeze it (or use another audio track) and drag the clip in";
    }
    return "";
};

/* Runs deferred. Session View: the first empty clip slot of this device's track (beside the original
 * when riffing), a new scene only when every slot is full. Arrangement: the first gap that fits,
 * at or after the insert marker (or the original). Where a clip cannot go, nothing changes. */
Device.prototype.placeClip = function (wav, name, job) {
    if (!this.liveVersion) {
        this.readLiveVersion();
    }
    if (!atLeast(this.liveVersion, LIVE_WITH_AUDIO_CLIPS)) {
        this.status("Live " + this.liveVersion.join(".") + " cannot place clips (Live 12.0.5 or later can): drag in " + wav);
        return;
    }
    var track = this.env.live("this_device canonical_parent");
    var why = this.refusal(track);
    if (why) {
        this.status("Not placed: " + why + ". The clip is at " + wav);
        return;
    }
    var view = text(this.env.live("live_app view").get("focused_document_view"));
    if (view === "Arranger" && !atLeast(this.liveVersion, LIVE_WITH_ARRANGEMENT_CLIPS)) {
        this.status("Live " + this.liveVersion.join(".") + " cannot place clips in the Arrangement (Live 12.1 or later can): drag in " + wav);
    } else if (view === "Arranger") {
        this.placeInArrangement(track, wav, name, job);
    } else {
        this.placeInSession(track, wav, name, job);
    }
};

/* The first slot from `from` on (then from the top) that is empty and not a group slot. */
Device.prototype.freeSlot = function (slots, from) {
    for (var n = 0; n < slots.length; n++) {
        var i = (from + n) % slots.length;
        var slot = this.env.live("id " + slots[i]);
        if (number(slot.get("has_clip")) === 0 && number(slot.get("is_group_slot")) === 0) {
            return i;
        }
    }
    return -1;
};

/* Session View: the first empty slot of this device's track (beside the original when riffing). */
Device.prototype.placeInSession = function (track, file, name, job) {
    var slots = ids(track.get("clip_slots"));
    if (!slots.length) {
        this.status("Not placed: this track has no clip slots. The clip is at " + file);
        return;
    }
    var besides = job.beside && job.beside.slot >= 0;
    var made = this.newSessionClip(track, file, besides ? clamp(job.beside.slot, 0, slots.length - 1) : 0);
    if (!made) {
        return;
    }
    var prepared = this.prepare(made.clip, job);
    made.clip.set("name", name);
    this.status("Placed \u201c" + name + "\u201d in scene " + (made.index + 1) + prepared + kept(job));
};

/* A new clip of `file` in the first free slot of the track from `from` on (then from the top), or in a new
 * scene at the end when every slot is full (LOM Song.create_scene, -1: "at the end of the list"). Returns
 * {slot, clip, index, newScene}, or null with the status saying why; then nothing in the set has changed. */
Device.prototype.newSessionClip = function (track, file, from) {
    var slots = ids(track.get("clip_slots"));
    var index = this.freeSlot(slots, from);
    var newScene = index < 0;
    if (newScene) {
        this.env.live("live_set").call("create_scene", -1);
        slots = ids(track.get("clip_slots"));
        index = this.freeSlot(slots, slots.length - 1);
    }
    if (index < 0) {
        this.status("Not placed: Live added no empty clip slot. The clip is at " + file);
        return null;
    }
    var slot = this.env.live("id " + slots[index]);
    slot.call("create_audio_clip", file);
    var clip = this.env.live("id " + (ids(slot.get("clip"))[0] || 0));
    var made = { slot: slot, clip: clip, index: index, newScene: newScene };
    if (!exists(clip)) {
        this.removeSessionClip(made);
        this.status("Not placed: Live could not load the clip (see the Max window). The clip is at " + file);
        return null;
    }
    return made;
};

/* Takes back what newSessionClip made: its clip (LOM ClipSlot.delete_clip), and the scene it added for it
 * (LOM Song.delete_scene). */
Device.prototype.removeSessionClip = function (made) {
    if (exists(made.clip)) {
        made.slot.call("delete_clip");
    }
    if (made.newScene) {
        this.env.live("live_set").call("delete_scene", made.index);
    }
};

/* A clip plays as it was made. Live warps a new clip at a tempo it guesses from the audio (create_audio_clip
 * gives `warping` 1; Auto-Warp Long Samples is on by default), which time-stretches it. An ordinary clip is set
 * unwarped (LOM Clip.warping), so it plays its file at the file's own speed. A loop or a fit-to-bars clip,
 * whose file is exactly its bars at the song's tempo, stays warped, with a warp marker at the file's end on the
 * bars' last beat (LOM Clip.add_warp_marker: a dict of `beat_time` and `sample_time`, seconds of the file, which
 * "must lie within the range [0, s]"): its one segment is then the song's tempo. Its markers then span the
 * bars, and a loop's loop too: LOM `looping` ("Unwarped audio cannot be looped"), `loop_start`/`loop_end`,
 * `start_marker`/`end_marker` ("cannot be set before the start marker"), beats once warped. Only what differs
 * from what Live gave is set: each change is an undo step. Returns what to add to the status line. */
Device.prototype.prepare = function (clip, job) {
    var beats = job.loopBeats || job.fitBeats;
    if (!beats) {
        if (number(clip.get("warping"))) {
            clip.set("warping", 0);
        }
        return number(clip.get("warping")) ? ", but Live kept it warped at a tempo of its own: turn Warp off in its Clip View" : "";
    }
    if (!number(clip.get("warping"))) {
        clip.set("warping", 1);
    }
    /* LOM Clip.sample_length: "Length of the Clip's sample, in samples"; sample_rate, its rate */
    var seconds = number(clip.get("sample_length")) / number(clip.get("sample_rate"));
    var bars = beats / BEATS_PER_BAR + " bar(s)";
    if (seconds > 0 && !this.plays(clip, beats, seconds)) {
        clip.call("add_warp_marker", this.env.dict({ beat_time: beats, sample_time: seconds }));
    }
    if (job.loopBeats && !number(clip.get("looping"))) {
        clip.set("looping", 1);
    }
    var wanted = [["loop_end", beats], ["loop_start", 0], ["end_marker", beats], ["start_marker", 0]];
    for (var i = 0; i < wanted.length; i++) {
        if (number(clip.get(wanted[i][0])) !== wanted[i][1]) {
            clip.set(wanted[i][0], wanted[i][1]);
        }
    }
    if (job.loopBeats && (number(clip.get("looping")) !== 1 || number(clip.get("loop_start")) !== 0 || number(clip.get("loop_end")) !== beats)) {
        return ", but Live did not loop it over its " + bars + ": turn Warp and Loop on in its Clip View";
    }
    if (!(seconds > 0) || !this.plays(clip, beats, seconds)) {
        return ", but Live kept a tempo of its own, so its " + bars + " do not play its whole file: set its Seg. BPM to " + this.tempo();
    }
    return job.loopBeats ? ", looping over " + bars : "";
};

/* Whether the clip's warp markers put the file's `seconds` on `beats` (to a thousandth of the file). */
Device.prototype.plays = function (clip, beats, seconds) {
    return Math.abs(secondsAtBeat(warpMarkers(clip), beats) - seconds) <= seconds / 1000;
};

/* How many beats of the song a clip plays: its loop when looping, else from its start to its end marker (LOM
 * Clip.length), beats when warped; an unwarped clip's markers are seconds of its file (LOM Clip.loop_start),
 * which at the song's tempo last seconds * tempo / 60 beats. */
Device.prototype.songBeats = function (clip) {
    var looping = number(clip.get("looping"));
    var span = number(clip.get(looping ? "loop_end" : "end_marker")) - number(clip.get(looping ? "loop_start" : "start_marker"));
    return number(clip.get("warping")) ? span : span * this.tempo() / 60;
};

/* Arrangement: the first gap at or after the insert marker (or the original, or the variation before) that
 * fits the clip. Live fixes an Arrangement clip's length when it makes it (LOM Clip.end_time, get only: "the
 * position of the clip's rightmost edge"; Producer Pal: "arrangement clip end_time is immutable after
 * creation"), at the length of the file warped at its guessed tempo. So the clip is made and set up in a
 * Session slot of this track, where its length follows its markers and loop, then copied to the gap (LOM
 * Track.duplicate_clip_to_arrangement), which lays it exactly that long, and the Session clip (and the scene
 * added for it, if any) deleted again. */
Device.prototype.placeInArrangement = function (track, file, name, job) {
    var from = job.arrangeFrom !== undefined ? job.arrangeFrom
        : job.beside && job.beside.beat !== null ? job.beside.beat
            : number(this.env.live("live_set").get("start_time"));
    var made = this.newSessionClip(track, file, 0);
    if (!made) {
        return;
    }
    var prepared = this.prepare(made.clip, job);
    made.clip.set("name", name);
    var before = ids(track.get("arrangement_clips"));
    var taken = [];
    for (var i = 0; i < before.length; i++) {
        var other = this.env.live("id " + before[i]);
        taken.push([number(other.get("start_time")), number(other.get("end_time"))]);
    }
    var position = firstGap(taken, from, this.songBeats(made.clip));
    var room = roomAfter(taken, position);
    var placed = null;
    if (position <= LAST_BEAT) {
        track.call("duplicate_clip_to_arrangement", "id " + made.clip.id, position);
        var after = ids(track.get("arrangement_clips"));
        for (var j = 0; j < after.length && !placed; j++) {
            // The new clip is the one that was not there before.
            placed = before.indexOf(after[j]) < 0 ? this.env.live("id " + after[j]) : null;
        }
    }
    this.removeSessionClip(made);
    if (position > LAST_BEAT) {
        this.status("Not placed: no room on this track's Arrangement before beat " + LAST_BEAT + ". The clip is at " + file);
    } else if (!placed) {
        this.status("Not placed: Live could not copy the clip to the Arrangement (see the Max window). The clip is at " + file);
    } else {
        job.arrangeFrom = number(placed.get("end_time"));
        this.status("Placed \u201c" + name + "\u201d in the Arrangement at beat " + position + (job.arrangeFrom > room
            ? ", but Live made it longer than it plays, so it covers the clip at beat " + room + "; Undo takes it back"
            : "") + prepared + kept(job));
    }
};

/* The clip to riff on: the one in the Detail View, else the one in the highlighted Session slot. */
Device.prototype.sourceClip = function () {
    var clip = this.env.live("live_set view detail_clip");
    if (exists(clip)) {
        return clip;
    }
    var slot = this.env.live("live_set view highlighted_clip_slot");
    return exists(slot) && number(slot.get("has_clip")) ? this.env.live("live_set view highlighted_clip_slot clip") : null;
};

/* The part of the clip's file that the clip plays, in seconds into the file. Looping on: from the
 * start marker to the end marker; off: loop_start / loop_end, which then stand for the markers (an
 * unwarped clip cannot loop). An unwarped clip's times are seconds of its file (LOM Clip.loop_start:
 * "If the clip is unwarped audio, they are given in seconds, 0 is the time of the first sample in the
 * audio material"; the markers share that scale); a warped clip's are beats, which its warp markers
 * map to seconds of the file. */
Device.prototype.clipRegion = function (clip) {
    var looping = number(clip.get("looping"));
    var start = number(clip.get(looping ? "start_marker" : "loop_start"));
    var end = number(clip.get(looping ? "end_marker" : "loop_end"));
    if (!number(clip.get("warping"))) {
        return { start: start, end: end };
    }
    var markers = warpMarkers(clip);
    return { start: secondsAtBeat(markers, start), end: secondsAtBeat(markers, end) };
};

/* A warped clip's warp markers, ordered by beat (LOM Clip.warp_markers, Live 11 and later: a dict whose
 * "warp_markers" list holds each marker's "beat_time" and its "sample_time", "the position in seconds in
 * the audio sample file"). Empty when Live gives none. */
function warpMarkers(clip) {
    var parsed;
    try {
        parsed = JSON.parse(text(clip.get("warp_markers")));
    } catch (e) {
        return [];
    }
    var list = (parsed && parsed.warp_markers) || [];
    return list.slice().sort(function (a, b) { return a.beat_time - b.beat_time; });
}

/* Seconds into the file at `beats`: Live plays the file linearly between two warp markers, so the
 * position is interpolated between the two around it (extrapolated from the nearest pair outside them).
 * NaN with fewer than two markers, which the caller refuses as "no region". */
function secondsAtBeat(markers, beats) {
    if (markers.length < 2) {
        return NaN;
    }
    var i = 1;
    while (i < markers.length - 1 && markers[i].beat_time < beats) {
        i += 1;
    }
    var a = markers[i - 1], b = markers[i];
    var rate = (b.sample_time - a.sample_time) / (b.beat_time - a.beat_time);
    return a.sample_time + (beats - a.beat_time) * rate;
}

/* The audio clip Riff and See take (the one in the Detail View, else the selected Session clip), with its file
 * and the region between its markers; null, with a status line saying why, when there is none. */
Device.prototype.heardClip = function (action) {
    if (!this.isLoaded) {
        this.status("Still loading; try again in a moment");
        return null;
    }
    if (!this.liveVersion) {
        this.readLiveVersion();
    }
    if (!atLeast(this.liveVersion, LIVE_WITH_AUDIO_CLIPS)) {
        this.status(action + " needs Live 12.0.5 or later (this is Live " + this.liveVersion.join(".") + ")");
        return null;
    }
    var clip = this.sourceClip();
    if (!clip) {
        this.status(action + ": no clip selected. Click an audio clip so that it shows in the Detail View, then press " + action);
        return null;
    }
    if (!number(clip.get("is_audio_clip"))) {
        this.status(action + ": \u201c" + text(clip.get("name")) + "\u201d is a MIDI clip, which has no audio to " +
            (action === "Riff" ? "riff on" : "see") + "; pick an audio clip");
        return null;
    }
    var file = text(clip.get("file_path"));
    var region = this.clipRegion(clip);
    if (!file || !(region.end > region.start)) {
        this.status(action + ": Live gave no file or no region for \u201c" + text(clip.get("name")) + "\u201d");
        return null;
    }
    return { clip: clip, file: file, region: region, name: text(clip.get("name")) || basename(file) };
};

/* Riff: generate from the Live clip in view, with the region it plays and the riff strength; the
 * result goes beside the original (the next free slot / the gap after it), never over it. */
Device.prototype.riff = function () {
    var heard = this.heardClip("Riff");
    if (!heard) {
        return null;
    }
    var clip = heard.clip, file = heard.file, region = heard.region;
    var where = String(clip.unquotedpath || "");
    var mine = trackOf(String(this.env.live("this_device canonical_parent").unquotedpath || ""));
    var sameTrack = mine >= 0 && trackOf(where) === mine;
    var slot = slotOf(where);
    var arranged = slot < 0;
    return this.generate({
        file: file,
        start: region.start,
        end: region.end,
        name: heard.name,
        beside: {
            slot: arranged ? -1 : slot + (sameTrack ? 1 : 0),
            beat: arranged ? number(clip.get(sameTrack ? "end_time" : "start_time")) : null
        }
    });
};

/* See: restyle a picture the way the clip in view sounds (/sonocanvas/stylize, docs/stylize.md), hearing the
 * region between its markers as Riff does. The picture is the one dropped onto the picture panel (kept with
 * the set, `see_picture`), else the clip's own: a sonocanvas clip's colour picture beside its WAV. The result
 * shows in the picture panel; nothing is placed on a track. */
Device.prototype.see = function () {
    var heard = this.heardClip("See");
    if (!heard) {
        return null;
    }
    var picture = text(this.env.value("see_picture")) || ownPicture(heard.file);
    if (!picture) {
        this.status("See: drop a picture onto the picture panel first (this clip has no picture of its own)");
        return null;
    }
    var job = { id: this.jobPrefix + (++this.jobCount), kind: "see", seeing: heard.name, variations: 1, done: 0,
        address: ADDRESS.stylize };
    job.request = [job.id, picture, heard.file, "sound_start", Math.max(0, heard.region.start),
        "sound_end", heard.region.end, "reply_port", this.replyPort];
    this.jobs[job.id] = job;
    this.progress(0);
    this.status("Seeing \u201c" + heard.name + "\u201d: sent to " + this.server + (this.connected ? "" : " (not connected yet)"));
    this.sendJob(job);
    return job.id;
};

/* A file dropped onto the picture panel (dropfile, which takes every kind of file: its `types` is unset, so a
 * clip dragged from Live is told why it is not taken): a picture becomes the one See restyles from now on, kept
 * with the set. Its Max-style path is made the OS's for the server (nativePath). */
Device.prototype.pictureDropped = function (path) {
    var native = nativePath(path, this.env.os);
    if (!DROPPED_PICTURE.test(native)) {
        this.status("See takes a PNG or JPEG picture dropped here; " + (basename(native.replace(/\/+$/, "")) || native) +
            " is not one");
        return;
    }
    this.env.store("see_picture", native);
    this.env.show("picture", "read", [maxPath(native)]);
    this.status("See will restyle " + basename(native) + "; press See with an audio clip in view");
};

/* A Max-style path as the operating system `os` (Max's `max.os`: "macintosh" or "windows") names it, for the
 * server: dropfile gives Max's slash style ("Macintosh HD:/Users/lea/pic.png", "C:/Users/L\u00e9a/pic.png"; the Max
 * SDK's ext_path.h, PATH_STYLE_SLASH, which is also Max's "native" style on macOS, so conformpath cannot do
 * this). On Windows that is a path already; on macOS every volume's files lie under /Volumes/<volume>, the
 * startup volume's too (a link to /). */
function nativePath(path, os) {
    var found = /^([^\/:]+):\/(.*)$/.exec(path);
    return os === "windows" || !found ? path : "/Volumes/" + found[1] + "/" + found[2];
}

/* A sonocanvas clip's colour picture lies beside its audio: <stem>.picture.png; "" for a file of another kind. */
function ownPicture(file) {
    var dot = file.lastIndexOf(".");
    var stem = dot > 0 ? file.slice(0, dot) : "";
    return /_s\d+(_v\d+)?(-\d+)?$/.test(stem) ? stem + ".picture.png" : "";
}

/* ---------- Max entry points ---------- */

function maxEnvironment(jsthis) {
    var pending = [];
    var missing = {};  /* the box names already reported missing: once each, not on every status line */
    function named(name) {
        return jsthis.patcher.getnamed(name);
    }
    return {
        outlet: function (index, atoms) {
            jsthis.outlet(index, atoms);
        },
        value: function (name) {
            var box = named(name);
            return box ? box.getvalueof() : null;
        },
        show: function (name, selector, args) {
            var box = named(name);
            if (box) {
                box.message.apply(box, [selector].concat(args));
            } else if (!missing[name]) {
                missing[name] = true;
                post("sonocanvas: no box named " + name + "\n");
            }
        },
        store: function (name, value) {
            var box = named(name);
            if (box) {
                box.setvalueof(value);
            }
        },
        listen: function (port) {
            var box = named("replies");
            if (!box) {
                box = jsthis.patcher.newdefault(40, 360, "udpreceive", port);
                box.varname = "replies";
                jsthis.patcher.connect(box, 0, named("replies_deferred"), 0);
            } else {
                box.message("port", port);
            }
        },
        live: function (path) {
            return new LiveAPI(path);
        },
        dict: function (values) {
            var dict = new Dict();
            for (var key in values) {
                if (values.hasOwnProperty(key)) {
                    dict.set(key, values[key]);
                }
            }
            return dict;
        },
        defer: function (fn) {
            var task = new Task(function () {
                pending.splice(pending.indexOf(task), 1);
                fn();
            });
            pending.push(task);
            task.schedule(0);
        },
        after: function (ms, fn) {
            var task = new Task(fn);
            task.schedule(ms);
            return task;
        },
        every: function (ms, fn) {
            var task = new Task(fn);
            task.interval = ms;
            task.repeat();
            return task;
        },
        ports: new Global("sonocanvas_reply_ports"),
        now: function () {
            return new Date().getTime();
        },
        random: Math.random,
        os: max.os,
        post: function (line) {
            post(line + "\n");
        }
    };
}

/* Only the functions below answer messages from the patcher; these are not messages. */
text.local = number.local = clamp.local = ids.local = exists.local = atLeast.local = basename.local = 1;
seedOf.local = shorten.local = clipName.local = scoreLabel.local = kept.local = firstGap.local = roomAfter.local = 1;
maxPath.local = trackOf.local = slotOf.local = warpMarkers.local = secondsAtBeat.local = ownPicture.local = nativePath.local = Device.local =
    maxEnvironment.local = 1;

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

function riff() {
    device.riff();
}

function see() {
    device.see();
}

/* dropped path: a file dropped onto the picture panel (see pictureDropped). */
function dropped(path) {
    device.pictureDropped(String(path));
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

function fx() {
    device.fxChosen();
}

/* typed box text...: a prompt box's text, sent by the patcher on every keystroke (see PROMPTS). */
function typed() {
    var atoms = arrayfromargs(arguments);
    device.typed(String(atoms[0]), atoms.slice(1));
}

function lock() {
    device.lock();
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
        AUDIO_MODELS: AUDIO_MODELS,
        clipName: clipName,
        scoreLabel: scoreLabel,
        seedOf: seedOf,
        hasSections: hasSections,
        maxPath: maxPath,
        firstGap: firstGap,
        outlets: outlets
    };
} else {
    device = new Device(maxEnvironment(this));
}
