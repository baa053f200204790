import assert from "node:assert/strict";
import { capabilitiesFromMask, netCapabilities, parseCapEff } from "./caps.ts";

const STATUS = `Name:\tdeno
Umask:\t0022
State:\tR (running)
CapInh:\t0000000000000000
CapPrm:\t000001ffffffffff
CapEff:\t0000000000003000
CapBnd:\t000001ffffffffff
CapAmb:\t0000000000000000
NoNewPrivs:\t0
`;

Deno.test("parseCapEff reads the CapEff mask and rejects missing or malformed lines", () => {
  assert.equal(parseCapEff(STATUS), 0x3000n);
  assert.equal(parseCapEff("CapEff:\t000001ffffffffff\n"), 0x1ffffffffffn);
  assert.equal(parseCapEff("CapPrm:\t000001ffffffffff\n"), null);
  assert.equal(parseCapEff("CapEff:\tnothex\n"), null);
  assert.equal(parseCapEff(""), null);
});

Deno.test("capabilitiesFromMask picks CAP_NET_ADMIN (12) and CAP_NET_RAW (13)", () => {
  const table: Array<[bigint, boolean, boolean]> = [
    [0n, false, false],
    [1n << 13n, true, false],
    [1n << 12n, false, true],
    [0x3000n, true, true],
    [0x1ffffffffffn, true, true],
    [0x1ffffffcfffn, false, false],
  ];
  for (const [mask, netRaw, netAdmin] of table) {
    assert.deepEqual(capabilitiesFromMask(mask), { netRaw, netAdmin }, `mask ${mask.toString(16)}`);
  }
});

Deno.test("netCapabilities agrees with this process's /proc/self/status", () => {
  const mask = parseCapEff(Deno.readTextFileSync("/proc/self/status"));
  assert.notEqual(mask, null);
  assert.deepEqual(netCapabilities(), capabilitiesFromMask(mask!));
});
