/**
 * `[global] user`/`group` end to end: a real `halb run` started as root binds a privileged port,
 * switches to nobody:nogroup keeping exactly CAP_NET_ADMIN, CAP_NET_RAW and CAP_NET_BIND_SERVICE
 * (checked in /proc for every thread), serves through it, and on SIGHUP binds a second
 * privileged port — in the main isolate and, with `nbthread = 2`, in the worker isolate too.
 * VRRP keeps its rights: in a network namespace of its own, halb running as nobody adds its VIP,
 * adds a new one on reload and removes them at stop. A user that cannot be resolved at run time
 * stops halb with one line and exit 1.
 *
 * @module
 */
import assert from "node:assert/strict";
import { askName, freePort, namedServer } from "./helpers/net.ts";
import { haveFile, must, run } from "./helpers/netns.ts";
import { until } from "./helpers/backends.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const isRoot = Deno.uid() === 0;
const haveNobody = (() => {
  try {
    return /^nobody:/m.test(Deno.readTextFileSync("/etc/passwd")) &&
      /^nogroup:/m.test(Deno.readTextFileSync("/etc/group"));
  } catch {
    return false;
  }
})();
const KEPT = 0x3400n; // bits 10 (NET_BIND_SERVICE), 12 (NET_ADMIN), 13 (NET_RAW)

/** A privileged loopback port that is free now: random in 600..1000, another if busy. */
function privilegedPort(exclude: readonly number[] = []): number {
  for (let i = 0; i < 100; i++) {
    const port = 600 + Math.floor(Math.random() * 401);
    if (exclude.includes(port)) continue;
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
      return port;
    } catch {
      // busy: try another
    }
  }
  throw new Error("no free privileged port in 600..1000");
}

function toml(ports: readonly number[], backend: number, extra: string): string {
  return `[global]
${extra}log_level = "info"
grace = "200ms"
[defaults]
mode = "tcp"
[defaults.timeout]
connect = "1s"
client = "5s"
server = "5s"
[frontend.fe]
bind = [${ports.map((p) => `"127.0.0.1:${p}"`).join(", ")}]
default_backend = "be"
[backend.be]
server = [{ name = "s1", address = "127.0.0.1:${backend}" }]
`;
}

/** Collects a child's output as it comes, for waiting on a line. */
function collect(stream: ReadableStream<Uint8Array>) {
  const state = { text: "", done: Promise.resolve() };
  state.done = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) state.text += decoder.decode(chunk, { stream: true });
  })();
  return state;
}

interface TaskStatus {
  tid: string;
  name: string;
  uid: string;
  gid: string;
  groups: string;
  capEff: bigint;
  capPrm: bigint;
}

function taskStatus(pid: number, tid: string): TaskStatus | null {
  let text: string;
  try {
    text = Deno.readTextFileSync(`/proc/${pid}/task/${tid}/status`);
  } catch {
    return null; // the thread ended meanwhile
  }
  const field = (k: string) => new RegExp(`^${k}:[ \\t]*(.*)$`, "m").exec(text)?.[1] ?? "";
  return {
    tid,
    name: field("Name"),
    uid: field("Uid"),
    gid: field("Gid"),
    groups: field("Groups").trim(),
    capEff: BigInt(`0x${field("CapEff")}`),
    capPrm: BigInt(`0x${field("CapPrm")}`),
  };
}

function tasks(pid: number): TaskStatus[] {
  return [...Deno.readDirSync(`/proc/${pid}/task`)].flatMap((e) => {
    const s = taskStatus(pid, e.name);
    return s === null ? [] : [s];
  });
}

/** Listening TCP sockets on 127.0.0.1:port in this network namespace (/proc/net/tcp). */
function listeners(port: number): number {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  return Deno.readTextFileSync("/proc/net/tcp").split("\n")
    .filter((l) => {
      const f = l.trim().split(/\s+/);
      return f[1] === local && f[3] === "0A";
    }).length;
}

