import assert from "node:assert/strict";
import { fakeSource } from "./_testing.ts";
import { csvHeader } from "./csv.ts";
import { formatUptime, SERVERS_STATE_HEADER } from "./report.ts";
import {
  type Command,
  executeLine,
  newSession,
  parseCommand,
  parseWeight,
  type Session,
  splitLine,
} from "./runtime_api.ts";

Deno.test("splitLine: ';' separates commands, blanks separate words, '\\' escapes", () => {
  const cases: [string, string[][]][] = [
    ["show info", [["show", "info"]]],
    ["  show   info  ", [["show", "info"]]],
    ["show info;get weight a/b", [["show", "info"], ["get", "weight", "a/b"]]],
    ["a\\;b c", [["a;b", "c"]]],
    ["a\\ b", [["a b"]]],
    ["x;", [["x"], []]],
    ["", [[]]],
  ];
  for (const [line, want] of cases) assert.deepEqual(splitLine(line), want, line);
});

Deno.test("parseCommand table", () => {
  const cases: [string, Command][] = [
    ["show info", { kind: "show-info" }],
    ["show stat", { kind: "show-stat", filter: null }],
    ["show stat be", { kind: "show-stat", filter: null }],
    ["show stat be 4 -1", { kind: "show-stat", filter: { proxy: "be", types: 4, sid: -1 } }],
    ["show servers state", { kind: "show-servers-state", backend: null }],
    ["show servers state web", { kind: "show-servers-state", backend: "web" }],
    ["show vrrp", { kind: "show-vrrp" }],
    ["set server web/app1 state drain", {
      kind: "set-state",
      backend: "web",
      server: "app1",
      state: "drain",
    }],
    ["set server web/app1 weight 50%", {
      kind: "set-weight",
      backend: "web",
      server: "app1",
      weight: "50%",
    }],
    ["enable server web/app1", {
      kind: "set-state",
      backend: "web",
      server: "app1",
      state: "ready",
    }],
    ["disable server web/app1", {
      kind: "set-state",
      backend: "web",
      server: "app1",
      state: "maint",
    }],
    ["set weight web/app1 3", { kind: "set-weight", backend: "web", server: "app1", weight: "3" }],
    ["get weight web/app1", { kind: "get-weight", backend: "web", server: "app1" }],
    ["reload", { kind: "reload" }],
    ["help", { kind: "help" }],
    ["prompt", { kind: "prompt" }],
    ["quit", { kind: "quit" }],
    ["set severity-output number", { kind: "severity", mode: "number" }],
    ["get weight web", { kind: "error", message: "Require 'backend/server'." }],
    ["disable server", { kind: "error", message: "Require 'backend/server'." }],
    ["set weight web/app1", { kind: "error", message: "Require <weight> or <weight%>." }],
    ["set server web/app1 state bogus", {
      kind: "error",
      message: "'set server <srv> state' expects 'ready', 'drain' and 'maint'.",
    }],
    ["set server web/app1", {
      kind: "error",
      message: "usage: set server <backend>/<server> state | weight",
    }],
  ];
  for (const [line, want] of cases) assert.deepEqual(parseCommand(splitLine(line)[0]), want, line);
  const unknown = parseCommand(["frobnicate"]);
  assert.equal(unknown.kind, "error");
  assert.ok(
    (unknown as { message: string }).message.startsWith(
      "Unknown command. Please enter one of the following commands only:\n  disable server",
    ),
  );
  const close = parseCommand(["show", "bogus"]);
  assert.ok(
    (close as { message: string }).message.startsWith(
      "Unknown command, but maybe one of the following ones is a better match:\n  show info",
    ),
  );
});

Deno.test("parseWeight follows HAProxy's strtol rules and messages", () => {
  const cases: [string, number, number | string][] = [
    ["3", 1, 3],
    ["0", 1, 0],
    ["256", 1, 256],
    ["+7", 1, 7],
    ["50%", 3, 1],
    ["100%", 3, 3],
    ["257", 1, "Absolute weight can only be between 0 and 256 inclusive.\n"],
    ["-1", 1, "Absolute weight can only be between 0 and 256 inclusive.\n"],
    ["-5%", 1, "Relative weight must be positive.\n"],
    ["1000%", 100, "Relative weight too large.\n"],
    ["abc", 1, "Empty weight string empty or preceded by garbage"],
    ["3x", 1, "Trailing garbage in weight string"],
  ];
  for (const [text, iweight, want] of cases) assert.equal(parseWeight(text, iweight), want, text);
});

async function run(
  line: string,
  options: { allowChanges?: boolean; session?: Session; source?: ReturnType<typeof fakeSource> } =
    {},
) {
  const source = options.source ?? fakeSource();
  const session = options.session ?? newSession();
  const result = await executeLine(line, {
    source,
    session,
    options: { allowChanges: options.allowChanges ?? true },
  });
  return { ...result, text: result.parts.join(""), source, session };
}

Deno.test("answers end with an empty line, as HAProxy's", async () => {
  const cases: [string, string][] = [
    ["get weight web/app3", "2 (initial 2)\n\n"],
    ["get weight nope/app1", "No such backend.\n\n"],
    ["get weight web/nope", "No such server.\n\n"],
    ["get weight #3/#1", "1 (initial 1)\n\n"],
    ["set weight web/app1 3", "\n"],
    ["set weight web/app1 abc", "Empty weight string empty or preceded by garbage\n"],
    ["set weight web/app1 3x", "Trailing garbage in weight string\n"],
    ["set weight web/app1 300", "Absolute weight can only be between 0 and 256 inclusive.\n\n"],
    [
      "set server web/app1 state bogus",
      "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n",
    ],
    ["show servers state nope", "Can't find backend.\n\n"],
    ["show stat nope 4 -1", "No such proxy.\n\n"],
    ["get weight web/app1;get weight web/app3", "1 (initial 1)\n\n2 (initial 2)\n\n"],
    ["get weight web/app1;", "1 (initial 1)\n\n"],
  ];
  for (const [line, want] of cases) assert.equal((await run(line)).text, want, line);
});

