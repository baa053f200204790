/**
 * End-to-end test of the FFI layer (src/sys) inside two network namespaces joined by a veth pair.
 * The FFI code runs in small Deno children started with `ip netns exec` (tests/testdata/sys/).
 * Needs root and iproute2; the tcpdump step also needs tcpdump. Namespaces are always removed.
 *
 * @module
 */
import assert from "node:assert/strict";

const DATA = new URL("./testdata/sys/", import.meta.url).pathname;

function commandWorks(cmd: string, args: string[]): boolean {
  try {
    return new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).outputSync().success;
  } catch {
    return false;
  }
}

const isRoot = Deno.uid() === 0;
const haveIp = commandWorks("ip", ["-V"]);
const haveTcpdump = commandWorks("tcpdump", ["--version"]);
const skipReason = !isRoot ? "needs root" : !haveIp ? "needs iproute2 (ip)" : "";
if (skipReason) console.warn(`tests/sys_netns_test.ts ignored: ${skipReason}`);

/** A child process whose stdout/stderr are collected as text. */
class Proc {
  stdout = "";
  stderr = "";
  readonly #child: Deno.ChildProcess;
  readonly #pumps: Promise<void>[];

  constructor(cmd: string, args: string[]) {
    this.#child = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).spawn();
    this.#pumps = [
      this.#pump(this.#child.stdout, (s) => this.stdout += s),
      this.#pump(this.#child.stderr, (s) => this.stderr += s),
    ];
  }

  async #pump(stream: ReadableStream<Uint8Array>, add: (text: string) => void): Promise<void> {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) add(text);
  }

  /** Waits (at most `ms`) until `pattern` shows up on the given stream. */
  async waitFor(stream: "stdout" | "stderr", pattern: RegExp, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pattern.test(this[stream])) {
      if (Date.now() > deadline) {
        throw new Error(
          `no ${pattern} within ${ms} ms; stdout=${this.stdout} stderr=${this.stderr}`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Waits for exit (killing the child after `ms`), then returns its exit code. */
  async finish(ms: number): Promise<number> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), ms));
    const first = await Promise.race([this.#child.status, timeout]);
    clearTimeout(timer);
    if (first === "timeout") this.#child.kill("SIGKILL");
    const status = await this.#child.status;
    await Promise.all(this.#pumps);
    return status.code;
  }
}

async function run(cmd: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return text;
}

function child(ns: string, script: string, ...args: string[]): Proc {
  return new Proc("ip", [
    "netns",
    "exec",
    ns,
    Deno.execPath(),
    "run",
    "--allow-all",
    DATA + script,
    ...args,
  ]);
}

/** Runs a child to completion and parses the last stdout line as JSON. */
async function childJson<T>(ns: string, script: string, ...args: string[]): Promise<T> {
  const proc = child(ns, script, ...args);
  const code = await proc.finish(10_000);
  assert.equal(code, 0, `${script}: ${proc.stderr}`);
  return JSON.parse(proc.stdout.trim().split("\n").at(-1)!);
}

function parse6(text: string): number[] {
  const [head, tail = ""] = text.split("::");
  const h = head ? head.split(":").map((g) => parseInt(g, 16)) : [];
  const t = tail ? tail.split(":").map((g) => parseInt(g, 16)) : [];
  const groups = text.includes("::")
    ? [...h, ...new Array(8 - h.length - t.length).fill(0), ...t]
    : h;
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

/** Independent check of a VRRP-over-IPv6 checksum (pseudo-header, next header 112). */
function vrrp6ChecksumOk(src: string, dst: string, data: number[]): boolean {
  const bytes = [...parse6(src), ...parse6(dst), ...data, ...(data.length % 2 ? [0] : [])];
  let sum = data.length + 112;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum === 0xffff;
}

/** What tests/testdata/sys/netlink_child.ts prints. */
interface NetlinkResult {
  ifindex: number;
  link: { ifindex: number; name: string; up: boolean; mac: string };
  mac: string;
  add: string[];
  listed: string[];
  listed6Families: number[];
  vip4: { label?: string; broadcast?: string };
  vip6: { nodad: boolean; deprecated: boolean; preferredLft?: number };
  shown: string;
  del: string[];
  shownAfter: string;
  missingDevice: { code: string; detail?: string } | null;
  deleteOnMissingDevice: string;
}

interface Packet {
  from: string;
  hopLimit?: number;
  dst?: string;
  data: number[];
  ipHeaderLength?: number;
}

Deno.test({
  name: `sys: netlink, raw VRRP sockets, GARP/NA and link monitor in netns${
    skipReason ? ` (${skipReason})` : ""
  }`,
  ignore: skipReason !== "",
  async fn(t) {
    const id = crypto.randomUUID().slice(0, 6);
    const [nsA, nsB] = [`halb-sysA-${id}`, `halb-sysB-${id}`];
    const [va, vb] = [`hsa${id}`, `hsb${id}`];
    const created: string[] = [];
    try {
      for (const ns of [nsA, nsB]) {
        await run("ip", "netns", "add", ns);
        created.push(ns);
        await run("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0");
        await run("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0");
        await run("ip", "-n", ns, "link", "set", "lo", "up");
      }
      await run(
        "ip",
        "link",
        "add",
        va,
        "netns",
        nsA,
        "type",
        "veth",
        "peer",
        "name",
        vb,
        "netns",
        nsB,
      );
      for (const [ns, dev, n] of [[nsA, va, "1"], [nsB, vb, "2"]]) {
        await run("ip", "-n", ns, "addr", "add", `192.0.2.${n}/24`, "dev", dev);
        await run("ip", "-n", ns, "addr", "add", `2001:db8::${n}/64`, "dev", dev, "nodad");
        await run("ip", "-n", ns, "link", "set", dev, "up");
      }
      // IPv6 multicast input needs the ff00::/8 route, which addrconf adds (with the link-local
      // address) only once the carrier is seen: wait for both link-locals.
      for (const [ns, dev] of [[nsA, va], [nsB, vb]]) {
        const deadline = Date.now() + 5_000;
        while (
          !(await run("ip", "-n", ns, "-6", "-o", "addr", "show", "dev", dev, "scope", "link"))
            .trim()
        ) {
          if (Date.now() > deadline) throw new Error(`${dev}: IPv6 not ready after 5 s`);
          await new Promise((r) => setTimeout(r, 50));
        }
      }

      await t.step(
        "netlink: add/list/delete VIPs idempotently, links, ext-ack detail",
        async () => {
          const r = await childJson<NetlinkResult>(nsA, "netlink_child.ts", va);
          const ipLink = await run("ip", "-n", nsA, "-o", "link", "show", va);
          assert.equal(r.link.ifindex, r.ifindex);
          assert.equal(r.link.name, va);
          assert.equal(r.link.up, true);
          assert.equal(r.link.mac, r.mac);
          assert.ok(ipLink.includes(`link/ether ${r.mac}`), ipLink);
          assert.ok(ipLink.startsWith(`${r.ifindex}: `), ipLink);
          assert.deepEqual(r.add, ["added", "exists", "added", "exists"]);
          for (
            const a of ["192.0.2.1/24", "192.0.2.100/24", "2001:db8::1/64", "2001:db8::100/128"]
          ) {
            assert.ok(r.listed.includes(a), `${a} in ${r.listed}`);
          }
          assert.deepEqual(r.listed6Families, [6]);
          assert.equal(r.vip4.label, `${va}:v`);
          assert.equal(r.vip4.broadcast, "192.0.2.255");
          assert.deepEqual(r.vip6, { nodad: true, deprecated: true, preferredLft: 0 });
          assert.match(
            r.shown,
            new RegExp(`inet 192\\.0\\.2\\.100/24 brd 192\\.0\\.2\\.255 .*${va}:v`),
          );
          assert.match(r.shown, /inet6 2001:db8::100\/128 .*nodad.*deprecated.*preferred_lft 0sec/);
          assert.deepEqual(r.del, ["deleted", "absent", "deleted", "absent"]);
          assert.doesNotMatch(r.shownAfter, /192\.0\.2\.100|2001:db8::100/);
          assert.match(r.shownAfter, /inet 192\.0\.2\.1\/24/);
          assert.equal(r.missingDevice?.code, "ENODEV");
          assert.match(r.missingDevice?.detail ?? "", /device/i);
          assert.equal(r.deleteOnMissingDevice, "absent");
        },
      );

      for (const family of [4, 6] as const) {
        const [src, peer, group] = family === 4
          ? ["192.0.2.1", "192.0.2.2", "224.0.0.18"]
          : ["2001:db8::1", "2001:db8::2", "ff02::12"];
        await t.step(
          `raw VRRP IPv${family}: multicast to ${group} and unicast, hop limit 255`,
          async () => {
            const receiver = child(nsB, "vrrp_recv_child.ts", vb, String(family), "4");
            await receiver.waitFor("stdout", /READY/, 10_000);
            const sent = await childJson<boolean[]>(
              nsA,
              "vrrp_send_child.ts",
              va,
              String(family),
              "3",
              src,
              peer,
            );
            assert.deepEqual(sent, [true, true, true, true]);
            assert.equal(await receiver.finish(10_000), 0, receiver.stderr);
            const packets: Packet[] = JSON.parse(receiver.stdout.trim().split("\n").at(-1)!);
            assert.equal(packets.length, 4, receiver.stdout);
            assert.deepEqual(packets.map((p) => p.dst), [group, group, group, peer]);
            const advert = [0x31, 0x33, 0x96, 0x01, 0x00, 0x0a, 0xd3, 0xcb, 0xc0, 0x00, 0x02, 0x64];
            for (const p of packets) {
              assert.equal(p.from, src);
              assert.equal(p.hopLimit, 255);
              if (family === 4) {
                assert.deepEqual(p.data, advert);
                assert.equal(p.ipHeaderLength, 20);
              } else {
                assert.deepEqual([...p.data.slice(0, 6), ...p.data.slice(8)], [
                  ...advert.slice(0, 6),
                  ...advert.slice(8),
                ]);
                assert.ok(vrrp6ChecksumOk(p.from, p.dst!, p.data), `kernel checksum for ${p.dst}`);
              }
            }
          },
        );
      }

      await t.step({
        name: "gratuitous ARP and unsolicited NA as seen by tcpdump",
        ignore: !haveTcpdump,
        fn: async () => {
          const filter =
            "(arp and arp[14:4] = 0xc0000264) or (ip6 and src host 2001:db8::100 and icmp6)";
          const dump = new Proc("ip", [
            "netns",
            "exec",
            nsB,
            "tcpdump",
            "-i",
            vb,
            "-c",
            "4",
            "-n",
            "-e",
            "-vv",
            "-l",
            filter,
          ]);
          await dump.waitFor("stderr", /listening on/, 10_000);
          const r = await childJson<{ mac: string; sent: boolean[] }>(
            nsA,
            "announce_child.ts",
            va,
            "192.0.2.100",
            "2001:db8::100",
          );
          assert.deepEqual(r.sent, [true, true, true, true]);
          assert.equal(await dump.finish(5_000), 0, dump.stderr);
          const lines = dump.stdout.split("\n");
          const garp = lines.filter((l) =>
            l.includes(`${r.mac} > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42:`) &&
            l.includes("Request who-has 192.0.2.100 (ff:ff:ff:ff:ff:ff) tell 192.0.2.100")
          );
          assert.equal(garp.length, 2, dump.stdout);
          const na = lines.filter((l) =>
            l.includes(`${r.mac} > 33:33:00:00:00:01, ethertype IPv6 (0x86dd), length 86:`) &&
            l.includes(
              "(hlim 255, next-header ICMPv6 (58) payload length: 32) 2001:db8::100 > ff02::1:",
            ) &&
            l.includes(
              "[icmp6 sum ok] ICMP6, neighbor advertisement, length 32, tgt is 2001:db8::100, Flags [override]",
            )
          );
          assert.equal(na.length, 2, dump.stdout);
          const tlla = lines.filter((l) =>
            l.includes(`destination link-address option (2), length 8 (1): ${r.mac}`)
          );
          assert.equal(tlla.length, 2, dump.stdout);
        },
      });

      await t.step("link monitor reports `ip link set down`", async () => {
        const monitor = child(nsA, "monitor_child.ts", va);
        await monitor.waitFor("stdout", /READY/, 10_000);
        await run("ip", "-n", nsA, "link", "set", va, "down");
        assert.equal(await monitor.finish(10_000), 0, monitor.stderr);
        const events = JSON.parse(monitor.stdout.trim().split("\n").at(-1)!);
        const down = events.find((e: { kind: string; link?: { up: boolean } }) =>
          e.kind === "link" && !e.link!.up
        );
        assert.ok(down, monitor.stdout);
        assert.equal(down.link.name, va);
        assert.equal(down.action, "new");
      });
    } finally {
      for (const ns of created) await run("ip", "netns", "del", ns).catch(() => {});
    }
  },
});
