/**
 * `[global] user` / `group`: after binding, halb switches to an unprivileged user and group but
 * keeps the capabilities it needs for its whole life — CAP_NET_ADMIN (VIPs), CAP_NET_RAW (VRRP
 * and GARP sockets) and CAP_NET_BIND_SERVICE (privileged ports bound on reload).
 *
 * Names are resolved from the local `/etc/passwd` and `/etc/group` files (pure parsers below;
 * NSS sources such as LDAP are not consulted). The switch itself ({@linkcode dropPrivileges})
 * is `setgroups` → `prctl(PR_SET_KEEPCAPS)` → `setgid` → `setuid` → `capset`.
 *
 * Threads: glibc applies `setgroups`/`setgid`/`setuid` to every thread of the process, but
 * keep-caps and `capset` only act on the calling thread. Every other thread that already exists
 * (V8 helpers, Deno's blocking pool) ends with no capabilities at all; threads created
 * afterwards inherit the caller's kept set. The caller is the main isolate's thread, which owns
 * VRRP, netlink and the main proxy's listeners. Proxy worker isolates (`nbthread`) already run
 * then and cannot simply be started later: their SO_REUSEPORT sockets must be opened by the
 * same uid as the main isolate's (the kernel refuses a nobody socket in a group that root
 * opened). So each takes part in the switch on its own thread ({@linkcode holdThroughSwitch}:
 * keep-caps before, `capset` after) and can still bind new privileged ports on reload. Between
 * the two such a thread is blocked: a thread it started in that window (a nested Worker, a
 * blocking-pool thread) would inherit keep-caps and full root capabilities, and come out of the
 * uid change still permitted every capability.
 *
 * @module
 */
import type { Logger } from "../log/logger.ts";
import { CAP_NET_ADMIN, CAP_NET_RAW } from "./caps.ts";
import { libc, sysError } from "./libc.ts";
import { alloc } from "./sockaddr.ts";

/** Capability number of CAP_NET_BIND_SERVICE (ports below 1024). */
export const CAP_NET_BIND_SERVICE = 10;

/** The capabilities halb keeps when it switches users, in the order they are logged. */
export const KEPT_CAPABILITIES: readonly number[] = [
  CAP_NET_ADMIN,
  CAP_NET_RAW,
  CAP_NET_BIND_SERVICE,
];

const CAP_NAMES: Readonly<Record<number, string>> = {
  [CAP_NET_BIND_SERVICE]: "CAP_NET_BIND_SERVICE",
  [CAP_NET_ADMIN]: "CAP_NET_ADMIN",
  [CAP_NET_RAW]: "CAP_NET_RAW",
};

/** `CAP_NET_RAW` for 13, `CAP_<n>` for a number this module has no name for. */
export function capabilityName(cap: number): string {
  return CAP_NAMES[cap] ?? `CAP_${cap}`;
}

/** One `/etc/passwd` entry (the fields halb uses). */
export interface PasswdEntry {
  /** Login name. */
  name: string;
  /** User id. */
  uid: number;
  /** Primary group. */
  gid: number;
}

/** One `/etc/group` entry (the fields halb uses). */
export interface GroupEntry {
  /** Group name. */
  name: string;
  /** Group id. */
  gid: number;
}

/** A uid/gid field; (uid_t)-1 means "unchanged" to the kernel, so it is no id. */
function numericId(text: string | undefined): number | null {
  if (text === undefined || !/^[0-9]{1,10}$/.test(text)) return null;
  const n = Number(text);
  return n < 0xffffffff ? n : null;
}

/** Non-comment, non-NIS lines split on `:`; each with at least `min` fields. */
function records(text: string, min: number): string[][] {
  const out: string[][] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line === "" || line.startsWith("#") || line.startsWith("+") || line.startsWith("-")) {
      continue;
    }
    const fields = line.split(":");
    if (fields.length >= min && fields[0] !== "") out.push(fields);
  }
  return out;
}

/** Parses `/etc/passwd` text (`name:pw:uid:gid:gecos:home:shell`); malformed lines are skipped. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const f of records(text, 4)) {
    const uid = numericId(f[2]);
    const gid = numericId(f[3]);
    if (uid !== null && gid !== null) out.push({ name: f[0], uid, gid });
  }
  return out;
}

/** Parses `/etc/group` text (`name:pw:gid:members`); malformed lines are skipped. */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const f of records(text, 3)) {
    const gid = numericId(f[2]);
    if (gid !== null) out.push({ name: f[0], gid });
  }
  return out;
}

/** Who `[global] user`/`group` ask halb to run as, resolved to ids. */
export interface Identity {
  /** The user name, or null when only `group` is set (the uid does not change). */
  user: string | null;
  /** The user's id; null when `user` is. */
  uid: number | null;
  /** The group name (the user's primary group when `group` is not set). */
  group: string;
  /** The group's id. */
  gid: number;
}

