// Stand-ins for what Max and Live give the device's js: its patcher's boxes, its outlets, the Live API.
//
// The fake Live set follows what the Live Object Model documents, not what would be convenient:
//   LOM   https://docs.cycling74.com/apiref/lom/ (Song, Song.View, Track, ClipSlot, Clip, Chain)
//   JSLA  https://docs.cycling74.com/apiref/js/liveapi/ (the LiveAPI object of Max's js)
//   LRM   Ableton Live 12 Reference Manual, "Arrangement View" (editing clips in the Arrangement)
// Each behaviour below names its source. Where Live "prints an error" the fake does what LiveAPI
// does from js: the message goes to the Max window (here: `live.errors`) and nothing in the set
// changes; nothing is thrown into the script.
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

// A PCM WAV file's bytes: `seconds` of silence at `rate`, 16-bit, `channels` channels.
function wavBytes(seconds, { rate = 44100, channels = 2 } = {}) {
  const frames = Math.round(seconds * rate);
  const data = frames * channels * 2;
  const out = Buffer.alloc(44 + data);
  out.write("RIFF", 0, "latin1");
  out.writeUInt32LE(36 + data, 4);
  out.write("WAVEfmt ", 8, "latin1");
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20);
  out.writeUInt16LE(channels, 22);
  out.writeUInt32LE(rate, 24);
  out.writeUInt32LE(rate * channels * 2, 28);
  out.writeUInt16LE(channels * 2, 32);
  out.writeUInt16LE(16, 34);
  out.write("data", 36, "latin1");
  out.writeUInt32LE(data, 40);
  return out;
}

// A WAV file's sample rate and length in sample frames, read the way Live would, or null.
function wavInfoOf(bytes) {
  let rate = 0;
  let blockAlign = 0;
  for (let at = 12; at + 8 <= bytes.length;) {
    const tag = bytes.toString("latin1", at, at + 4);
    const size = bytes.readUInt32LE(at + 4);
    if (tag === "fmt ") {
      rate = bytes.readUInt32LE(at + 12);
      blockAlign = bytes.readUInt16LE(at + 20);
    } else if (tag === "data") {
      return rate && blockAlign ? { rate, frames: size / blockAlign } : null;
    }
    at += 8 + size + (size % 2);
  }
  return null;
}

// How long a WAV file lasts, in seconds, or null.
function wavSecondsOf(bytes) {
  const info = wavInfoOf(bytes);
  return info && info.frames / info.rate;
}

// Where the fake puts the hidden last warp marker after the last real one. LOM Clip.warp_markers: "The last
// Warp Marker in the dict is not visible in the Live interface. This hidden marker is used to calculate the BPM
// of the last segment"; how far after the last real one Live puts it is not documented.
const HIDDEN_BEATS = 1 / 32;

// Seconds of the file at `beat` through warp markers ([beat, seconds] pairs, ordered): linear between the two
// around it, and past the ends along the nearest pair (Live's own reading, independent of the script's).
function secondsAt(markers, beat) {
  let i = 1;
  while (i < markers.length - 1 && markers[i][0] < beat) i++;
  const [[b0, s0], [b1, s1]] = [markers[i - 1], markers[i]];
  return s0 + (beat - b0) * (s1 - s0) / (b1 - b0);
}

// The beat at `seconds` of the file through the same markers.
function beatAt(markers, seconds) {
  let i = 1;
  while (i < markers.length - 1 && markers[i][1] < seconds) i++;
  const [[b0, s0], [b1, s1]] = [markers[i - 1], markers[i]];
  return b0 + (seconds - s0) * (b1 - b0) / (s1 - s0);
}

// The files of this fake computer: exact path -> bytes, so Windows paths, spaces and non-ASCII names
// can be tested on any machine. A path not listed is looked up on the real disk (the e2e test's clips).
class FakeDisk {
  constructor(files = {}) {
    this.files = new Map(Object.entries(files));
  }

  add(filePath, bytes) {
    this.files.set(filePath, bytes);
    return filePath;
  }

  read(filePath) {
    if (this.files.has(filePath)) return this.files.get(filePath);
    try {
      return fs.readFileSync(filePath);
    } catch {
      return null;
    }
  }
}

// Live names a clip after its file, without folder or extension (on any system's separators).
function clipNameOf(file) {
  return String(file).replace(/^.*[\/\\]/, "").replace(/\.[^.]+$/, "");
}

