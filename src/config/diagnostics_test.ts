import assert from "node:assert/strict";
import {
  Diagnostics,
  editDistance,
  formatDiagnostic,
  formatPath,
  type PathLocator,
  suggest,
} from "./diagnostics.ts";

Deno.test("formatPath uses TOML names with indexes and quotes odd keys", () => {
  assert.equal(formatPath(["vrrp", "instance", 0, "advert_int"]), "vrrp.instance[0].advert_int");
  assert.equal(
    formatPath(["frontend", "main", "bind", 1, "crt", 0]),
    "frontend.main.bind[1].crt[0]",
  );
  assert.equal(formatPath(["backend", "a b", "errorfile", "503"]), 'backend."a b".errorfile.503');
  assert.equal(formatPath([]), "");
});

Deno.test("formatDiagnostic: errors, warnings, no position, no path", () => {
  const base = { file: "h.toml", line: 3, column: 7, path: "global.maxconn", message: "bad" };
  assert.equal(formatDiagnostic({ ...base, severity: "error" }), "h.toml:3:7: global.maxconn: bad");
  assert.equal(
    formatDiagnostic({ ...base, severity: "warning" }),
    "h.toml:3:7: global.maxconn: warning: bad",
  );
  assert.equal(
    formatDiagnostic({ ...base, severity: "error", line: 0, column: 0, path: "" }),
    "h.toml: bad",
  );
  assert.equal(formatDiagnostic({ ...base, severity: "error", path: "" }), "h.toml:3:7: bad");
});

Deno.test("Diagnostics sorts by position, dedupes and tracks errors", () => {
  const locator: PathLocator = {
    locate: (path, anchor) => ({ line: path.length, column: anchor === "key" ? 1 : 5 }),
  };
  const d = new Diagnostics("f.toml", locator);
  d.warn(["a", "b"], "w");
  assert.equal(d.hasErrors, false);
  d.error(["a"], "e1", "key");
  d.error(["a"], "e1", "key");
  d.error(["a", "b", "c"], "e2");
  assert.equal(d.hasErrors, true);
  assert.deepEqual(d.sorted().map((x) => `${x.line}:${x.column} ${x.path} ${x.message}`), [
    "1:1 a e1",
    "2:5 a.b w",
    "3:5 a.b.c e2",
  ]);
});

Deno.test("suggest finds close keys only", () => {
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(suggest("advert_intt", ["advert_int", "priority"]), "advert_int");
  assert.equal(suggest("MASTR", ["MASTER", "BACKUP"]), "MASTER");
  assert.equal(suggest("Priority", ["priority"]), "priority");
  assert.equal(suggest("zzz", ["priority", "state"]), null);
});