/** The result of {@linkcode resolveIdentity}. */
export type IdentityResult = { ok: true; identity: Identity } | { ok: false; error: string };

/**
 * Resolves `user`/`group` names with the given database texts. Without `group`, the group is
 * the user's primary group (as `su`/`runuser` do), so halb never stays in group root.
 */
export function resolveIdentity(
  request: { user: string | null; group: string | null },
  databases: { passwd: string; group: string },
): IdentityResult {
  const groups = parseGroup(databases.group);
  let user: PasswdEntry | null = null;
  if (request.user !== null) {
    user = parsePasswd(databases.passwd).find((e) => e.name === request.user) ?? null;
    if (user === null) return { ok: false, error: `unknown user "${request.user}"` };
  }
  if (request.group !== null) {
    const g = groups.find((e) => e.name === request.group);
    if (g === undefined) return { ok: false, error: `unknown group "${request.group}"` };
    const identity = {
      user: user?.name ?? null,
      uid: user?.uid ?? null,
      group: g.name,
      gid: g.gid,
    };
    return { ok: true, identity };
  }
  if (user === null) return { ok: false, error: "neither user nor group is set" };
  const primary = groups.find((e) => e.gid === user.gid)?.name ?? String(user.gid);
  return { ok: true, identity: { user: user.name, uid: user.uid, group: primary, gid: user.gid } };
}

/** What the runtime does about an identity, given who it runs as (see {@linkcode planSwitch}). */
export type SwitchPlan =
  | { action: "none" }
  | { action: "drop" }
  | { action: "refuse"; error: string };

/**
 * Root switches; anyone else may only already be who the config says (HAProxy's setuid to
 * oneself succeeds, to anyone else fails with "Cannot set uid" and exits). The group is
 * compared only when `group` is set.
 */
export function planSwitch(
  identity: Identity,
  options: { current: { uid: number; gid: number }; groupSet: boolean },
): SwitchPlan {
  const { current } = options;
  if (current.uid === 0) return { action: "drop" };
  const sameUser = identity.uid === null || identity.uid === current.uid;
  const sameGroup = !options.groupSet || identity.gid === current.gid;
  if (sameUser && sameGroup) return { action: "none" };
  return {
    action: "refuse",
    error: `halb runs as uid ${current.uid} gid ${current.gid}, not root: it cannot switch to ` +
      `${describe(identity)}; start it as root or as that user`,
  };
}

function describe(identity: Identity): string {
  return `${identity.user ?? "(same user)"}:${identity.group}`;
}

const PR_SET_KEEPCAPS = 8;
const LINUX_CAPABILITY_VERSION_3 = 0x20080522;

/** One thread's capability sets (capabilities 0..63 as bit masks). */
export interface CapabilitySets {
  /** What the thread's checks use now. */
  effective: bigint;
  /** What it may make effective. */
  permitted: bigint;
  /** What an `execve` may pass on. */
  inheritable: bigint;
}

function capHeader(): Uint8Array {
  const header = alloc(8);
  const view = new DataView(header.buffer);
  view.setUint32(0, LINUX_CAPABILITY_VERSION_3, true);
  view.setInt32(4, 0, true); // pid 0: the calling thread
  return header;
}

/** Encodes `__user_cap_data_struct[2]` (24 bytes) for `capset`. */
export function encodeCapData(sets: CapabilitySets): Uint8Array {
  const data = alloc(24);
  const view = new DataView(data.buffer);
  const order = [sets.effective, sets.permitted, sets.inheritable];
  for (let half = 0; half < 2; half++) {
    order.forEach((mask, i) => {
      view.setUint32(half * 12 + i * 4, Number((mask >> BigInt(32 * half)) & 0xffffffffn), true);
    });
  }
  return data;
}

/** Decodes `__user_cap_data_struct[2]` as filled by `capget`. */
export function decodeCapData(data: Uint8Array): CapabilitySets {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const mask = (i: number) =>
    BigInt(view.getUint32(i * 4, true)) | (BigInt(view.getUint32(12 + i * 4, true)) << 32n);
  return { effective: mask(0), permitted: mask(1), inheritable: mask(2) };
}

/** The calling thread's capability sets (`capget`). */
export function threadCapabilities(): CapabilitySets {
  const data = alloc(24);
  if (libc().capget(capHeader(), data) < 0) throw sysError("capget");
  return decodeCapData(data);
}

function maskOf(caps: readonly number[]): bigint {
  return caps.reduce((m, c) => m | (1n << BigInt(c)), 0n);
}

