/**
 * Corpus tests of the config compiler: every `tests/testdata/invalid/NNN_name.toml` must give
 * exactly the diagnostics in `NNN_name.expected` (formatted, one per line), and every
 * `tests/testdata/valid/*.toml` must compile without errors. Host lookups are faked so that the
 * warnings do not depend on the machine.
 *
 * @module
 */

import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { TEST_PROBE } from "../src/config/_testing.ts";
import { formatDiagnostic, loadConfig } from "../src/config/load.ts";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

function tomlFiles(dir: string): string[] {
  return [...Deno.readDirSync(join(ROOT, dir))]
    .filter((e) => e.isFile && e.name.endsWith(".toml"))
    .map((e) => e.name)
    .sort();
}

/** The path as passed to loadConfig: relative to the working directory (the repo root in CI). */
function pathFor(dir: string, name: string): string {
  return relative(Deno.cwd(), join(ROOT, dir, name));
}

Deno.test("invalid corpus: each file gives exactly its expected diagnostics", () => {
  const files = tomlFiles("tests/testdata/invalid");
  assert.ok(files.length >= 45, `only ${files.length} invalid configs`);
  const prefix = pathFor("tests/testdata/invalid", "");
  for (const name of files) {
    const expectedFile = join(ROOT, "tests/testdata/invalid", name.replace(/\.toml$/, ".expected"));
    const expected = Deno.readTextFileSync(expectedFile)
      .trimEnd()
      .split("\n")
      .map((line) => line.replaceAll("tests/testdata/invalid/", prefix + "/"));
    const result = loadConfig(pathFor("tests/testdata/invalid", name), { probe: TEST_PROBE });
    const got = result.diagnostics.map(formatDiagnostic);
    assert.deepEqual(got, expected, name);
    assert.equal(result.config, null, `${name} compiled although it has errors`);
  }
});

Deno.test("valid corpus: each file compiles without errors into a frozen config", () => {
  const files = tomlFiles("tests/testdata/valid");
  assert.ok(files.includes("halb.example.toml"));
  for (const name of files) {
    const result = loadConfig(pathFor("tests/testdata/valid", name), { probe: TEST_PROBE });
    const errors = result.diagnostics.filter((d) => d.severity === "error").map(formatDiagnostic);
    assert.deepEqual(errors, [], name);
    assert.ok(result.config !== null, name);
    assert.ok(Object.isFrozen(result.config.frontends), name);
  }
});

Deno.test("loadConfig: a missing file is one diagnostic without a position", () => {
  const path = pathFor("tests/testdata", "no_such_file.toml");
  const result = loadConfig(path);
  assert.equal(result.config, null);
  assert.deepEqual(result.diagnostics.map(formatDiagnostic), [
    `${path}: cannot read file: no such file`,
  ]);
});
