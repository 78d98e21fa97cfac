// Live 12.0 ships Max 8, whose `js` object runs ES5: the device's script must parse as ES5.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const acorn = require("acorn");
const { SCRIPT_PATH } = require("../helpers/fakes.js");

test("sonocanvas.js parses as ES5", () => {
  const program = acorn.parse(fs.readFileSync(SCRIPT_PATH, "utf8"), { ecmaVersion: 5 });
  assert.ok(program.body.length > 20);
});

test("the ES5 parser refuses what Max 8 would refuse", () => {
  for (const later of ["let x = 1;", "const f = () => 1;", "var s = `t`;", "class A {}", "var {a} = b;"]) {
    assert.throws(() => acorn.parse(later, { ecmaVersion: 5 }), SyntaxError, later);
  }
});
