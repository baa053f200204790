/**
 * Health checks drive the L4 proxy: a backend that dies stops getting connections once its
 * check fails, and gets them again after `rise` passing checks; the transitions are logged in
 * HAProxy's words. Runs the real graph (config compiler → proxy → checkers) on loopback.
 */
import assert from "node:assert/strict";
import { freePort } from "./helpers/net.ts";
import { compileConfig } from "../src/config/load.ts";
import { createLogger, memorySink } from "../src/log/logger.ts";
import { buildGraph } from "../src/runtime/graph.ts";
import { askName, namedServer, sleep, type TestServer } from "./helpers/net.ts";

function config(fe: number, s1: number, s2: number): string {
  return `
[defaults]
mode = "tcp"
[defaults.timeout]
connect = "500ms"
client = "5s"
server = "5s"
[frontend.fe]
bind = ["127.0.0.1:${fe}"]
default_backend = "be"
[backend.be]
server = [
  { name = "s1", address = "127.0.0.1:${s1}", check = true, inter = "100ms", rise = 2, fall = 1 },
  { name = "s2", address = "127.0.0.1:${s2}", check = true, inter = "100ms", rise = 2, fall = 1 },
]
`;
}

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 5000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await ok()) return;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

Deno.test("a dead server leaves the rotation after its failed check and returns after rise", async () => {
  const s1 = namedServer("s1");
  let s2: TestServer = namedServer("s2");
  const s2port = s2.port;
  const result = compileConfig(config(freePort(), s1.port, s2port), { file: "health.toml" });
  assert.ok(result.config, JSON.stringify(result.diagnostics));
  const sink = memorySink();
  const logger = createLogger({ sink, level: "info" });
  const graph = await buildGraph(result.config!, { logger });
  try {
    const port = (graph.proxy.addresses("fe")[0] as Deno.NetAddr).port;
    const names = [await askName(port), await askName(port)];
    assert.deepEqual(names.sort(), ["s1", "s2"]);

    await s2.close();
    await until("s2 DOWN", () => sink.lines.some((l) => /Server be\/s2 is DOWN/.test(l.line)));
    const down = sink.lines.find((l) => /Server be\/s2 is DOWN/.test(l.line))!.line;
    assert.match(down, /reason: Layer4 connection problem, info: "Connection refused"/);
    assert.match(down, /1 active and 0 backup servers left\./);
    for (let i = 0; i < 6; i++) assert.equal(await askName(port), "s1");

    // Bring s2 back on the same port: it rejoins after two passing checks.
    s2 = namedServer("s2", s2port);
    await until("s2 UP", () => sink.lines.some((l) => /Server be\/s2 is UP/.test(l.line)));
    const seen = new Set<string | null>();
    for (let i = 0; i < 4; i++) seen.add(await askName(port));
    assert.deepEqual([...seen].sort(), ["s1", "s2"]);
  } finally {
    await graph.stop({ graceMs: 500 });
    await s1.close();
    await s2.close();
  }
});
