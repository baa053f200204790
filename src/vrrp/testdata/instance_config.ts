/**
 * Test fixture: a complete {@linkcode VrrpInstanceConfig} with keepalived-like defaults
 * (VRID 51, priority 100, 1 s, v3 IPv4, VIP 192.0.2.100/24, preempt, GARP 5 × 2 with 5 s delay).
 *
 * @module
 */
import type { VrrpInstanceConfig } from "../../config/types.ts";

/**
 * Builds an instance config for tests.
 *
 * @param over fields to override
 * @returns the config
 * @example
 * ```ts
 * instanceConfig({ priority: 150, version: 2 });
 * ```
 */
export function instanceConfig(over: Partial<VrrpInstanceConfig> = {}): VrrpInstanceConfig {
  return {
    name: "VI_1",
    state: "BACKUP",
    interface: "eth0",
    virtualRouterId: 51,
    priority: 100,
    advertInt: 1000,
    version: 3,
    family: 4,
    authentication: null,
    virtualIpaddress: [{
      address: "192.0.2.100",
      prefix: 24,
      family: 4,
      dev: null,
      label: null,
      text: "192.0.2.100/24",
    }],
    trackScript: [],
    trackInterface: [],
    trackProxy: null,
    preempt: true,
    preemptDelay: 0,
    unicastSrcIp: null,
    unicastPeer: [],
    v3Ipv4Checksum: "pseudo",
    lowerPrioNoAdvert: false,
    garpMasterDelay: 5000,
    garpMasterRepeat: 5,
    notifyMaster: null,
    notifyBackup: null,
    notifyFault: null,
    notifyStop: null,
    notify: null,
    smtpAlert: false,
    ...over,
  };
}