Deno.test("set and enable/disable go through the source's one action function", async () => {
  const { source, text } = await run(
    "disable server web/app1;set server web/app2 state drain;enable server web/app3;" +
      "set weight web/spare 50%;set server web/app1 weight 4",
  );
  assert.equal(text, "\n\n\n\n\n");
  assert.deepEqual(source.calls.map((c) => [c.server, c.action]), [
    ["app1", "maint"],
    ["app2", "drain"],
    ["app3", "ready"],
    ["spare", { weight: 0 }],
    ["app1", { weight: 4 }],
  ]);
  assert.equal((await run("get weight web/app1", { source })).text, "4 (initial 1)\n\n");
});

Deno.test("without allow_changes, changes answer 'Permission denied'", async () => {
  for (const line of ["set weight web/app1 2", "disable server web/app1", "reload"]) {
    const r = await run(line, { allowChanges: false });
    assert.equal(r.text, "Permission denied\n\n", line);
    assert.equal(r.failed, true);
    assert.equal(r.source.calls.length + r.source.reloads, 0);
  }
  assert.equal((await run("get weight web/app1", { allowChanges: false })).failed, false);
});

Deno.test("set severity-output prefixes messages only", async () => {
  const r = await run("set severity-output number;get weight nope/x;get weight web/app1;reload");
  assert.equal(
    r.text,
    "\n[3]: No such backend.\n\n1 (initial 1)\n\n[6]: Reload done: the new configuration is serving.\n\n",
  );
  assert.equal(r.failed, true);
  const s = await run("set severity-output string;disable server web/zz");
  assert.equal(s.text, "\n[err]: No such server.\n\n");
});

Deno.test("show info, show stat, show servers state, show vrrp, help", async () => {
  const info = (await run("show info")).text;
  assert.match(
    info,
    /^Name: halb\nVersion: 0\.1\.0\nPid: 4242\nUptime: 0d 1h02m03s\nUptime_sec: 3723\n/,
  );
  assert.match(info, /\nCurrConns: 2\n/);
  assert.ok(info.endsWith("\n\n"));

  const stat = (await run("show stat")).text.split("\n");
  assert.equal(stat[0], csvHeader());
  assert.equal(stat.length, 1 + 9 + 2);
  const servers = (await run("show stat web 4 -1")).text.trimEnd().split("\n");
  assert.deepEqual(servers.slice(1).map((l) => l.split(",").slice(0, 2).join("/")), [
    "web/app1",
    "web/app2",
    "web/app3",
    "web/spare",
  ]);
  assert.match(servers[1], /,127\.0\.0\.1:9001,/);
  const one = (await run("show stat -1 2 -1")).text.trimEnd().split("\n");
  assert.deepEqual(one.slice(1).map((l) => l.split(",")[1]), ["BACKEND", "BACKEND"]);

  const state = (await run("show servers state web")).text.split("\n");
  assert.equal(state[0], "1");
  assert.equal(state[1], SERVERS_STATE_HEADER);
  assert.equal(state[2], "3 web 1 app1 127.0.0.1 2 0 1 1 75 6 3 4 6 0 0 0 - 9001 - 0 0 - - 0");
  assert.equal(state[3], "3 web 2 app2 127.0.0.1 0 0 1 1 75 8 2 0 6 0 0 0 - 9002 - 0 0 - - 0");
  assert.equal(state[4], "3 web 3 app3 127.0.0.1 2 0 2 2 75 1 0 0 0 0 0 0 - 9003 - 0 0 - - 0");

  const vrrp = (await run("show vrrp")).text.split("\n");
  assert.equal(vrrp[0], "# name state priority effective_priority master vips last_transition");
  assert.equal(vrrp[1], "VI_1 master 150 150 - 192.0.2.10/24 2026-05-01T11:59:00.000Z");
  assert.equal(vrrp[2], "VI_2 backup 100 90 192.0.2.2 - 2026-05-01T11:58:00.000Z");

  const help = (await run("help")).text;
  assert.match(help, /^The following commands are valid at this level:\n/);
  assert.ok(
    help.includes(
      "\n  get weight <bk>/<srv>                   : report a server's current weight\n",
    ),
  );
});

Deno.test("reload reports the source's result", async () => {
  const source = fakeSource();
  source.reloadResult = { ok: false, errors: ["halb.toml:2:1: bad key"] };
  const r = await run("reload", { source });
  assert.equal(
    r.text,
    "Reload rejected; the running configuration keeps serving:\nhalb.toml:2:1: bad key\n\n",
  );
  assert.equal(r.failed, true);
  assert.equal(source.reloads, 1);
});

Deno.test("prompt and quit change the session", async () => {
  const session = newSession();
  assert.equal((await run("prompt", { session })).text, "\n");
  assert.equal(session.interactive, true);
  const q = await run("get weight web/app1;quit;get weight web/app1", { session });
  assert.equal(q.text, "1 (initial 1)\n\n");
  assert.equal(session.quit, true);
});

Deno.test("formatUptime", () => {
  assert.equal(formatUptime(8), "0d 0h00m08s");
  assert.equal(formatUptime(90061), "1d 1h01m01s");
});