const TRACK_KINDS = ["audio", "midi", "group", "return", "main", "chain"];

// A little Live set: the app and its view, the song and its view, tracks, the device on one of them.
class FakeLive {
  constructor({
    version = [12, 1, 5], view = "Session", tempo = 120, songTime = 0, insertMarker = songTime, disk = new FakeDisk(),
    kind = "audio", slots = [false, false], midi = false, frozen = false, arrangement = [], guessBpm = 100,
  } = {}) {
    if (midi) kind = "midi";
    if (!TRACK_KINDS.includes(kind)) throw new Error(`unknown track kind ${kind}`);
    this.objects = new Map();
    this.nextId = 1;
    this.calls = [];
    this.errors = [];
    this.opened = 0;
    this.disk = disk;
    this.version = version;
    // Live warps a new audio clip: create_audio_clip gives `warping` 1 (a published probe of Live 12.4.1's LOM),
    // and Auto-Warp Long Samples is on by default (LRM, "Audio Clips, Tempo, and Warping"). It warps it at a
    // tempo of its own guess, from the audio; here `guessBpm`, by default not the song's 120, so a device that
    // leaves Live's warp in place plays the file at another speed in these tests, as it would in Live.
    this.guessBpm = guessBpm;
    this.app = this.add("Application", "live_app", {
      methods: { get_major_version: () => version[0], get_minor_version: () => version[1], get_bugfix_version: () => version[2] },
    });
    this.appView = this.add("Application.View", "live_app view", { props: { focused_document_view: [view] } });
    this.song = this.add("Song", "live_set", {
      // LOM Song.current_song_time: "the playing position in the Live Set, in beats" (the playhead);
      // Song.start_time: the insert marker, where playback starts when Play is pressed.
      props: { tempo: [tempo], current_song_time: [songTime], start_time: [insertMarker], tracks: [], return_tracks: [], master_track: ["id", 0], scenes: [] },
      methods: { create_scene: (index) => this.createScene(index), delete_scene: (index) => this.deleteScene(index) },
    });
    // LOM Song.View: detail_clip is "the clip currently displayed in the Live application's Detail
    // View", highlighted_clip_slot "the slot highlighted in the Session View"; id 0 when there is none.
    this.songView = this.add("Song.View", "live_set view", { props: { detail_clip: ["id", 0], highlighted_clip_slot: ["id", 0] } });
    const main = this.addTrack("main");
    this.song.props.master_track = ["id", main.id];
    this.track = kind === "chain" ? this.addChain() : kind === "main" ? main : this.addTrack(kind, { frozen });
    // LOM Track.arrangement_clips: the track's Arrangement View clips, as `id N id M ...`.
    for (const [start, end, file = "old.wav"] of arrangement) this.addArrangementClip(this.track, file, start, end);
    // Every track of the set has one slot per scene (LOM Song.scenes / Track.clip_slots).
    for (const full of slots) this.createScene(-1, full ? this.track : null);
    this.device = this.add("Device", null, { props: { canonical_parent: ["id", this.track.id] } });
  }

  add(type, canonicalPath, object = {}) {
    const id = this.nextId++;
    Object.assign(object, { id, type, canonicalPath, props: object.props || {}, methods: object.methods || {} });
    this.objects.set(id, object);
    return object;
  }

  // LOM Track: audio, MIDI, group, return and main tracks are all Tracks. A return track and the main
  // track have no clip slots and no Arrangement clips (their `clip_slots` list is empty); a group
  // track's slots are Group Track slots (LOM ClipSlot.is_group_slot). create_audio_clip "prints an
  // error if the track is not an audio track, if the track is frozen" (LOM Track, TakeLane).
  addTrack(kind, { frozen = false } = {}) {
    const list = kind === "return" ? this.song.props.return_tracks : kind === "main" ? null : this.song.props.tracks;
    const canonicalPath = kind === "main" ? "live_set master_track"
      : `live_set ${kind === "return" ? "return_tracks" : "tracks"} ${list.length / 2}`;
    const track = this.add("Track", canonicalPath, {
      kind,
      props: {
        name: [kind], has_midi_input: [kind === "midi" ? 1 : 0], has_audio_input: [kind === "audio" ? 1 : 0],
        is_foldable: [kind === "group" ? 1 : 0], is_frozen: [frozen ? 1 : 0], clip_slots: [], arrangement_clips: [],
      },
    });
    // LOM Track.create_audio_clip: available since Live 12.1; an older Live's Track has no such function.
    if (this.version[0] > 12 || (this.version[0] === 12 && this.version[1] >= 1)) {
      track.methods.create_audio_clip = (file, position) => this.trackAudioClip(track, file, position);
    }
    track.methods.duplicate_clip_to_arrangement = (clip, time) => this.duplicateToArrangement(track, clip, time);
    if (list) list.push("id", track.id);
    if (kind === "audio" || kind === "midi" || kind === "group") {
      for (let i = 0; i < this.song.props.scenes.length / 2; i++) this.addSlot(track, false);
    }
    return track;
  }

