import assert from "node:assert/strict";
import { vrrpBlocker } from "./vrrp_status.ts";
import type { Config } from "../config/types.ts";

const withVrrp = { vrrp: { instances: [{}, {}] } } as unknown as Config;
const without = { vrrp: null } as unknown as Config;

Deno.test("vrrpBlocker() names the missing capabilities in one line", () => {
  assert.equal(
    vrrpBlocker(withVrrp, { netRaw: false, netAdmin: true }),
    "VRRP is off: 2 VRRP instances configured but the process lacks CAP_NET_RAW " +
      "(run as root or grant the capabilities); the proxy serves without VIPs",
  );
  assert.match(
    vrrpBlocker(withVrrp, { netRaw: false, netAdmin: false })!,
    /CAP_NET_RAW and CAP_NET_ADMIN/,
  );
});

Deno.test("vrrpBlocker() is null with the capabilities or without instances", () => {
  assert.equal(vrrpBlocker(withVrrp, { netRaw: true, netAdmin: true }), null);
  assert.equal(vrrpBlocker(without, { netRaw: false, netAdmin: false }), null);
});