/**
 * Sets the calling thread's permitted and effective sets to `keep` (the part of it the thread
 * holds) with inheritable unchanged, then turns keep-caps off so that no later uid change keeps
 * anything. Returns the capabilities kept.
 */
function restrictThread(keep: readonly number[]): KeptCapabilities {
  const c = libc();
  const before = threadCapabilities();
  const result = partition(keep, before.permitted);
  const mask = maskOf(result.kept);
  const sets = { effective: mask, permitted: mask, inheritable: before.inheritable };
  if (c.capset(capHeader(), encodeCapData(sets)) < 0) throw sysError("capset");
  keepCaps(false);
  return result;
}

/** Which of the capabilities asked for were kept, and which the thread did not hold. */
export interface KeptCapabilities {
  /** Capabilities now permitted and effective. */
  kept: number[];
  /** Capabilities asked for that the thread did not hold. */
  missing: number[];
}

function partition(keep: readonly number[], permitted: bigint): KeptCapabilities {
  const held = (cap: number) => ((permitted >> BigInt(cap)) & 1n) === 1n;
  return { kept: keep.filter(held), missing: keep.filter((cap) => !held(cap)) };
}

/** Turns keep-caps on or off for the calling thread. */
function keepCaps(on: boolean): void {
  const flag = on ? 1 : 0;
  if (libc().prctl(PR_SET_KEEPCAPS, BigInt(flag), 0n, 0n, 0n) < 0) {
    throw sysError(`prctl(PR_SET_KEEPCAPS, ${flag})`);
  }
}

/** Options for {@linkcode dropPrivileges}. */
export interface DropOptions {
  /** The user to become; null keeps the uid (and every capability): only the group changes. */
  uid: number | null;
  /** The group to become. */
  gid: number;
  /** Capability numbers to keep permitted and effective. */
  keep: readonly number[];
}

/**
 * Switches the process to `uid`/`gid` with no supplementary groups, keeping the `keep`
 * capabilities permitted and effective on the calling thread (those it holds: the others are
 * reported missing); inheritable stays as it was. Other threads that exist lose every
 * capability unless they hold through the switch ({@linkcode holdThroughSwitch}). Throws a
 * `SysError` naming the failed call; a failure after `setgid` leaves the process half-switched,
 * so callers must exit.
 */
export function dropPrivileges(options: DropOptions): KeptCapabilities {
  const c = libc();
  if (c.setgroups(0n, null) < 0) throw sysError("setgroups(0)");
  if (options.uid === null) {
    if (c.setgid(options.gid) < 0) throw sysError(`setgid(${options.gid})`);
    return partition(options.keep, threadCapabilities().permitted);
  }
  keepCaps(true);
  if (c.setgid(options.gid) < 0) throw sysError(`setgid(${options.gid})`);
  if (c.setuid(options.uid) < 0) throw sysError(`setuid(${options.uid})`);
  return restrictThread(options.keep);
}

/** Gate values: {@linkcode holdThroughSwitch} waits while the gate is closed. */
const GATE_CLOSED = 0;
const GATE_SWITCHED = 1;
const GATE_ABORTED = 2;

/** How long a held thread waits for the switch before it gives up (and keeps nothing). */
const HOLD_TIMEOUT_MS = 10_000;

/** Options for {@linkcode holdThroughSwitch}. */
export interface HoldOptions {
  /** One Int32 on a SharedArrayBuffer that the switching thread opens (see {@linkcode switchUser}). */
  gate: Int32Array;
  /** Capability numbers to keep permitted and effective. */
  keep: readonly number[];
  /** Called once keep-caps is set (null) or failed (the error), right before blocking. */
  held(error: string | null): void;
  /** Default 10 s. */
  timeoutMs?: number;
}

/**
 * Run on another thread that must keep capabilities (a proxy worker isolate) while the main
 * thread switches users: sets keep-caps, reports `held`, then blocks this thread until the
 * gate opens. Once the switch is done it narrows the kept permitted set to `keep` and makes it
 * effective; if the switch was aborted, or did not come in time, it turns keep-caps off again
 * (a later uid change then leaves the thread nothing). The thread runs no JavaScript while it
 * holds, so it starts no thread that would inherit keep-caps. Returns null, or the error text.
 */