  // LOM Chain: a chain inside a rack is not a Track: it has devices, but no clip slots or clips.
  addChain() {
    return this.add("Chain", "live_set tracks 0 devices 0 chains 0", { props: { name: ["Chain"], devices: [] } });
  }

  addClip(props) {
    const clip = this.add("Clip", null, {
      props: {
        name: [""], is_audio_clip: [1], is_midi_clip: [0], warping: [0], looping: [0],
        start_marker: [0], end_marker: [0], loop_start: [0], loop_end: [0], start_time: [0], end_time: [0],
        sample_rate: [44100], ...props,
      },
    });
    // LOM Clip.warp_markers (Live 11): a dict; its "warp_markers" list holds each marker's "beat_time" and
    // "sample_time" ("the position in seconds in the audio sample file"), the hidden one last. LiveAPI.get
    // returns a dict property as its JSON text. clip.warp holds them as [[beat, seconds], ...].
    Object.defineProperty(clip.props, "warp_markers", {
      enumerable: true,
      get: () => [JSON.stringify({ warp_markers: (clip.warp || []).map(([beat_time, sample_time]) => ({ beat_time, sample_time })) })],
    });
    // LOM Clip.length: "For looped clips: loop length in beats. Otherwise it's the distance in beats from start
    // to end marker. Makes no sense for unwarped audio clips" (there it is seconds of the file, here).
    Object.defineProperty(clip.props, "length", {
      enumerable: true,
      get: () => [clip.props.looping[0] ? clip.props.loop_end[0] - clip.props.loop_start[0] : clip.props.end_marker[0] - clip.props.start_marker[0]],
    });
    const times = ["loop_start", "loop_end", "start_marker", "end_marker"];
    clip.setters = {
      // LOM Clip.warping: "Only available for audio clips". LOM Clip.loop_start: the loop and the markers are "in
      // absolute clip beat time if clip is MIDI or warped", and "if the clip is unwarped audio, they are given in
      // seconds": Warp turned on or off maps them through the warp markers (a clip never warped gets them at
      // Live's guessed tempo). Turned off, the loop goes off too: "Unwarped audio cannot be looped".
      warping: (value) => {
        if (!clip.props.is_audio_clip[0]) return this.error("set warping: only available for audio clips");
        const on = value ? 1 : 0;
        if (on === clip.props.warping[0]) return true;
        if (!clip.warp || clip.warp.length < 2) clip.warp = this.guessedMarkers();
        const map = on ? (seconds) => beatAt(clip.warp, seconds) : (beat) => secondsAt(clip.warp, beat);
        for (const key of times) clip.props[key] = [map(clip.props[key][0])];
        clip.props.warping = [on];
        if (!on) clip.props.looping = [0];
        return true;
      },
      // LOM Clip.looping: "Unwarped audio cannot be looped": Live refuses, and nothing changes.
      looping: (value) => {
        if (value && clip.props.is_audio_clip[0] && !clip.props.warping[0]) return this.error("set looping: unwarped audio cannot be looped");
        clip.props.looping = [value ? 1 : 0];
        return true;
      },
      // LOM Clip.start_marker: "Cannot be set behind the end marker."
      start_marker: (value) => {
        if (value > clip.props.end_marker[0]) return this.error("set start_marker: behind the end marker");
        clip.props.start_marker = [value];
        return true;
      },
      // LOM Clip.end_marker: "Cannot be set before the start marker."
      end_marker: (value) => {
        if (value < clip.props.start_marker[0]) return this.error("set end_marker: before the start marker");
        clip.props.end_marker = [value];
        return true;
      },
    };
    // LOM Clip.add_warp_marker: "Only available for warped Audio Clips. Adds the specified warp marker, if
    // possible", given as a dict with `beat_time` and `sample_time` (seconds; left out, Live keeps the timing).
    // "The sample time must lie within the range [0, s]", "between the left and right adjacent markers'
    // respective sample times", and "the allowed BPM range is [5, 999]" for the segments it makes. From Max's
    // js the dict is a Dict (get(key)); a plain object stands for one too.
    clip.methods.add_warp_marker = (dict) => {
      const field = (key) => (dict && typeof dict.get === "function" ? dict.get(key) : dict && dict[key]);
      if (!clip.props.warping[0]) return this.error("add_warp_marker: only available for warped audio clips");
      const real = clip.warp.slice(0, -1);
      const beat = Number(field("beat_time"));
      const given = field("sample_time");
      const seconds = given === undefined || given === null ? secondsAt(clip.warp, beat) : Number(given);
      if (real.some(([b]) => b === beat)) return this.error("add_warp_marker: a marker is already there");
      if (!(seconds >= 0 && seconds <= clip.seconds)) return this.error("add_warp_marker: sample time outside the sample");
      const left = real.filter(([b]) => b < beat).pop();
      const right = real.find(([b]) => b > beat);
      const bpm = (a, b) => (b[0] - a[0]) / (b[1] - a[1]) * 60;
      const marker = [beat, seconds];
      if ((left && !(seconds > left[1])) || (right && !(seconds < right[1]))) return this.error("add_warp_marker: sample time not between its neighbours");
      if ([left && bpm(left, marker), right && bpm(marker, right)].some((x) => x !== undefined && !(x >= 5 && x <= 999))) {
        return this.error("add_warp_marker: a segment outside 5 ... 999 BPM");
      }
      const markers = [...real, marker].sort((a, b) => a[0] - b[0]);
      const last = markers[markers.length - 1];
      const before = markers.length > 1 ? markers[markers.length - 2] : clip.warp[clip.warp.length - 1];
      const rate = markers.length > 1 ? (last[1] - before[1]) / (last[0] - before[0]) : (before[1] - last[1]) / (before[0] - last[0]);
      clip.warp = [...markers, [last[0] + HIDDEN_BEATS, last[1] + HIDDEN_BEATS * rate]];
    };
    return clip;
  }

