import assert from "node:assert/strict";
import { createLogger, memorySink } from "../log/logger.ts";
import {
  CAP_NET_BIND_SERVICE,
  capabilityName,
  decodeCapData,
  type DropOptions,
  encodeCapData,
  holdThroughSwitch,
  type Identity,
  KEPT_CAPABILITIES,
  parseGroup,
  parsePasswd,
  planSwitch,
  resolveIdentity,
  switchUser,
  threadCapabilities,
} from "./privileges.ts";
import { libc } from "./libc.ts";

const PR_GET_KEEPCAPS = 7;

const PASSWD = `root:x:0:0:root:/root:/bin/bash
# a comment line
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
halb:x:998:997:halb daemon:/var/lib/halb:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
orphan:x:1200:4242::/home/orphan:/bin/sh
+nisuser::::::
broken:x:abc:1:::
short:x:5

:x:7:7:::
huge:x:4294967296:1:::
`;

const GROUP = `root:x:0:
daemon:x:1:
halb:x:997:
web:x:33:halb,www-data
nogroup:x:65534:
-nisgroup
bad:x:-1:
`;

const DB = { passwd: PASSWD, group: GROUP };

Deno.test("parsePasswd keeps well-formed entries, skips comments, NIS and malformed lines", () => {
  assert.deepEqual(parsePasswd(PASSWD), [
    { name: "root", uid: 0, gid: 0 },
    { name: "daemon", uid: 1, gid: 1 },
    { name: "halb", uid: 998, gid: 997 },
    { name: "nobody", uid: 65534, gid: 65534 },
    { name: "orphan", uid: 1200, gid: 4242 },
  ]);
  assert.deepEqual(parsePasswd(""), []);
  assert.deepEqual(parsePasswd("a:x:4294967294:0\r\nb:x:4294967295:0\r\n"), [
    { name: "a", uid: 4294967294, gid: 0 },
  ]);
});

Deno.test("parseGroup keeps name and gid of well-formed entries", () => {
  assert.deepEqual(parseGroup(GROUP), [
    { name: "root", gid: 0 },
    { name: "daemon", gid: 1 },
    { name: "halb", gid: 997 },
    { name: "web", gid: 33 },
    { name: "nogroup", gid: 65534 },
  ]);
});

Deno.test("parsers read this machine's databases", () => {
  const users = parsePasswd(Deno.readTextFileSync("/etc/passwd"));
  assert.deepEqual(users.find((u) => u.name === "root"), { name: "root", uid: 0, gid: 0 });
  assert.ok(parseGroup(Deno.readTextFileSync("/etc/group")).some((g) => g.gid === 0));
});

Deno.test("resolveIdentity: names to ids, the primary group when group is unset", () => {
  const table: Array<[string | null, string | null, Identity | string]> = [
    ["halb", null, { user: "halb", uid: 998, group: "halb", gid: 997 }],
    ["halb", "web", { user: "halb", uid: 998, group: "web", gid: 33 }],
    ["nobody", "nogroup", { user: "nobody", uid: 65534, group: "nogroup", gid: 65534 }],
    [null, "web", { user: null, uid: null, group: "web", gid: 33 }],
    ["orphan", null, { user: "orphan", uid: 1200, group: "4242", gid: 4242 }],
    ["ghost", "web", 'unknown user "ghost"'],
    ["halb", "ghosts", 'unknown group "ghosts"'],
    ["broken", null, 'unknown user "broken"'],
    [null, null, "neither user nor group is set"],
  ];
  for (const [user, group, want] of table) {
    const got = resolveIdentity({ user, group }, DB);
    const expected = typeof want === "string"
      ? { ok: false, error: want }
      : { ok: true, identity: want };
    assert.deepEqual(got, expected, `${user}:${group}`);
  }
});

Deno.test("planSwitch: root switches, others only when they already are that user", () => {
  const halb: Identity = { user: "halb", uid: 998, group: "web", gid: 33 };
  const groupOnly: Identity = { user: null, uid: null, group: "web", gid: 33 };
  const table: Array<[Identity, number, number, boolean, string]> = [
    [halb, 0, 0, true, "drop"],
    [halb, 0, 33, false, "drop"],
    [halb, 998, 33, true, "none"],
    [halb, 998, 997, false, "none"],
    [halb, 998, 997, true, "refuse"],
    [halb, 1000, 33, true, "refuse"],
    [groupOnly, 1000, 33, true, "none"],
    [groupOnly, 1000, 1000, true, "refuse"],
    [groupOnly, 0, 0, true, "drop"],
  ];
  for (const [identity, uid, gid, explicit, want] of table) {
    assert.equal(
      planSwitch(identity, { current: { uid, gid }, groupSet: explicit }).action,
      want,
      `${identity.user}:${identity.group} as ${uid}:${gid}`,
    );
  }
  assert.deepEqual(planSwitch(halb, { current: { uid: 1000, gid: 1000 }, groupSet: true }), {
    action: "refuse",
    error: "halb runs as uid 1000 gid 1000, not root: it cannot switch to halb:web; " +
      "start it as root or as that user",
  });
});

