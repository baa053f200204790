/**
 * Differential test: the load-balancing algorithms against a real HAProxy 2.6. One haproxy
 * process gets one backend per scenario (selected by an `x-be` header); three Deno HTTP servers
 * answer with their name. Each scenario sends sequential requests, one TCP connection each,
 * and compares the servers HAProxy chose with what our balancer picks for the same weights,
 * keys and runtime changes (`set weight`, `disable server`, `enable server` on the stats
 * socket).
 *
 * @module
 */
import assert from "node:assert/strict";
import { freePort } from "./helpers/net.ts";
import type { Balance, HashType } from "../src/config/types.ts";
import type { Balancer, LbEntry } from "../src/proxy/balance/balancer.ts";
import { createBalancer } from "../src/proxy/balance/create.ts";
import { domainOnlyKey, uriKey, urlParamValue } from "../src/proxy/balance/keys.ts";

const HAPROXY = "/usr/sbin/haproxy";
const haveHaproxy = (() => {
  try {
    return Deno.statSync(HAPROXY).isFile;
  } catch {
    return false;
  }
})();

const enc = new TextEncoder();
const dec = new TextDecoder();
const MAP: HashType = { method: "map-based", fn: "sdbm", avalanche: false };

/** One backend of the generated config plus our equivalent balancer. */
interface Scenario {
  readonly name: string;
  /** Lines after `backend <name>` (without the server lines). */
  readonly haproxy: string;
  readonly weights: readonly number[];
  readonly balance: Balance;
  readonly hashType: HashType;
}

const SCENARIOS: readonly Scenario[] = [
  {
    name: "rr312",
    haproxy: "balance roundrobin",
    weights: [3, 1, 2],
    balance: { algorithm: "roundrobin" },
    hashType: MAP,
  },
  {
    name: "rr53",
    haproxy: "balance roundrobin",
    weights: [5, 3],
    balance: { algorithm: "roundrobin" },
    hashType: MAP,
  },
  {
    name: "rr123",
    haproxy: "balance roundrobin",
    weights: [1, 2, 3],
    balance: { algorithm: "roundrobin" },
    hashType: MAP,
  },
  {
    name: "srr312",
    haproxy: "balance static-rr",
    weights: [3, 1, 2],
    balance: { algorithm: "static-rr" },
    hashType: MAP,
  },
  {
    name: "srr53",
    haproxy: "balance static-rr",
    weights: [5, 3],
    balance: { algorithm: "static-rr" },
    hashType: MAP,
  },
  {
    name: "srcmap",
    haproxy: "balance source",
    weights: [1, 2, 1],
    balance: { algorithm: "source" },
    hashType: MAP,
  },
  {
    name: "srccons",
    haproxy: "balance source\n  hash-type consistent",
    weights: [1, 1, 1],
    balance: { algorithm: "source" },
    hashType: { method: "consistent", fn: "sdbm", avalanche: true },
  },
  {
    name: "urimap",
    haproxy: "balance uri depth 2",
    weights: [1, 1, 1],
    balance: { algorithm: "uri", whole: false, len: 0, depth: 2, pathOnly: false },
    hashType: MAP,
  },
  {
    name: "uricons",
    haproxy: "balance uri len 6\n  hash-type consistent",
    weights: [2, 1, 1],
    balance: { algorithm: "uri", whole: false, len: 6, depth: 0, pathOnly: false },
    hashType: { method: "consistent", fn: "sdbm", avalanche: true },
  },
  {
    name: "uriwhole",
    haproxy: "balance uri whole\n  hash-type map-based crc32",
    weights: [1, 1, 1],
    balance: { algorithm: "uri", whole: true, len: 0, depth: 0, pathOnly: false },
    hashType: { method: "map-based", fn: "crc32", avalanche: false },
  },
  {
    name: "hdrdom",
    haproxy: "balance hdr(host) use_domain_only\n  hash-type map-based djb2 avalanche",
    weights: [1, 1, 1],
    balance: { algorithm: "hdr", name: "host", useDomainOnly: true },
    hashType: { method: "map-based", fn: "djb2", avalanche: true },
  },
  {
    name: "param",
    haproxy: "balance url_param uid\n  hash-type consistent wt6",
    weights: [1, 1, 1],
    balance: { algorithm: "url_param", name: "uid", checkPost: false },
    hashType: { method: "consistent", fn: "wt6", avalanche: false },
  },
];