  // A new clip's warp markers at Live's guessed tempo: one at the file's start, and the hidden one after it.
  guessedMarkers() {
    return [[0, 0], [HIDDEN_BEATS, HIDDEN_BEATS * 60 / this.guessBpm]];
  }

  // A clip of `file`. One create_audio_clip makes (`made`) is warped at Live's guessed tempo, its loop and
  // markers the whole file in beats at that tempo; one already in the set (a test's) is unwarped, its loop and
  // markers seconds of the file (LOM Clip.loop_start), unless `extra` says otherwise. LOM Clip.sample_length:
  // "Length of the Clip's sample, in samples"; sample_rate its rate.
  fileClip(file, extra = {}, { made = false } = {}) {
    const bytes = this.disk.read(file);
    const info = bytes && wavInfoOf(bytes);
    if (!info || !info.frames) return null;
    const seconds = info.frames / info.rate;
    const end = made ? seconds * this.guessBpm / 60 : seconds;
    const clip = this.addClip({ file_path: [file], name: [clipNameOf(file)], warping: [made ? 1 : 0], loop_end: [end], end_marker: [end],
      sample_rate: [info.rate], sample_length: [info.frames], ...extra });
    clip.seconds = seconds;
    if (made) clip.warp = this.guessedMarkers();
    return clip;
  }