Deno.test("capability data: two little-endian structs of effective, permitted, inheritable", () => {
  const sets = { effective: 0x3400n, permitted: (1n << 40n) | 0x3400n, inheritable: 1n << 33n };
  const data = encodeCapData(sets);
  assert.equal(data.byteLength, 24);
  const words = Array.from(
    { length: 6 },
    (_, i) => new DataView(data.buffer).getUint32(i * 4, true),
  );
  assert.deepEqual(words, [0x3400, 0x3400, 0, 0, 1 << 8, 2]);
  assert.deepEqual(decodeCapData(data), sets);
  assert.equal(capabilityName(CAP_NET_BIND_SERVICE), "CAP_NET_BIND_SERVICE");
  assert.equal(capabilityName(21), "CAP_21");
  assert.deepEqual(KEPT_CAPABILITIES.map(capabilityName), [
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_NET_BIND_SERVICE",
  ]);
});

Deno.test("threadCapabilities (capget) agrees with /proc/thread-self/status", () => {
  const status = Deno.readTextFileSync("/proc/thread-self/status");
  const mask = (key: string) =>
    BigInt(`0x${new RegExp(`^${key}:\\s*([0-9a-f]+)$`, "m").exec(status)![1]}`);
  assert.deepEqual(threadCapabilities(), {
    effective: mask("CapEff"),
    permitted: mask("CapPrm"),
    inheritable: mask("CapInh"),
  });
});

/** A switchUser harness: records the calls made, in order, and the log lines. */
function harness(
  current: { uid: number; gid: number },
  opts: { kept?: number[]; dropError?: Error; threadError?: "held" | "done" } = {},
) {
  const calls: string[] = [];
  const sink = memorySink();
  const threads = {
    hold(gate: SharedArrayBuffer, keep: readonly number[]) {
      calls.push(`hold ${keep.join(",")}`);
      const answer = (step: "held" | "done"): PromiseLike<string[]> => ({
        // Read when awaited: the gate as the worker would find it then.
        then(resolve) {
          calls.push(`${step}: gate ${Atomics.load(new Int32Array(gate), 0)}`);
          return Promise.resolve(step === opts.threadError ? ["capset: EPERM"] : []).then(resolve);
        },
      });
      return { held: answer("held"), done: answer("done") };
    },
  };
  const options = {
    logger: createLogger({ sink, level: "debug" }),
    threads,
    databases: DB,
    current,
    drop(o: DropOptions) {
      calls.push(`drop ${o.uid}:${o.gid} keep ${o.keep.join(",")}`);
      if (opts.dropError) throw opts.dropError;
      const kept = opts.kept ?? [...o.keep];
      return { kept, missing: o.keep.filter((c) => !kept.includes(c)) };
    },
  };
  const lines = () => sink.lines.map((l) => `${l.level}: ${l.line}`);
  return { calls, options, lines };
}

Deno.test("switchUser as root: workers hold, the process drops, the gate opens; one line", async () => {
  const h = harness({ uid: 0, gid: 0 });
  assert.equal(await switchUser({ user: "halb", group: "web" }, h.options), null);
  assert.deepEqual(h.calls, [
    "hold 12,13,10",
    "held: gate 0",
    "drop 998:33 keep 12,13,10",
    "done: gate 1",
  ]);
  assert.deepEqual(h.lines(), [
    "info: running as halb:web, keeping CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE",
  ]);
});

Deno.test("switchUser as root: capabilities not held at start are named", async () => {
  const h = harness({ uid: 0, gid: 0 }, { kept: [13] });
  assert.equal(await switchUser({ user: "halb", group: null }, h.options), null);
  assert.deepEqual(h.calls[2], "drop 998:997 keep 12,13,10");
  assert.deepEqual(h.lines(), [
    "info: running as halb:halb, keeping CAP_NET_RAW",
    "warning: CAP_NET_ADMIN CAP_NET_BIND_SERVICE not kept: halb did not hold it at start",
  ]);
});

Deno.test("switchUser as root with only a group: the uid and every capability stay", async () => {
  const h = harness({ uid: 0, gid: 0 });
  assert.equal(await switchUser({ user: null, group: "web" }, h.options), null);
  assert.deepEqual(h.calls, ["drop null:33 keep 12,13,10"]);
  assert.deepEqual(h.lines(), ["info: running as group web, keeping every capability"]);
});