export function holdThroughSwitch(options: HoldOptions): string | null {
  try {
    keepCaps(true);
  } catch (e) {
    const error = errorText(e);
    options.held(error);
    return error;
  }
  options.held(null);
  const timeoutMs = options.timeoutMs ?? HOLD_TIMEOUT_MS;
  Atomics.wait(options.gate, 0, GATE_CLOSED, timeoutMs);
  const gate = Atomics.load(options.gate, 0);
  try {
    if (gate === GATE_SWITCHED) {
      restrictThread(options.keep);
      return null;
    }
    keepCaps(false);
    return gate === GATE_CLOSED ? `the user switch did not come within ${timeoutMs} ms` : null;
  } catch (e) {
    return errorText(e);
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function openGate(gate: Int32Array, value: number): void {
  Atomics.store(gate, 0, value);
  Atomics.notify(gate, 0);
}

/** The other threads that must keep the capabilities (the proxy worker isolates). */
export interface SwitchThreads {
  /**
   * Has each of them run {@linkcode holdThroughSwitch} on `gate`: `held` resolves to their
   * errors once every one holds (or failed to), `done` to their errors once they are past
   * the gate.
   */
  hold(
    gate: SharedArrayBuffer,
    keep: readonly number[],
  ): { held: PromiseLike<string[]>; done: PromiseLike<string[]> };
}

/** Options for {@linkcode switchUser}. */
export interface SwitchOptions {
  /** Where the "running as" line goes. */
  logger: Logger;
  /** Proxy worker isolates already running (`nbthread` > 1), or null. */
  threads?: SwitchThreads | null;
  /** The user databases' text; default: read `/etc/passwd` and `/etc/group`. */
  databases?: { passwd: string; group: string };
  /** Who halb runs as; default: `Deno.uid()`, `Deno.gid()`. */
  current?: { uid: number; gid: number };
  /** The switch itself; default {@linkcode dropPrivileges}. */
  drop?: (options: DropOptions) => KeptCapabilities;
}

/**
 * `[global] user`/`group` at run time, once the first generation is bound: as root, switches
 * (the worker isolates keep the capabilities too) and logs who halb runs as; as anyone else,
 * accepts only being that user already. Resolves to null, or to the error that must stop halb
 * (exit 1, as HAProxy's "Cannot set uid").
 */
export async function switchUser(
  request: { user: string | null; group: string | null },
  options: SwitchOptions,
): Promise<string | null> {
  if (request.user === null && request.group === null) return null;
  let databases = options.databases;
  try {
    databases ??= {
      passwd: Deno.readTextFileSync("/etc/passwd"),
      group: Deno.readTextFileSync("/etc/group"),
    };
  } catch (e) {
    return `cannot read the user database: ${e instanceof Error ? e.message : e}`;
  }
  const resolved = resolveIdentity(request, databases);
  if (!resolved.ok) return `cannot switch users: ${resolved.error}`;
  const identity = resolved.identity;
  const current = options.current ?? { uid: Deno.uid() ?? 0, gid: Deno.gid() ?? 0 };
  const plan = planSwitch(identity, { current, groupSet: request.group !== null });
  if (plan.action === "refuse") return plan.error;
  if (plan.action === "none") return null;
  const threads = options.threads ?? null;
  const drop = options.drop ?? dropPrivileges;
  const keep = KEPT_CAPABILITIES;
  try {
    const { kept, missing } = identity.uid === null || threads === null
      ? drop({ uid: identity.uid, gid: identity.gid, keep })
      : await dropHolding(
        threads,
        keep,
        () => drop({ uid: identity.uid, gid: identity.gid, keep }),
      );
    if (identity.user === null) {
      options.logger.log("info", `running as group ${identity.group}, keeping every capability`);
      return null;
    }
    const caps = kept.length === 0 ? "no capability" : kept.map(capabilityName).join(" ");
    options.logger.log("info", `running as ${describe(identity)}, keeping ${caps}`);
    if (missing.length > 0) {
      options.logger.log(
        "warning",
        `${missing.map(capabilityName).join(" ")} not kept: halb did not hold it at start`,
      );
    }
    return null;
  } catch (e) {
    return `cannot switch to ${describe(identity)}: ${e instanceof Error ? e.message : e}`;
  }
}

/**
 * Runs `drop` while every worker thread holds through it (see {@linkcode holdThroughSwitch}):
 * the gate opens "switched" after it, or "aborted" when a thread or the drop failed.
 */
async function dropHolding(
  threads: SwitchThreads,
  keep: readonly number[],
  drop: () => KeptCapabilities,
): Promise<KeptCapabilities> {
  const gate = new Int32Array(new SharedArrayBuffer(4));
  const hold = threads.hold(gate.buffer as SharedArrayBuffer, keep);
  const held = await hold.held;
  let result: KeptCapabilities;
  try {
    if (held.length > 0) throw new Error(`proxy thread prepare: ${held.join("; ")}`);
    result = drop();
  } catch (e) {
    openGate(gate, GATE_ABORTED);
    await hold.done;
    throw e;
  }
  openGate(gate, GATE_SWITCHED);
  const done = await hold.done;
  if (done.length > 0) throw new Error(`proxy thread restrict: ${done.join("; ")}`);
  return result;
}