  addSlot(track, full) {
    const group = track.kind === "group";
    const slot = this.add("ClipSlot", `${track.canonicalPath} clip_slots ${track.props.clip_slots.length / 2}`, {
      props: { has_clip: [0], clip: ["id", 0], is_group_slot: [group ? 1 : 0] },
    });
    // LOM ClipSlot.create_audio_clip: creates the clip from an absolute path; an error (nothing made)
    // if the slot has a clip, is a Group Track slot, or its track is not an unfrozen audio track.
    slot.methods.create_audio_clip = (file) => {
      if (slot.props.has_clip[0]) return this.error("create_audio_clip: clip slot is not empty");
      if (group || track.kind !== "audio") return this.error("create_audio_clip: not an audio track");
      if (track.props.is_frozen[0]) return this.error("create_audio_clip: track is frozen");
      const clip = this.fileClip(file, {}, { made: true });
      if (!clip) return this.error(`create_audio_clip: invalid file ${file}`);
      clip.canonicalPath = `${slot.canonicalPath} clip`;
      slot.props.has_clip = [1];
      slot.props.clip = ["id", clip.id];
    };
    // LOM ClipSlot.delete_clip: "Deletes the contained clip."
    slot.methods.delete_clip = () => {
      if (!slot.props.has_clip[0]) return this.error("delete_clip: the slot is empty");
      this.objects.delete(slot.props.clip[1]);
      slot.props.has_clip = [0];
      slot.props.clip = ["id", 0];
    };
    if (full && !group) {
      const clip = this.addClip({ file_path: ["old.wav"], name: ["old"] });
      clip.canonicalPath = `${slot.canonicalPath} clip`;
      slot.props.has_clip = [1];
      slot.props.clip = ["id", clip.id];
    }
    track.props.clip_slots.push("id", slot.id);
    return slot;
  }

  // LOM Song.create_scene(index): a new scene at index, -1 for the end; every track gets its slot. "Returns:
  // The new scene."
  createScene(index, filledOn = null) {
    if (index !== -1) return this.error("create_scene: only -1 is used by these tests");
    const scene = this.add("Scene", `live_set scenes ${this.song.props.scenes.length / 2}`);
    this.song.props.scenes.push("id", scene.id);
    for (const id of this.song.props.tracks.filter((x) => x !== "id")) {
      const track = this.objects.get(id);
      this.addSlot(track, track === filledOn);
    }
    return ["id", scene.id];
  }

  // LOM Song.delete_scene(index): "Delete the scene at the given index", with each track's slot in it; the
  // scenes and slots after it move up one.
  deleteScene(index) {
    const scenes = this.song.props.scenes.filter((x) => x !== "id");
    if (!(index >= 0 && index < scenes.length)) return this.error("delete_scene: no scene at that index");
    this.objects.delete(scenes[index]);
    scenes.splice(index, 1);
    this.song.props.scenes = scenes.flatMap((id) => ["id", id]);
    scenes.forEach((id, i) => { this.objects.get(id).canonicalPath = `live_set scenes ${i}`; });
    for (const trackId of this.song.props.tracks.filter((x) => x !== "id")) {
      const track = this.objects.get(trackId);
      const slots = this.slotIds(track);
      if (!slots.length) continue;
      const slot = this.objects.get(slots[index]);
      if (slot.props.has_clip[0]) this.objects.delete(slot.props.clip[1]);
      this.objects.delete(slots[index]);
      slots.splice(index, 1);
      track.props.clip_slots = slots.flatMap((id) => ["id", id]);
      slots.forEach((id, i) => {
        const moved = this.objects.get(id);
        moved.canonicalPath = `${track.canonicalPath} clip_slots ${i}`;
        if (moved.props.has_clip[0]) this.objects.get(moved.props.clip[1]).canonicalPath = `${moved.canonicalPath} clip`;
      });
    }
    return undefined;
  }

  // A clip already in a Session slot (its track's slot `index`), loaded from `file` with `props`.
  addSessionClip(track, index, file, props = {}) {
    const slot = this.objects.get(this.slotIds(track)[index]);
    const clip = this.fileClip(file, { name: [clipNameOf(file)], ...props }) || this.addClip({ name: ["midi"], ...props });
    clip.canonicalPath = `${slot.canonicalPath} clip`;
    slot.props.has_clip = [1];
    slot.props.clip = ["id", clip.id];
    return clip;
  }

  addArrangementClip(track, file, start, end) {
    const clip = this.addClip({ file_path: [file], name: [clipNameOf(file)], start_time: [start], end_time: [end] });
    this.arranged(track, clip);
    track.props.arrangement_clips.push("id", clip.id);
    return clip;
  }