async function runAsNobody(threads: number): Promise<void> {
  const backend = namedServer("backend");
  const dir = await Deno.makeTempDir({ prefix: "halb-privileges-" });
  await Deno.chmod(dir, 0o755);
  const file = `${dir}/halb.toml`;
  const extra = `user = "nobody"\ngroup = "nogroup"\nnbthread = ${threads}\n`;
  const p1 = privilegedPort();
  await Deno.writeTextFile(file, toml([p1], backend.port, extra), { mode: 0o644 });
  await Deno.chmod(file, 0o644);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN, "run", "-c", file],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = collect(child.stdout);
  const err = collect(child.stderr);
  try {
    await until(
      "halb started",
      () => out.text.includes("halb started") || out.text.includes("Cannot") || err.text !== "",
      15_000,
    );
    assert.match(
      out.text,
      /running as nobody:nogroup, keeping CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE/,
      `${out.text}\n${err.text}`,
    );

    const main = taskStatus(child.pid, String(child.pid))!;
    assert.equal(main.uid, "65534\t65534\t65534\t65534");
    assert.equal(main.gid, "65534\t65534\t65534\t65534");
    assert.equal(main.groups, "");
    assert.equal(main.capEff, KEPT, `main thread CapEff ${main.capEff.toString(16)}`);
    assert.equal(main.capPrm, KEPT, `main thread CapPrm ${main.capPrm.toString(16)}`);
    const all = tasks(child.pid);
    for (const t of all) {
      assert.equal(t.uid, main.uid, `thread ${t.tid} (${t.name}) uid`);
      // Threads that did not take part in the switch hold nothing, never more than the set.
      assert.ok(
        (t.capEff === KEPT && t.capPrm === KEPT) || (t.capEff === 0n && t.capPrm === 0n),
        `thread ${t.tid} (${t.name}): CapEff ${t.capEff.toString(16)} CapPrm ${
          t.capPrm.toString(16)
        }`,
      );
    }
    const holders = all.filter((t) => t.capEff === KEPT).length;
    assert.ok(holders >= threads, `${holders} threads keep the capabilities, want ≥ ${threads}`);

    assert.equal(await askName(p1), "backend");
    assert.equal(listeners(p1), threads);

    const p2 = privilegedPort([p1]);
    await Deno.writeTextFile(file, toml([p1, p2], backend.port, extra));
    child.kill("SIGHUP");
    await until(
      "reload",
      () => /reload (done|rejected)/.test(out.text) && /Proxy fe started \(.*, .*\)/.test(out.text),
      15_000,
    );
    assert.match(out.text, /reload done/, out.text);
    assert.doesNotMatch(out.text, /proxy thread(:| failed)/, out.text);
    await until(`${threads} listener(s) on ${p2}`, () => listeners(p2) === threads, 5000);
    const names = await Promise.all(Array.from({ length: 10 }, () => askName(p2)));
    assert.deepEqual(new Set(names), new Set(["backend"]));
    assert.equal(await askName(p1), "backend");
  } finally {
    child.kill("SIGTERM");
    const status = await child.status;
    await Promise.all([out.done, err.done]);
    await backend.close();
    await Deno.remove(dir, { recursive: true });
    assert.equal(status.code, 0, `${out.text}\n${err.text}`);
    assert.match(out.text, /halb stopped/);
  }
}

const why = !isRoot ? "needs root" : !haveNobody ? "needs user nobody and group nogroup" : "";
if (why !== "") console.log(`privileges_test: switching users skipped (${why})`);

Deno.test({
  name: "user = nobody: privileged bind, exactly the three caps, a new privileged bind on reload",
  ignore: why !== "",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () => runAsNobody(1),
});

Deno.test({
  name: "user = nobody with nbthread 2: the worker isolate also binds the new privileged port",
  ignore: why !== "",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () => runAsNobody(2),
});

const IP = ["/usr/sbin/ip", "/usr/bin/ip", "/sbin/ip"].find(haveFile);

function vrrpToml(vips: readonly string[]): string {
  return `[global]
user = "nobody"
group = "nogroup"
grace = "200ms"
[vrrp]
router_id = "priv"
[[vrrp.instance]]
name = "R1"
state = "MASTER"
interface = "vd0"
virtual_router_id = 51
priority = 150
advert_int = "1s"
virtual_ipaddress = [${vips.map((v) => `"${v}/24"`).join(", ")}]
`;
}