/** A loopback HTTP server answering its own name. */
function nameServer(name: string): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response(name),
  );
}

async function readAll(conn: Deno.Conn): Promise<string> {
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(4096);
  for (let i = 0; i < 1000; i++) {
    const n = await conn.read(buf);
    if (n === null) break;
    chunks.push(buf.slice(0, n));
  }
  let total = 0;
  for (const c of chunks) total += c.length;
  const all = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.length;
  }
  return dec.decode(all);
}

/** One HTTP/1.0 request on a new connection; returns the response body. */
async function get(port: number, be: string, path: string, host = "lb.test"): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const req = `GET ${path} HTTP/1.0\r\nHost: ${host}\r\nX-Be: ${be}\r\nConnection: close\r\n\r\n`;
    await conn.write(enc.encode(req));
    const res = await readAll(conn);
    const at = res.indexOf("\r\n\r\n");
    return at < 0 ? `(bad response: ${res.slice(0, 80)})` : res.slice(at + 4);
  } finally {
    conn.close();
  }
}

/** A request from a chosen loopback source address. */
async function getFrom(port: number, be: string, source: string): Promise<string> {
  const client = Deno.createHttpClient({ localAddress: source });
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`, {
      client,
      headers: { "x-be": be, connection: "close" },
    });
    return await res.text();
  } finally {
    client.close();
  }
}

async function admin(socket: string, command: string): Promise<string> {
  const conn = await Deno.connect({ transport: "unix", path: socket });
  try {
    await conn.write(enc.encode(command + "\n"));
    return (await readAll(conn)).trim();
  } finally {
    conn.close();
  }
}

async function waitListening(port: number, child: Deno.ChildProcess): Promise<void> {
  const deadline = Date.now() + 5000;
  let exited = false;
  child.status.then(() => exited = true);
  while (Date.now() < deadline && !exited) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`haproxy did not listen on 127.0.0.1:${port}`);
}

function lbEntries(weights: readonly number[], skip?: string): LbEntry<string>[] {
  return weights
    .map((weight, i) => ({ server: `s${i + 1}`, id: i + 1, weight }))
    .filter((e) => e.server !== skip);
}

function balancerFor(s: Scenario): Balancer<string> {
  const b = createBalancer<string>(s.balance, s.hashType, { load: () => 0, full: () => false });
  b.update(lbEntries(s.weights));
  return b;
}

Deno.test({
  name: "balance: our algorithms choose the same servers as HAProxy 2.6",
  ignore: !haveHaproxy,
  async fn(t) {
    const names = ["s1", "s2", "s3"];
    const servers = names.map(nameServer);
    const dir = await Deno.makeTempDir({ prefix: "halb-balance-" });
    const socket = `${dir}/admin.sock`;
    const port = freePort();
    const backends = SCENARIOS.map((s) =>
      [
        `backend ${s.name}`,
        `  ${s.haproxy}`,
        ...s.weights.map((w, i) =>
          `  server s${i + 1} 127.0.0.1:${servers[i].addr.port} weight ${w}`
        ),
      ].join("\n")
    );
    const cfg = [
      "global",
      "  noreuseport",
      `  stats socket ${socket} level admin`,
      "defaults",
      "  mode http",
      "  timeout connect 2s",
      "  timeout client 5s",
      "  timeout server 5s",
      "frontend fe",
      `  bind 127.0.0.1:${port}`,
      "  use_backend %[req.hdr(x-be)]",
      ...backends,
      "",
    ].join("\n");
    await Deno.writeTextFile(`${dir}/haproxy.cfg`, cfg);
    const child = new Deno.Command(HAPROXY, {
      args: ["-db", "-f", `${dir}/haproxy.cfg`],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    try {
      await waitListening(port, child);
      const byName = new Map(SCENARIOS.map((s) => [s.name, s]));

      for (const name of ["rr312", "rr53", "srr312", "srr53"]) {
        await t.step(`${name}: same order`, async () => {
          const ours = balancerFor(byName.get(name)!);
          for (let i = 0; i < 24; i++) {
            assert.equal(await get(port, name, "/"), ours.pick(null), `request ${i + 1}`);
          }
        });
      }

      await t.step("rr123: same order across set weight, disable and enable", async () => {
        const s = byName.get("rr123")!;
        const ours = balancerFor(s);
        async function compare(n: number, label: string): Promise<void> {
          for (let i = 0; i < n; i++) {
            assert.equal(await get(port, "rr123", "/"), ours.pick(null), `${label} #${i + 1}`);
          }
        }
        await compare(5, "start");
        await admin(socket, "set weight rr123/s1 4");
        ours.update(lbEntries([4, 2, 3]));
        await compare(12, "after set weight");
        await admin(socket, "disable server rr123/s2");
        ours.update(lbEntries([4, 2, 3], "s2"));
        await compare(6, "s2 disabled");
        await admin(socket, "enable server rr123/s2");
        ours.update(lbEntries([4, 2, 3]));
        await compare(12, "s2 enabled");
      });

      await t.step(
        "source: same server per client address (map-based and consistent)",
        async () => {
          for (const name of ["srcmap", "srccons"]) {
            const ours = balancerFor(byName.get(name)!);
            for (let last = 2; last <= 13; last++) {
              const got = await getFrom(port, name, `127.0.0.${last}`);
              assert.equal(
                got,
                ours.pick(new Uint8Array([127, 0, 0, last])),
                `${name} 127.0.0.${last}`,
              );
            }
          }
        },
      );

      await t.step("uri: same server per path (depth, len, whole)", async () => {
        const paths = [
          "/depth/a/x",
          "/depth/a/y?z=1",
          "/depth/b/x",
          "/depth/c/q/r",
          "/img/logo.png",
          "/img/other.png?v=2",
          "/api/v1/users?id=7",
          "/api/v1/users?id=8",
          "/",
          "/x",
          "/abcdefghij",
          "/abcdefXYZ",
        ];
        for (const name of ["urimap", "uricons", "uriwhole"]) {
          const s = byName.get(name)!;
          const opts = s.balance as Extract<Balance, { algorithm: "uri" }>;
          const ours = balancerFor(s);
          for (const path of paths) {
            const expected = ours.pick(enc.encode(uriKey(path, opts)));
            assert.equal(await get(port, name, path), expected, `${name} ${path}`);
          }
        }
      });

      await t.step("hdr(host) use_domain_only: same server per domain", async () => {
        const ours = balancerFor(byName.get("hdrdom")!);
        const hosts = ["www.example.com", "api.example.com", "haproxy.1wt.eu", "a.b.c.test"];
        for (const host of [...hosts, "localhost", "x.org", "shop.example.net:8080"]) {
          // The header is present and non-empty, so HAProxy hashes even an empty domain part.
          const expected = ours.pick(enc.encode(domainOnlyKey(host)));
          assert.equal(await get(port, "hdrdom", "/", host), expected, host);
        }
      });

      await t.step("url_param: hashed values and the round-robin fallback", async () => {
        const ours = balancerFor(byName.get("param")!);
        const urls = [
          "/p?uid=alice",
          "/p?uid=bob",
          "/p",
          "/p?uid=",
          "/p?x=1&uid=carol",
          "/p?uid=&x=1",
          "/p?uid",
          "/p?uid=alice",
          "/p?other=1",
          "/p",
          "/p",
          "/p?uid=dave&uid=erin",
        ];
        for (const url of urls) {
          const q = url.indexOf("?");
          const value = q < 0 ? null : urlParamValue(url.slice(q + 1), "uid");
          const expected = ours.pick(value === null ? null : enc.encode(value));
          assert.equal(await get(port, "param", url), expected, url);
        }
      });
    } finally {
      child.kill("SIGTERM");
      await child.stderr.cancel();
      await child.status;
      await Promise.all(servers.map((s) => s.shutdown()));
      await Deno.remove(dir, { recursive: true });
    }
  },
});
