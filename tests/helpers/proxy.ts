/**
 * Harness for L4 engine tests: start a proxy with an in-memory logger, build one-backend
 * configs, and parse tcplog lines field by field.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { BackendConfig, Config, FrontendConfig } from "../../src/config/types.ts";
import { createLogger, type LogEntry, memorySink } from "../../src/log/logger.ts";
import { type Proxy, startProxy } from "../../src/proxy/proxy.ts";
import { testBackend, testConfig, testFrontend, testServer } from "./config.ts";
import { askName, type TestServer } from "./net.ts";

/** What a test body gets from {@linkcode withProxy}. */
export interface Ctx {
  proxy: Proxy;
  /** The first bind's port of frontend "fe". */
  port: number;
  /** Traffic lines logged so far. */
  traffic(): string[];
  entries: LogEntry[];
}

/** Runs `fn` against a started proxy with an in-memory logger; stops it and the servers after. */
export async function withProxy(
  config: Config,
  servers: TestServer[],
  fn: (ctx: Ctx) => Promise<void>,
): Promise<void> {
  const sink = memorySink();
  const logger = createLogger({ sink, level: "info" });
  const proxy = await startProxy(config, { logger });
  const addr = proxy.addresses("fe")[0] as Deno.NetAddr | undefined;
  try {
    await fn({
      proxy,
      port: addr?.port ?? 0,
      traffic: () => sink.lines.filter((l) => l.kind === "traffic").map((l) => l.line),
      entries: sink.lines,
    });
  } finally {
    await proxy.stop({ graceMs: 0 });
    await Promise.all(servers.map((s) => s.close()));
  }
}

/** A config with frontend "fe" → backend "be" over the given servers. */
export function oneBackend(
  servers: { name: string; port: number; weight?: number; maxconn?: number }[],
  be: Partial<BackendConfig> = {},
  fe: Partial<FrontendConfig> = {},
): Config {
  return testConfig({
    frontends: [testFrontend("fe", "be", fe)],
    backends: [
      testBackend(
        "be",
        servers.map((s, i) =>
          testServer(s.name, s.port, { id: i + 1, weight: s.weight ?? 1, maxconn: s.maxconn ?? 0 })
        ),
        be,
      ),
    ],
  });
}

/** A port on which nothing listens (bound then closed). */
export function deadPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** The names answered by `count` sequential connections. */
export async function sequence(port: number, count: number): Promise<(string | null)[]> {
  const out: (string | null)[] = [];
  for (let i = 0; i < count; i++) out.push(await askName(port));
  return out;
}

/** The tcplog layout, field by field. */
export const TCPLOG = new RegExp(
  String.raw`^127\.0\.0\.1:\d+ \[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2}\.\d{3}\] ` +
    String.raw`(\S+) (\S+)/(\S+) (-?\d+)/(-?\d+)/(\d+) (\d+) (\S\S) ` +
    String.raw`(\d+)/(\d+)/(\d+)/(\d+)/(\+?\d+) (\d+)/(\d+)$`,
);

/** Splits a tcplog line into its fields, asserting the exact layout. */
export function parseLog(line: string) {
  const m = TCPLOG.exec(line);
  assert.ok(m, `tcplog layout: ${line}`);
  return {
    fe: m[1],
    be: m[2],
    srv: m[3],
    tw: Number(m[4]),
    tc: Number(m[5]),
    tt: Number(m[6]),
    bytes: Number(m[7]),
    ts: m[8],
    ac: Number(m[9]),
    fc: Number(m[10]),
    bc: Number(m[11]),
    sc: Number(m[12]),
    rc: m[13],
    sq: Number(m[14]),
    bq: Number(m[15]),
  };
}