Deno.test({
  name: "user = nobody: VRRP adds its VIP, a new VIP on reload, and removes them at stop",
  ignore: why !== "" || IP === undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const ns = `halbpriv-${Deno.pid}-${Math.floor(Math.random() * 1e6)}`;
    const dir = await Deno.makeTempDir({ prefix: "halb-privileges-" });
    await Deno.chmod(dir, 0o755);
    const file = `${dir}/halb.toml`;
    const vips = async () => {
      const text = await must([IP!, "-n", ns, "-4", "-o", "addr", "show", "dev", "vd0"]);
      return [...text.matchAll(/inet (192\.0\.2\.\d+)\//g)].map((m) => m[1]).sort();
    };
    let child: Deno.ChildProcess | null = null;
    try {
      await must([IP!, "netns", "add", ns]);
      await must([IP!, "-n", ns, "link", "add", "vd0", "type", "veth", "peer", "name", "vd1"]);
      await must([IP!, "-n", ns, "addr", "add", "192.0.2.1/24", "dev", "vd0"]);
      for (const dev of ["lo", "vd0", "vd1"]) await must([IP!, "-n", ns, "link", "set", dev, "up"]);
      await Deno.writeTextFile(file, vrrpToml(["192.0.2.100"]));
      await Deno.chmod(file, 0o644);
      child = new Deno.Command(IP!, {
        args: ["netns", "exec", ns, Deno.execPath(), "run", "--allow-all", MAIN, "run", "-c", file],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const out = collect(child.stdout);
      const err = collect(child.stderr);
      const pid = child.pid;
      try {
        await until("MASTER", () => out.text.includes("Entering MASTER STATE"), 15_000);
        assert.match(out.text, /running as nobody:nogroup, keeping CAP_NET_ADMIN CAP_NET_RAW/);
        assert.equal(taskStatus(pid, String(pid))?.capEff, KEPT);
        assert.deepEqual(await vips(), ["192.0.2.1", "192.0.2.100"]);
        await Deno.writeTextFile(file, vrrpToml(["192.0.2.100", "192.0.2.101"]));
        child.kill("SIGHUP");
        await until(
          "MASTER again",
          () => /reload done[^]*Entering MASTER STATE/.test(out.text),
          15_000,
        );
        assert.deepEqual(await vips(), ["192.0.2.1", "192.0.2.100", "192.0.2.101"]);
      } finally {
        child.kill("SIGTERM");
        const status = await child.status;
        await Promise.all([out.done, err.done]);
        assert.equal(status.code, 0, `${out.text}\n${err.text}`);
      }
      assert.deepEqual(await vips(), ["192.0.2.1"]);
    } finally {
      await run([IP!, "netns", "del", ns]);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a user unknown at run time: one line on stderr, exit 1, the port released",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const file = await Deno.makeTempFile({ suffix: ".toml" });
    try {
      // A port free a moment ago may be taken by a parallel test before halb binds it: then
      // halb says "cannot bind" and the run is repeated on another port.
      let port = 0;
      let status: Deno.CommandStatus | null = null;
      let stdout = "";
      let stderr = "";
      for (let attempt = 1; attempt <= 3; attempt++) {
        port = freePort();
        await Deno.writeTextFile(file, toml([port], 9, 'user = "halb-no-such-user"\n'));
        const child = new Deno.Command(Deno.execPath(), {
          args: ["run", "--allow-all", MAIN, "run", "-c", file],
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        [status, stdout, stderr] = await Promise.all([
          child.status,
          new Response(child.stdout).text(),
          new Response(child.stderr).text(),
        ]);
        if (!/cannot bind/.test(stderr)) break;
      }
      assert.ok(status !== null);
      assert.equal(status.code, 1, `${stdout}\n${stderr}`);
      // `halb check`'s warning, then the run-time error.
      assert.deepEqual(stderr.trim().split("\n"), [
        `${file}:2:8: global.user: warning: user "halb-no-such-user" does not exist on this machine`,
        'halb: cannot switch users: unknown user "halb-no-such-user"',
      ]);
      assert.doesNotMatch(stdout, /halb started/);
      Deno.listen({ hostname: "127.0.0.1", port }).close();
    } finally {
      await Deno.remove(file);
    }
  },
});
