import assert from "node:assert/strict";
import { closeFd, drainEventFd, openEventFd, signalEventFd } from "./libc.ts";
import { Poller } from "./poller.ts";

function until(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  return new Promise((resolve) => {
    const tick = () => {
      if (check()) resolve(true);
      else if (Date.now() > deadline) resolve(false);
      else setTimeout(tick, 5);
    };
    tick();
  });
}

Deno.test("poller dispatches readable fds and stops promptly via its eventfd", async () => {
  const fd = openEventFd();
  const poller = new Poller({ timeoutMs: 1000 });
  let calls = 0;
  try {
    poller.add(fd, () => {
      calls++;
      drainEventFd(fd);
    });
    poller.start();
    assert.ok(poller.running);
    signalEventFd(fd);
    assert.ok(await until(() => calls === 1, 2000), "callback ran once");
    signalEventFd(fd);
    assert.ok(await until(() => calls === 2, 2000), "callback ran twice");
    // Let the loop enter a fresh 1000 ms poll, then stop: the eventfd must cut it short.
    await new Promise((r) => setTimeout(r, 50));
    const t0 = performance.now();
    await poller.stop();
    assert.ok(performance.now() - t0 < 500, `stop took ${performance.now() - t0} ms`);
    assert.equal(poller.running, false);
  } finally {
    await poller.stop();
    closeFd(fd);
  }
});

Deno.test("poller reports throwing callbacks and drops invalid fds", async () => {
  const errors: Array<[number, string]> = [];
  const poller = new Poller({
    timeoutMs: 250,
    onError: (fd, err) => errors.push([fd, String(err)]),
  });
  const fd = openEventFd();
  const closed = 1 << 20; // far above any open fd: poll() flags it POLLNVAL
  try {
    poller.start();
    poller.add(fd, () => {
      drainEventFd(fd);
      throw new Error("boom");
    });
    signalEventFd(fd);
    poller.add(closed, () => {});
    assert.ok(await until(() => errors.length >= 2, 2000), JSON.stringify(errors));
    assert.ok(errors.some(([f, e]) => f === fd && /boom/.test(e)));
    assert.ok(errors.some(([f, e]) => f === closed && /POLLNVAL/.test(e)));
    poller.remove(fd);
  } finally {
    await poller.stop();
    closeFd(fd);
  }
});

Deno.test("poller can be restarted after stop", async () => {
  const poller = new Poller({ timeoutMs: 250 });
  poller.start();
  await poller.stop();
  poller.start();
  assert.ok(poller.running);
  await poller.stop();
  assert.equal(poller.running, false);
});
