import assert from "node:assert/strict";
import { compileConfig } from "../config/load.ts";
import { createLogger, memorySink } from "../log/logger.ts";
import { buildGraph } from "./graph.ts";

function configWith(port: number, nbthread: number) {
  const { config, diagnostics } = compileConfig(
    `[global]
nbthread = ${nbthread}
[defaults.timeout]
connect = "1s"
client = "5s"
server = "5s"
[frontend.fe]
bind = ["127.0.0.1:${port}"]
default_backend = "be"
[backend.be]
server = [{ name = "s1", address = "127.0.0.1:9" }]
`,
    { file: "graph.toml" },
  );
  assert.ok(config, JSON.stringify(diagnostics));
  return config;
}

Deno.test("reload asking for another nbthread says it needs a restart, also from 1 thread", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const sink = memorySink();
  const logger = createLogger({ sink, level: "debug" });
  const first = await buildGraph(configWith(port, 1), { logger });
  const second = await buildGraph(configWith(port, 2), { logger, previous: first });
  try {
    const lines = sink.lines.map((e) => e.line);
    assert.ok(
      lines.includes("nbthread changes take effect on restart; keeping 1"),
      lines.join("\n"),
    );
    assert.ok(!lines.some((line) => /running \d+ proxy threads/.test(line)));
  } finally {
    await first.stop({ graceMs: 0 });
    await second.stop({ graceMs: 0 });
  }
});
