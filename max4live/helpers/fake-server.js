// A stand-in for `sonocanvas serve` over real UDP on 127.0.0.1, for what the real server does not answer yet:
// ranking with Keep (issue 16), whose server side is written at the same time as the device's. It answers the
// messages the device sends as docs/osc.md says, and a generate with `keep` as issue 16 specifies it:
//   /sonocanvas/ready version device models client [scorers]   (scorers: "clip clap", "" for none; left out by
//                                                               an older server, `scorers: null` here)
//   for each kept clip, in rank order: /sonocanvas/scores job index rank candidates [kind score]...
//                                      then /sonocanvas/done job index wav png json, with index = rank - 1.
// Candidates are ranked as docs/ranking.md defines `both`: by the sum of their CLIP and CLAP places (1 is best),
// ties going to the higher CLAP score, then to the earlier candidate; a server without scorers refuses ranking
// with an error on `rank`. Its clips are real WAV files in its drop folder; its scores are made up.
"use strict";

const dgram = require("node:dgram");
const fs = require("node:fs");
const path = require("node:path");
const { once } = require("node:events");
const { encode, decode } = require("./osc.js");
const { wavBytes } = require("./fakes.js");

const SECONDS = 2;

// Made-up but fixed scores for a seed, in [-0.2, 0.5), so a test can work out the ranking itself.
function scoresOf(seed) {
  return { clip: ((seed * 7919) % 70) / 100 - 0.2, clap: ((seed * 104729) % 70) / 100 - 0.2 };
}

// Indices of `scores` best first: by the sum of CLIP and CLAP places, ties to the higher CLAP score, then to the
// earlier candidate (Array.prototype.sort is stable).
function rankBoth(scores) {
  const place = (kind) => {
    const order = scores.map((_, i) => i).sort((a, b) => scores[b][kind] - scores[a][kind]);
    return Object.fromEntries(order.map((i, p) => [i, p + 1]));
  };
  const clip = place("clip");
  const clap = place("clap");
  return scores.map((_, i) => i).sort((a, b) => clip[a] + clap[a] - (clip[b] + clap[b]) || scores[b].clap - scores[a].clap);
}

class FakeServer {
  constructor(folder, { scorers = "clip clap", keys = ["keep", "rank"] } = {}) {
    this.drop = path.join(folder, "drop");
    fs.mkdirSync(this.drop, { recursive: true });
    this.scorers = scorers;
    this.keys = keys; // generate keys it knows beyond the device's usual ones: an older server knows neither
    this.received = [];
    this.replyPorts = new Map();
    this.closers = [];
    this.log = [];
    this.socket = dgram.createSocket("udp4");
    this.socket.on("message", (packet, from) => {
      for (const { address, args } of decode(packet)) this.handle(address, args, from);
    });
  }

  async start() {
    this.socket.bind(0, "127.0.0.1");
    await once(this.socket, "listening");
    this.port = this.socket.address().port;
    return this;
  }

  output() {
    return this.log.join("\n");
  }

  close() {
    for (const close of this.closers) close();
    this.socket.close();
  }

  send(to, address, ...args) {
    this.log.push(`-> ${address} ${JSON.stringify(args)}`);
    this.socket.send(encode(address, args), to.port, to.address);
  }

  handle(address, args, from) {
    this.received.push([address, ...args]);
    this.log.push(`<- ${address} ${JSON.stringify(args)}`);
    const key = `${from.address}:${from.port}`;
    const to = { address: from.address, port: this.replyPorts.get(key) || from.port };
    if (address === "/sonocanvas/hello") {
      this.replyPorts.set(key, args[0]);
      to.port = args[0];
      const ready = ["0.2.0-fake", "cpu", "fake (no models)", "f00d"];
      this.send(to, "/sonocanvas/ready", ...(this.scorers === null ? ready : [...ready, this.scorers]));
    } else if (address === "/sonocanvas/limits") {
      this.send(to, "/sonocanvas/limits", "steps", 1, 500, "variations", 1, 8, "keep", 1, 64, "bars", 1, 64);
    } else if (address === "/sonocanvas/preset/list") {
      this.send(to, "/sonocanvas/preset/names");
      this.send(to, "/sonocanvas/preset/names/end", 0);
    } else if (address === "/sonocanvas/fx/list") {
      this.send(to, "/sonocanvas/fx/names");
      this.send(to, "/sonocanvas/fx/names/end", 0);
    } else if (address === "/sonocanvas/status") {
      this.send(to, "/sonocanvas/status", "", 0, "cpu");
    } else if (address === "/sonocanvas/generate") {
      this.generate(args, to);
    } else {
      this.send(to, "/sonocanvas/error", "", "address", `address: unknown address ${address}`);
    }
  }

  generate([job, ...pairs], to) {
    const keys = {};
    for (let i = 0; i + 1 < pairs.length; i += 2) keys[pairs[i]] = pairs[i + 1];
    if (keys.reply_port) to = { address: to.address, port: keys.reply_port };
    const known = ["image_prompt", "audio_prompt", "seed", "steps", "image_guidance", "audio_guidance", "audio_weight",
      "variations", "audio_model", "reply_port", "client", ...this.keys];
    const unknown = Object.keys(keys).find((name) => !known.includes(name));
    if (unknown) return this.send(to, "/sonocanvas/error", job, unknown, `${unknown}: not a generation setting`);
    const candidates = keys.variations || 1;
    const keep = keys.keep || candidates;
    if (keys.keep && this.scorers === "") return this.send(to, "/sonocanvas/error", job, "rank", "rank: this server has no scorer");
    if (keep > candidates) return this.send(to, "/sonocanvas/error", job, "keep", "keep: more than variations");
    this.send(to, "/sonocanvas/queued", job, 1);
    this.send(to, "/sonocanvas/progress", job, candidates, candidates);
    const seeds = Array.from({ length: candidates }, (_, i) => keys.seed + i);
    const scores = seeds.map(scoresOf);
    const order = keys.keep ? rankBoth(scores) : seeds.map((_, i) => i);
    this.kept = order.slice(0, keep).map((i, place) => ({ seed: seeds[i], rank: place + 1, scores: scores[i] }));
    this.kept.forEach(({ seed, rank, scores: s }, index) => {
      const stem = path.join(this.drop, `20261201-120000_fake_s${seed}`);
      fs.writeFileSync(`${stem}.wav`, wavBytes(SECONDS));
      if (keys.keep) this.send(to, "/sonocanvas/scores", job, index, rank, candidates, "clip", s.clip, "clap", s.clap);
      this.send(to, "/sonocanvas/done", job, index, `${stem}.wav`, `${stem}.png`, `${stem}.json`);
    });
  }
}

module.exports = { FakeServer, rankBoth, scoresOf };
