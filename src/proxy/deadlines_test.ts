import assert from "node:assert/strict";
import { cancelDeadline, pendingDeadlines, scheduleDeadline } from "./deadlines.ts";

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

Deno.test("deadlines: each runs once, at or after its time, earliest first", async () => {
  const start = Date.now();
  const ran: [string, number][] = [];
  scheduleDeadline(start + 30, () => ran.push(["c", Date.now()]));
  scheduleDeadline(start + 10, () => ran.push(["a", Date.now()]));
  // Earlier than the armed timer: the timer moves.
  scheduleDeadline(start + 20, () => ran.push(["b", Date.now()]));
  await sleep(60);
  assert.deepEqual(ran.map(([n]) => n), ["a", "b", "c"]);
  for (const [name, at] of ran) {
    assert.ok(at >= start + { a: 10, b: 20, c: 30 }[name]!, `${name} ran early`);
  }
  assert.equal(pendingDeadlines(), 0);
});

Deno.test("deadlines: cancelled ones never run; cancelling twice or after running is harmless", async () => {
  const ran: number[] = [];
  const now = Date.now();
  const a = scheduleDeadline(now + 5, () => ran.push(1));
  const b = scheduleDeadline(now + 5, () => ran.push(2));
  cancelDeadline(a);
  cancelDeadline(a);
  await sleep(30);
  assert.deepEqual(ran, [2]);
  cancelDeadline(b);
  // A deadline that schedules another from its callback.
  scheduleDeadline(Date.now(), () => scheduleDeadline(Date.now() + 5, () => ran.push(3)));
  await sleep(30);
  assert.deepEqual(ran, [2, 3]);
  assert.equal(pendingDeadlines(), 0);
});

Deno.test("deadlines: random schedules and cancels keep heap order", async () => {
  const now = Date.now();
  let seed = 7;
  const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  const ran: number[] = [];
  const all = Array.from({ length: 300 }, (_, i) => {
    const at = now + 5 + rnd(40);
    return { i, at, d: scheduleDeadline(at, () => ran.push(i)) };
  });
  const cancelled = new Set<number>();
  for (let k = 0; k < 120; k++) {
    const x = all[rnd(all.length)];
    cancelDeadline(x.d);
    cancelled.add(x.i);
  }
  await sleep(80);
  const expected = all.filter((x) => !cancelled.has(x.i));
  assert.deepEqual(new Set(ran), new Set(expected.map((x) => x.i)));
  const ats = ran.map((i) => all[i].at);
  for (let k = 1; k < ats.length; k++) assert.ok(ats[k - 1] <= ats[k], "ran out of order");
  assert.equal(pendingDeadlines(), 0);
});
