import assert from "node:assert/strict";
import { formatMillis, parseDuration } from "./duration.ts";

Deno.test("parseDuration accepts every unit", () => {
  const table: [string, number][] = [
    ["500us", 0.5],
    ["250ms", 250],
    ["10s", 10_000],
    ["1.5s", 1500],
    ["1m", 60_000],
    ["1h", 3_600_000],
    ["1d", 86_400_000],
    [" 3s ", 3000],
  ];
  for (const [text, ms] of table) assert.deepEqual(parseDuration(text), { ok: true, value: ms });
});

Deno.test("parseDuration rejects bare numbers with a unit hint", () => {
  assert.deepEqual(parseDuration(1), {
    ok: false,
    error: 'write a duration with a unit, e.g. "1s"',
  });
  assert.deepEqual(parseDuration(5000, "ms"), {
    ok: false,
    error: 'write a duration with a unit, e.g. "5000ms"',
  });
  assert.deepEqual(parseDuration("10"), {
    ok: false,
    error: 'write a duration with a unit, e.g. "10s"',
  });
});

Deno.test("parseDuration rejects bad units and shapes", () => {
  const r = parseDuration("10sec");
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.error : "", /unknown duration unit "sec"/);
  assert.equal(parseDuration("-1s").ok, false);
  assert.equal(parseDuration("s").ok, false);
  assert.equal(parseDuration(true).ok, false);
});

Deno.test("formatMillis picks the largest whole unit", () => {
  assert.equal(formatMillis(1000), "1s");
  assert.equal(formatMillis(40950), "40.95s");
  assert.equal(formatMillis(250), "250ms");
  assert.equal(formatMillis(120_000), "2m");
  assert.equal(formatMillis(0.5), "500us");
  assert.equal(formatMillis(0), "0ms");
});
