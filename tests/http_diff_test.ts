/**
 * The differential suite of issue #3: every scenario in tests/testdata/http_diff runs through
 * a real HAProxy 2.6 and through halb at the same time (same configuration written in both
 * languages, fresh origins on each side) and must be observed identically: status lines,
 * headers (names case-insensitively, `date` ignored), bodies, which origin answered and what
 * it received, and whether the client connection stayed open.
 *
 * Set `HALB_DIFF_ONLY=name1,name2` to run a subset and `HALB_DIFF_DUMP=1` to print both sides'
 * observations as JSON. Needs /usr/sbin/haproxy (skipped without).
 *
 * @module
 */
import assert from "node:assert/strict";
import { compileConfig } from "../src/config/load.ts";
import { formatDiagnostic } from "../src/config/diagnostics.ts";
import {
  DATA_DIR,
  halbText,
  haveHaproxy,
  runScenario,
  type Scenario,
  substitute,
} from "./helpers/http_diff.ts";
import { BALANCING, COOKIE_DATES, PERSISTENCE } from "./testdata/http_diff/balance_persist.ts";
import { CHECK_POST } from "./testdata/http_diff/check_post.ts";
import { CONNECTIONS, FORWARDFOR } from "./testdata/http_diff/connection.ts";
import { ERRORS, TLS } from "./testdata/http_diff/errors_tls.ts";
import { REDIRECTS, RULES } from "./testdata/http_diff/rules.ts";
import { ROUTING } from "./testdata/http_diff/routing.ts";

const ALL: Scenario[] = [
  ...ROUTING,
  ...BALANCING,
  ...CHECK_POST,
  ...PERSISTENCE,
  ...COOKIE_DATES,
  ...RULES,
  ...REDIRECTS,
  ...FORWARDFOR,
  ...CONNECTIONS,
  ...ERRORS,
  ...TLS,
];
const only = Deno.env.get("HALB_DIFF_ONLY")?.split(",").filter((s) => s.length > 0);
const DUMP = Deno.env.get("HALB_DIFF_DUMP") === "1";
const SELECTED = only ? ALL.filter((s) => only.includes(s.name)) : ALL;

Deno.test("http diff: scenario names are unique and there are at least 40", () => {
  const names = new Set(ALL.map((s) => s.name));
  assert.equal(names.size, ALL.length);
  assert.ok(ALL.length >= 40, `${ALL.length} scenarios`);
});

Deno.test("http diff: every scenario's halb config compiles", () => {
  const problems: string[] = [];
  for (const s of ALL) {
    const values: Record<string, number | string> = { DIR: DATA_DIR, dead: 1 };
    let port = 20000;
    for (const k of ["FE", "FE2", "FE3", ...(s.origins ?? ["s1", "s2"])]) values[k] = port++;
    const r = compileConfig(substitute(halbText(s), values), {
      file: `${DATA_DIR}/${s.name}.toml`,
    });
    for (const d of r.diagnostics) {
      if (d.severity === "error") problems.push(`${s.name}: ${formatDiagnostic(d)}`);
    }
  }
  assert.deepEqual(problems, []);
});

for (const s of SELECTED) {
  Deno.test({
    name: `http diff: ${s.name} — ${s.covers}`,
    ignore: !haveHaproxy,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const { haproxy, halb, diffs } = await runScenario(s);
      if (DUMP) console.log(JSON.stringify({ scenario: s.name, haproxy, halb }, null, 1));
      assert.equal(haproxy.startError, null, `haproxy side failed: ${haproxy.startError}`);
      if (diffs.length > 0) {
        const log = halb.log.slice(-8).map((l) => `  ${l}`).join("\n");
        assert.fail(`${diffs.length} difference(s):\n${diffs.join("\n")}\nhalb log tail:\n${log}`);
      }
    },
  });
}
