import assert from "node:assert/strict";
import { fieldToUs, intervalField, masterDownIntervalUs, skewTimeUs } from "./timers.ts";

// shared/reference/vrrp.md §2 "Worked values", in µs (keepalived's integer arithmetic).
const table: [string, 2 | 3, number, number, number, number][] = [
  // name, version, interval µs, priority, skew µs, MDI µs
  ["A=1 s p=100 v3", 3, 1_000_000, 100, 609_375, 3_609_375],
  ["A=1 s p=100 v2", 2, 1_000_000, 100, 609_375, 3_609_375],
  ["A=1 s p=150", 3, 1_000_000, 150, 414_062, 3_414_062],
  ["A=1 s p=200", 3, 1_000_000, 200, 218_750, 3_218_750],
  ["A=1 s p=254", 3, 1_000_000, 254, 7_812, 3_007_812],
  ["v2 A=2 s p=100 (skew not scaled)", 2, 2_000_000, 100, 609_375, 6_609_375],
  ["v3 A=0.1 s p=100", 3, 100_000, 100, 60_937, 360_937],
  ["v3 A=0.5 s p=100", 3, 500_000, 100, 304_687, 1_804_687],
  ["v3 A=2 s p=100 (skew scaled)", 3, 2_000_000, 100, 1_218_750, 7_218_750],
];

Deno.test("skewTimeUs()/masterDownIntervalUs() reproduce the reference's worked values", () => {
  for (const [name, version, masterAdverIntUs, priority, skew, mdi] of table) {
    const inputs = { version, priority, masterAdverIntUs };
    assert.equal(skewTimeUs(inputs), skew, name);
    assert.equal(masterDownIntervalUs(inputs), mdi, name);
  }
});

Deno.test("intervalField() rounds and clamps like keepalived; fieldToUs() converts", () => {
  assert.equal(intervalField(2, 1000), 1);
  assert.equal(intervalField(2, 1400), 1);
  assert.equal(intervalField(2, 1600), 2);
  assert.equal(intervalField(2, 300_000), 255);
  assert.equal(intervalField(2, 100), 1);
  assert.equal(intervalField(3, 1000), 100);
  assert.equal(intervalField(3, 15), 2);
  assert.equal(intervalField(3, 50_000), 4095);
  assert.equal(fieldToUs(2, 2), 2_000_000);
  assert.equal(fieldToUs(3, 10), 100_000);
});
