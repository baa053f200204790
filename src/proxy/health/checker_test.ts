import assert from "node:assert/strict";
import type { BackendConfig, ServerConfig } from "../../config/types.ts";
import { createLogger, memorySink } from "../../log/logger.ts";
import { createChecker, type ServerSnapshot } from "./checker.ts";
import type { ProbeSpec } from "./probe.ts";
import { testBackend, testServer } from "../../../tests/helpers/config.ts";

/** A checked server with 100 ms intervals, rise 2, fall 1. */
function server(name: string, port: number, over: Partial<ServerConfig> = {}): ServerConfig {
  return testServer(name, port, {
    check: true,
    inter: 100,
    fastinter: 100,
    downinter: 100,
    fall: 1,
    ...over,
  });
}

function backend(servers: ServerConfig[]): BackendConfig {
  return testBackend("be", servers);
}

/** Polls `cond` every 20 ms for at most `ms`. */
async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("checker: a real server goes down and comes back (inter 100ms)", async () => {
  let listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const accept = async (l: Deno.Listener) => {
    for await (const c of l) c.close();
  };
  let acceptLoop = accept(listener).catch(() => {});
  const sink = memorySink();
  const changes: [string, ServerSnapshot][] = [];
  const checker = createChecker(backend([server("s1", port)]), {
    onChange: (name, snap) => void changes.push([name, snap]),
    logger: createLogger({ sink, level: "debug" }),
  });
  try {
    checker.start();
    await waitFor(() => checker.snapshot("s1")?.check?.status === "L4OK", 3000, "first L4OK");
    assert.equal(checker.snapshot("s1")?.status, "UP");
    assert.equal(changes.length, 0, "no transition while it stays UP");

    listener.close();
    await acceptLoop;
    await waitFor(() => checker.snapshot("s1")?.status === "DOWN", 3000, "DOWN");
    const down = changes.at(-1)!;
    assert.equal(down[0], "s1");
    assert.equal(down[1].op, "stopped");
    assert.equal(down[1].check?.status, "L4CON");
    assert.equal(down[1].chkdown, 1);
    assert.match(
      sink.lines.map((l) => l.line).join("\n"),
      /^Server be\/s1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: \d+ms\. 0 active and 0 backup servers left\. 0 sessions active, 0 requeued, 0 remaining in queue\.\nbackend be has no server available!$/,
    );
    assert.deepEqual(sink.lines.map((l) => l.level), ["alert", "emerg"]);

    listener = Deno.listen({ hostname: "127.0.0.1", port });
    acceptLoop = accept(listener).catch(() => {});
    await waitFor(() => checker.snapshot("s1")?.status === "UP", 3000, "UP again");
    const up = changes.at(-1)!;
    assert.equal(up[1].usable, true);
    assert.ok(up[1].downtimeMs > 0);
    assert.match(
      sink.lines.at(-1)!.line,
      /^Server be\/s1 is UP, reason: Layer4 check passed, check duration: \d+ms\. 1 active and 0 backup servers online\. 0 sessions requeued, 0 total in queue\.$/,
    );
  } finally {
    checker.stop();
    listener.close();
    await acceptLoop;
  }
});

Deno.test("checker: first checks are spread over the interval", async () => {
  const calls = new Map<number, number>();
  const t0 = performance.now();
  const servers = [0, 1, 2, 3].map((i) =>
    server(`s${i}`, 1000 + i, { inter: 1000, fastinter: 1000 })
  );
  const checker = createChecker(backend(servers), {
    onChange() {},
    probe: (spec: ProbeSpec) => {
      if (!calls.has(spec.port)) calls.set(spec.port, performance.now() - t0);
      return Promise.resolve({ status: "L4OK", durationMs: 0, description: "" });
    },
  });
  try {
    checker.start();
    await waitFor(() => calls.size === 4, 3000, "four first checks");
  } finally {
    checker.stop();
  }
  const starts = [1000, 1001, 1002, 1003].map((p) => calls.get(p)!);
  starts.forEach((t, i) => {
    assert.ok(t >= i * 250 - 5 && t < i * 250 + 200, `server ${i} started at ${t}ms`);
  });
});

Deno.test("checker: admin maint/ready and weight go through the state machine and log", () => {
  const sink = memorySink();
  const changes: string[] = [];
  const b = backend([server("a", 1), server("b", 2, { check: false })]);
  const checker = createChecker(b, {
    onChange: (name, snap) => void changes.push(`${name}:${snap.status}`),
    logger: createLogger({ sink, level: "debug" }),
    probe: () => Promise.resolve({ status: "L4OK", durationMs: 0, description: "" }),
    serverLoad: () => ({ sessions: 3, requeued: 1, queued: 0 }),
  });
  try {
    assert.equal(checker.setAdmin("a", "maint"), true);
    assert.equal(checker.setAdmin("nope", "maint"), false);
    assert.equal(checker.setWeight("b", 0), true);
    assert.equal(checker.setAdmin("a", "ready"), true);
    assert.deepEqual(changes, ["a:MAINT", "b:no check", "a:UP"]);
    assert.deepEqual(sink.lines.map((l) => l.line), [
      "Server be/a is going DOWN for maintenance. 1 active and 0 backup servers left. 3 sessions active, 1 requeued, 0 remaining in queue.",
      "backend be has no server available!",
      "Server be/a is UP/READY (leaving forced maintenance).",
    ]);
    assert.equal(checker.snapshot("b")?.weight, 0);
    assert.equal(checker.snapshots().length, 2);
  } finally {
    checker.stop();
  }
});