Deno.test("switchUser: nothing set, or already that user, changes nothing", async () => {
  const none = harness({ uid: 0, gid: 0 });
  assert.equal(await switchUser({ user: null, group: null }, none.options), null);
  const same = harness({ uid: 998, gid: 33 });
  assert.equal(await switchUser({ user: "halb", group: "web" }, same.options), null);
  assert.deepEqual([...none.calls, ...same.calls, ...none.lines(), ...same.lines()], []);
});

Deno.test("switchUser errors: not root, unknown names, failed calls", async () => {
  const cases: Array<
    [{ uid: number; gid: number }, string | null, Parameters<typeof harness>[1], string]
  > = [
    [
      { uid: 1000, gid: 1000 },
      "halb",
      {},
      "halb runs as uid 1000 gid 1000, not root: it cannot switch to halb:halb; " +
      "start it as root or as that user",
    ],
    [{ uid: 0, gid: 0 }, "ghost", {}, 'cannot switch users: unknown user "ghost"'],
    [
      { uid: 0, gid: 0 },
      "halb",
      { dropError: new Error("setuid(998): EPERM (1) Operation not permitted") },
      "cannot switch to halb:halb: setuid(998): EPERM (1) Operation not permitted",
    ],
    [
      { uid: 0, gid: 0 },
      "halb",
      { threadError: "held" },
      "cannot switch to halb:halb: proxy thread prepare: capset: EPERM",
    ],
    [
      { uid: 0, gid: 0 },
      "halb",
      { threadError: "done" },
      "cannot switch to halb:halb: proxy thread restrict: capset: EPERM",
    ],
  ];
  for (const [current, user, opts, want] of cases) {
    const h = harness(current, opts);
    assert.equal(await switchUser({ user, group: null }, h.options), want);
    assert.deepEqual(h.lines(), [], want);
  }
});

Deno.test("switchUser: a failed hold or drop opens the gate as aborted, and nothing drops after a failed hold", async () => {
  const failedHold = harness({ uid: 0, gid: 0 }, { threadError: "held" });
  await switchUser({ user: "halb", group: null }, failedHold.options);
  assert.deepEqual(failedHold.calls, ["hold 12,13,10", "held: gate 0", "done: gate 2"]);
  const failedDrop = harness({ uid: 0, gid: 0 }, { dropError: new Error("setuid: EPERM") });
  await switchUser({ user: "halb", group: null }, failedDrop.options);
  assert.deepEqual(failedDrop.calls, [
    "hold 12,13,10",
    "held: gate 0",
    "drop 998:997 keep 12,13,10",
    "done: gate 2",
  ]);
});

Deno.test("holdThroughSwitch: an aborted or absent switch turns keep-caps off and keeps nothing", () => {
  const keepCaps = () => libc().prctl(PR_GET_KEEPCAPS, 0n, 0n, 0n, 0n);
  const held: (string | null)[] = [];
  const gate = new Int32Array(new SharedArrayBuffer(4));
  Atomics.store(gate, 0, 2);
  const before = threadCapabilities();
  assert.equal(holdThroughSwitch({ gate, keep: [], held: (e) => held.push(e) }), null);
  assert.equal(keepCaps(), 0);
  Atomics.store(gate, 0, 0);
  assert.equal(
    holdThroughSwitch({ gate, keep: [], held: (e) => held.push(e), timeoutMs: 20 }),
    "the user switch did not come within 20 ms",
  );
  assert.equal(keepCaps(), 0);
  assert.deepEqual(held, [null, null]);
  assert.deepEqual(threadCapabilities(), before);
});

const isRoot = Deno.uid() === 0;

Deno.test({
  name: "switchUser (child process): nobody, caps kept on the caller and holding workers only",
  ignore: !isRoot,
  async fn() {
    const script = new URL("./testdata/privileges_child.ts", import.meta.url).pathname;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), {
      before: { prepared: "bound" },
      steps: [[12, 13, 10]],
      switched: null,
      log: ["running as nobody:nogroup, keeping CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE"],
      uid: 65534,
      gid: 65534,
      groups: "",
      main: "3400/3400",
      mainBind: "bound",
      prepared: ["3400/3400", "bound"],
      nested: "3400/3400",
      bystander: ["0/0", "PermissionDenied"],
      late: ["3400/3400", "bound"],
      // No thread holds more than the kept set: not even one the holding worker started.
      threads: ["0/0", "3400/3400"],
    });
  },
});