  // LOM Track.create_audio_clip(file_path, start_time): an Arrangement clip at start_time in beats, as long as
  // the file warped at Live's guess. Its length is fixed there: an Arrangement clip's end_time is "always the
  // position of the clip's rightmost edge in the Arrangement" (LOM Clip.end_time, get only), which setting its
  // loop or markers does not move (Producer Pal, a Max for Live device that places clips: "arrangement clip
  // end_time is immutable after creation").
  trackAudioClip(track, file, position) {
    if (track.kind !== "audio") return this.error("create_audio_clip: not an audio track");
    if (track.props.is_frozen[0]) return this.error("create_audio_clip: track is frozen");
    if (!(position >= 0 && position <= 1576800)) return this.error("create_audio_clip: start_time out of range");
    const clip = this.fileClip(file, { start_time: [position] }, { made: true });
    if (!clip) return this.error(`create_audio_clip: invalid file ${file}`);
    this.lay(track, clip, position, position + clip.props.length[0]);
    return ["id", clip.id];
  }

  // LOM Track.duplicate_clip_to_arrangement(clip, destination_time): "Duplicate the given clip to the
  // Arrangement, placing it at the given destination_time in beats". The copy lasts what the clip plays: a
  // looped clip its loop, else from its start to its end marker (LOM Clip.length), in beats, or for unwarped
  // audio in seconds of the file, which at the song's tempo last seconds * tempo / 60 beats. From js the clip is
  // given as `id N` (as Producer Pal calls it); the new clip comes back as `id M`.
  duplicateToArrangement(track, clipRef, time) {
    const source = this.objects.get(Number(String(clipRef).replace(/^id\s+/, "")));
    if (!source || source.type !== "Clip") return this.error("duplicate_clip_to_arrangement: no such clip");
    if (track.kind !== "audio" && source.props.is_audio_clip[0]) return this.error("duplicate_clip_to_arrangement: not an audio track");
    if (track.props.is_frozen[0]) return this.error("duplicate_clip_to_arrangement: track is frozen");
    const p = source.props;
    const plays = p.looping[0] ? p.loop_end[0] - p.loop_start[0]
      : (p.end_marker[0] - p.start_marker[0]) * (p.warping[0] ? 1 : this.song.props.tempo[0] / 60);
    const copied = {};
    for (const key of Object.keys(p)) if (key !== "warp_markers" && key !== "length") copied[key] = p[key].slice();
    const copy = this.addClip({ ...copied, start_time: [time] });
    copy.seconds = source.seconds;
    copy.warp = source.warp && source.warp.map((marker) => marker.slice());
    this.lay(track, copy, time, time + plays);
    return ["id", copy.id];
  }

  // An Arrangement clip laid from `position` to `end`. LRM: a clip put where others are replaces the part of
  // them it covers: those wholly covered are gone, those partly covered are cut back to what is left of them.
  lay(track, clip, position, end) {
    clip.props.start_time = [position];
    clip.props.end_time = [end];
    const kept = [];
    for (const id of track.props.arrangement_clips.filter((x) => x !== "id")) {
      const other = this.objects.get(id).props;
      const [a, b] = [other.start_time[0], other.end_time[0]];
      if (b <= position || a >= end) kept.push(id);
      else if (a < position) {
        other.end_time = [position];
        kept.push(id);
      } else if (b > end) {
        other.start_time = [end];
        kept.push(id);
      } else this.objects.delete(id);
    }
    kept.push(clip.id);
    this.arranged(track, clip);
    track.props.arrangement_clips = kept.flatMap((id) => ["id", id]);
  }

  // An Arrangement clip's canonical path: its place in its track's list (LOM Track.arrangement_clips).
  arranged(track, clip) {
    Object.defineProperty(clip, "canonicalPath", {
      get: () => `${track.canonicalPath} arrangement_clips ${track.props.arrangement_clips.filter((x) => x !== "id").indexOf(clip.id)}`,
    });
  }

  error(message) {
    this.errors.push(message);
    return undefined;
  }

  // A LOM path (JSLA: "live_set tracks 0 clip_slots 1", "id 7", "this_device canonical_parent"):
  // each word after the root names a child, and a number picks one of a list of children.
  resolve(livePath) {
    const words = String(livePath).trim().split(/\s+/);
    const roots = { live_app: this.app, live_set: this.song, this_device: this.device };
    let object;
    let at = 1;
    if (words[0] === "id") {
      object = this.objects.get(Number(words[1]));
      at = 2;
    } else object = roots[words[0]];
    for (; object && at < words.length; at++) {
      const word = words[at];
      if (word === "view") {
        object = object === this.app ? this.appView : object === this.song ? this.songView : undefined;
        continue;
      }
      const children = object.props[word];
      if (!children || children[0] !== "id") return undefined;
      const list = children.filter((x) => x !== "id");
      if (list.length === 1 && !/^\d+$/.test(words[at + 1] || "")) object = this.objects.get(list[0]);
      else object = this.objects.get(list[Number(words[++at])]);
    }
    return object;
  }

