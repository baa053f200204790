/**
 * Tests for the epoll reactor: dispatch to watchers on a private {@linkcode Reactor} (eventfds as
 * the watched fds), and — in a child process — that the shared reactor's loop really ends with
 * its last socket. Deno's op sanitizer does not see the loop's pending nonblocking FFI
 * `epoll_wait` (a test that leaves a listener open passes it), so the end of the loop is observed
 * the only way it shows: an isolate with nothing else to do exits.
 *
 * @module
 */
import assert from "node:assert/strict";
import { closeFd, drainEventFd, openEventFd, signalEventFd } from "./libc.ts";
import { EPOLLIN, EPOLLOUT, Reactor, setReactorErrorHandler } from "./reactor.ts";

/** Waits until `check()` holds; false after `ms`. */
function until(check: () => boolean, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  return new Promise((resolve) => {
    const tick = () => {
      if (check()) resolve(true);
      else if (Date.now() > deadline) resolve(false);
      else setTimeout(tick, 2);
    };
    tick();
  });
}

Deno.test("reactor dispatches edges to watchers; a throwing watcher goes to onError", async () => {
  const r = new Reactor();
  const quiet = openEventFd();
  const noisy = openEventFd();
  const seen: number[] = [];
  const errors: unknown[] = [];
  r.onError = (e) => errors.push(e);
  const tokens: number[] = [];
  try {
    tokens.push(r.add(quiet, {
      onReady(events) {
        seen.push(events);
        if (events & EPOLLIN) drainEventFd(quiet);
      },
    }));
    tokens.push(r.add(noisy, {
      onReady(events) {
        if (events & EPOLLIN) {
          drainEventFd(noisy);
          throw new Error("watcher failed");
        }
      },
    }));
    assert.equal(r.size, 2);
    // An eventfd is writable from the start: the first edge is EPOLLOUT alone.
    assert.ok(await until(() => seen.length >= 1), "initial edge");
    assert.equal(seen[0] & (EPOLLIN | EPOLLOUT), EPOLLOUT);

    signalEventFd(noisy);
    assert.ok(await until(() => errors.length === 1), "throw reported");
    assert.match(String(errors[0]), /watcher failed/);
    // The loop went on: the other watcher still gets its edges, once per signal.
    for (let i = 1; i <= 3; i++) {
      signalEventFd(quiet);
      assert.ok(await until(() => seen.filter((e) => e & EPOLLIN).length === i), `edge ${i}`);
    }
    assert.throws(() => r.close(), /still running/);
  } finally {
    for (const t of tokens) r.remove(t);
    assert.equal(r.size, 0);
    closeFd(quiet);
    closeFd(noisy);
  }
  // Let the loop see its wakeup and return before the epoll fd goes away under it.
  await new Promise((resolve) => setTimeout(resolve, 20));
  r.close();
});

/** Runs `code` in a child Deno; resolves to its stdout, or "timeout" (then the child is killed). */
async function runChild(code: string, ms: number): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", code],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const output = child.output();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), ms);
  });
  const winner = await Promise.race([output, expired]);
  clearTimeout(timer);
  if (winner === "timeout") {
    child.kill("SIGKILL");
    await output;
    return "timeout";
  }
  assert.equal(winner.code, 0, "child exit code");
  return new TextDecoder().decode(winner.stdout).trim();
}

/** A child that runs one connection through the shared reactor, closes, and reports its exit. */
function childScript(leaveListenerOpen: boolean): string {
  const tcp = new URL("./tcp.ts", import.meta.url).href;
  return `
    import { connectTcp, TcpListener } from ${JSON.stringify(tcp)};
    const listener = new TcpListener({ host: "127.0.0.1", port: 0 });
    const accepted = listener.accept();
    const client = await connectTcp("127.0.0.1", listener.addr.port);
    const server = await accepted;
    await client.write(new Uint8Array([1]));
    await server.read(new Uint8Array(1));
    // Idle long enough for the loop to be asleep in its pool wait (up to 1000 ms) when we close.
    await new Promise((resolve) => setTimeout(resolve, 50));
    client.close();
    server.close();
    if (!${leaveListenerOpen}) listener.close();
    const closedAt = performance.now();
    addEventListener("unload", () => console.log(Math.round(performance.now() - closedAt)));
  `;
}

Deno.test("the reactor loop ends (and the isolate can exit) when the last socket closes", async () => {
  const out = await runChild(childScript(false), 15_000);
  assert.notEqual(out, "timeout", "the child did not exit: the reactor loop kept running");
  // The eventfd wakeup cuts the 1000 ms pool wait short; without it the exit comes ~950 ms late.
  assert.ok(Number(out) < 500, `exit came ${out} ms after the last close`);
});

Deno.test("control: with a listener left open the isolate does not exit", async () => {
  // Shows that the test above can fail: a live watcher keeps the loop (and the process) going.
  assert.equal(await runChild(childScript(true), 2000), "timeout");
});

Deno.test("setReactorErrorHandler is the default onError of reactors made afterwards", () => {
  const seen: unknown[] = [];
  const handler = (e: unknown) => seen.push(e);
  setReactorErrorHandler(handler);
  const r = new Reactor();
  try {
    assert.equal(r.onError, handler);
    r.onError("boom");
    assert.deepEqual(seen, ["boom"]);
  } finally {
    setReactorErrorHandler(() => {});
    r.close();
  }
});
