/**
 * `halb demo`: the embedded default configuration (config/halb.toml) plus the two small HTTP
 * backends it points at, so a new user sees halb balance traffic with one command.
 *
 * @module
 */
import defaultConfigText from "../../config/halb.toml" with { type: "text" };
import { compileConfig, formatDiagnostic } from "../config/load.ts";
import type { CliIo } from "./main.ts";
import { runHalb } from "../runtime/run.ts";

/** The embedded default configuration's text. */
export const DEFAULT_CONFIG_TEXT: string = defaultConfigText;

/** Options for {@linkcode startDemoBackend}. */
export interface DemoBackendOptions {
  hostname: string;
  port: number;
  name: string;
}

/** Starts one demo backend: an HTTP server that says which backend answered. */
export function startDemoBackend(options: DemoBackendOptions): Deno.HttpServer {
  return Deno.serve({
    hostname: options.hostname,
    port: options.port,
    onListen() {},
  }, (req) => {
    const path = new URL(req.url).pathname;
    return new Response(`Hello from ${options.name} (${req.method} ${path})\n`, {
      headers: { "content-type": "text/plain", "x-served-by": options.name },
    });
  });
}

/** Runs the demo until halb stops; resolves to the exit code. */
export async function runDemo(options: { io: CliIo }): Promise<number> {
  const { io } = options;
  const result = compileConfig(DEFAULT_CONFIG_TEXT, { file: "config/halb.toml (embedded)" });
  for (const d of result.diagnostics) io.err(formatDiagnostic(d));
  if (result.config === null) return 2;
  // One demo backend per distinct address (several backends may share them).
  const seen = new Set<string>();
  const backends = result.config.backends.flatMap((b) => b.servers).filter((s) => {
    const key = `${s.address.host}:${s.address.port}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const servers: Deno.HttpServer[] = [];
  try {
    for (const s of backends) {
      servers.push(
        startDemoBackend({ hostname: s.address.host, port: s.address.port, name: s.name }),
      );
    }
  } catch (e) {
    io.err(`halb demo: cannot start demo backend: ${e instanceof Error ? e.message : e}`);
    await Promise.all(servers.map((s) => s.shutdown()));
    return 1;
  }
  const front = result.config.frontends[0]?.binds[0]?.address.text ?? "?";
  io.out(
    `halb demo: backends ${backends.map((s) => `${s.name}@${s.address.text}`).join(", ")}; ` +
      `try: curl http://${front}/`,
  );
  try {
    return await runHalb(result.config, { io });
  } finally {
    await Promise.all(servers.map((s) => s.shutdown()));
  }
}