  // What `new LiveAPI(path)` gives. JSLA: for a path with no object behind it, `id` is 0; the
  // object's calls then do nothing but print to the Max window. `path` comes back quoted, as Max
  // prints it; `unquotedpath` without the quotes; `type` is the LOM class. Properties come back as
  // lists: one value as a one-element list, children as `id N id M ...` (LOM: "list of ...").
  api(livePath) {
    this.opened++;
    const object = this.resolve(livePath);
    const live = this;
    const where = object && (object.canonicalPath || `id ${object.id}`);
    return {
      id: object ? String(object.id) : "0",
      type: object ? object.type : "",
      path: object ? `"${where}"` : "",
      unquotedpath: object ? where : "",
      get(prop) {
        if (!object) return live.error(`get: no valid object set (${livePath})`) || [];
        if (!(prop in object.props)) return live.error(`get: ${object.type} has no property ${prop}`) || [];
        return object.props[prop].slice();
      },
      set(prop, value) {
        if (!object) return live.error(`set: no valid object set (${livePath})`);
        live.calls.push({ id: object.id, method: "set", args: [prop, value] });
        if (!(prop in object.props)) return live.error(`set: ${object.type} has no property ${prop}`);
        if (object.setters && object.setters[prop]) object.setters[prop](value);
        else object.props[prop] = [value];
      },
      call(method, ...args) {
        if (!object) return live.error(`call ${method}: no valid object set (${livePath})`);
        live.calls.push({ id: object.id, method, args });
        if (!object.methods[method]) return live.error(`call: ${object.type} has no function ${method}`);
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

  slotIds(track = this.track) {
    return track.props.clip_slots.filter((x) => x !== "id");
  }

  arrangement(track = this.track) {
    return track.props.arrangement_clips.filter((x) => x !== "id").map((id) => this.objects.get(id).props)
      .map((p) => [p.start_time[0], p.end_time[0], p.file_path[0]]).sort((a, b) => a[0] - b[0]);
  }

  // A snapshot of everything the set holds, to show that a refused placement changed nothing.
  snapshot() {
    return JSON.stringify([...this.objects.values()].map(({ id, type, props }) => [id, type, props]));
  }
}

// The env the device gets in Max (see sonocanvas.js), recording what goes out of it.
function fakeEnv({ live = new FakeLive(), values = {}, ports = {}, os = "macintosh" } = {}) {
  const env = {
    os,  // Max's max.os: "macintosh" or "windows" (docs.cycling74.com/apiref/js/max)
    outlets: [[], []],
    shown: [],
    deferred: [],
    ports,
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
    timers: [],
    // Max's Task.schedule(ms): fn runs once, ms from now on env.clock, unless cancelled first (see advance()).
    after(ms, fn) {
      const timer = { due: env.clock + ms, fn, cancelled: false, cancel() { this.cancelled = true; } };
      env.timers.push(timer);
      return timer;
    },
    // Let `ms` pass: the timers due by then run, in the order they are due.
    advance(ms) {
      env.clock += ms;
      for (;;) {
        const due = env.timers.filter((t) => !t.cancelled && t.due <= env.clock).sort((a, b) => a.due - b.due)[0];
        if (!due) break;
        due.cancelled = true;
        due.fn();
      }
    },
    listening: [],
    listen(port) {
      env.listening.push(port);
    },
    store(name, value) {
      env.values[name] = value;
    },
    // A Max Dict (Dict.get(key) and set); a plain object of its keys stands for it.
    dict: (values) => ({ ...values }),
    now: () => env.clock,
    random: () => 0.25,
    posted: [],  // what the device printed in the Max Console (Max's `post`)
    post(text) {
      env.posted.push(text);
    },
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

module.exports = {
  Device, FakeLive, FakeDisk, fakeEnv, loadedDevice, loadPatcher, initialValues, wavBytes, wavSecondsOf, secondsAt,
  PATCHER_PATH, SCRIPT_PATH, OSC_DOC_PATH, ROOT,
};
