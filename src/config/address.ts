/**
 * Address parsing: listen addresses (`":80"`, `"*:80"`, `"[::]:80"`, `"unix@/path"`), server
 * addresses (IP or hostname with a port), CIDR networks and keepalived-style virtual IP lines.
 *
 * @module
 */

import { isIP } from "node:net";
import type { ListenAddress, ServerAddress, VirtualIp } from "./types.ts";

/** A parse result: the value, or an error message. */
export type Parsed<T> = { readonly ok: true; readonly value: T } | {
  readonly ok: false;
  readonly error: string;
};

function ok<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

function fail<T>(error: string): Parsed<T> {
  return { ok: false, error };
}

/** The family of a literal IP address (4 or 6), or 0 when `text` is not one. */
export function ipFamily(text: string): 0 | 4 | 6 {
  return isIP(text) as 0 | 4 | 6;
}

const HOSTNAME =
  /^(?=.{1,253}\.?$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** True for a syntactically valid DNS hostname. */
export function isHostname(text: string): boolean {
  return HOSTNAME.test(text);
}

function parsePort(text: string, whole: string): Parsed<number> {
  if (text === "") return fail(`missing port in "${whole}" (write e.g. ":80")`);
  if (!/^\d+$/.test(text)) return fail(`invalid port "${text}" in "${whole}"`);
  const port = Number(text);
  if (port < 1 || port > 65535) return fail(`port ${port} is out of range (1..65535)`);
  return ok(port);
}

/** Splits `host:port`, `[v6]:port` or `v6:port` (port after the last colon). */
function splitHostPort(text: string): Parsed<{ host: string; port: string; bracketed: boolean }> {
  if (text.startsWith("[")) {
    const end = text.indexOf("]");
    if (end < 0) return fail(`missing "]" in "${text}"`);
    const rest = text.slice(end + 1);
    if (!rest.startsWith(":")) return fail(`missing port in "${text}" (write e.g. "[::1]:80")`);
    return ok({ host: text.slice(1, end), port: rest.slice(1), bracketed: true });
  }
  const colon = text.lastIndexOf(":");
  if (colon < 0) return fail(`missing port in "${text}" (write e.g. ":80")`);
  return ok({ host: text.slice(0, colon), port: text.slice(colon + 1), bracketed: false });
}

/** Parses an address to listen on. Hostnames are refused: binds take literal IPs. */
export function parseListenAddress(text: string): Parsed<ListenAddress> {
  if (text.startsWith("unix@") || text.startsWith("/")) {
    const path = text.startsWith("unix@") ? text.slice(5) : text;
    if (path === "") return fail(`missing socket path in "${text}"`);
    return ok({ kind: "unix", path, text });
  }
  const split = splitHostPort(text);
  if (!split.ok) return split;
  const { host, port: portText, bracketed } = split.value;
  const port = parsePort(portText, text);
  if (!port.ok) return port;
  if (!bracketed && (host === "" || host === "*")) {
    return ok({ kind: "inet", host: "0.0.0.0", port: port.value, family: 4, text });
  }
  const family = ipFamily(host);
  if (family === 0 || (bracketed && family !== 6)) {
    return fail(`"${host}" is not an IP address (a bind needs a literal IP, "*" or nothing)`);
  }
  return ok({ kind: "inet", host, port: port.value, family, text });
}

/** True when a listen address is only reachable from this machine (loopback or unix socket). */
export function isLocalOnly(addr: ListenAddress): boolean {
  if (addr.kind === "unix") return true;
  return addr.family === 4 ? addr.host.startsWith("127.") : addr.host === "::1";
}

/** Parses a server address: an IP or hostname with a port (`defaultPort` when it may be left out). */
export function parseServerAddress(
  text: string,
  options: { defaultPort?: number } = {},
): Parsed<ServerAddress> {
  let host: string;
  let portText: string;
  if (options.defaultPort !== undefined && !text.startsWith("[") && ipFamily(text) !== 0) {
    host = text;
    portText = String(options.defaultPort);
  } else if (options.defaultPort !== undefined && !text.includes(":")) {
    host = text;
    portText = String(options.defaultPort);
  } else {
    const split = splitHostPort(text);
    if (!split.ok) return split;
    host = split.value.host;
    portText = split.value.port;
    if (split.value.bracketed && ipFamily(host) !== 6) {
      return fail(`"${host}" is not an IPv6 address`);
    }
  }
  if (host === "") return fail(`missing host in "${text}"`);
  if (ipFamily(host) === 0 && !isHostname(host)) {
    return fail(`"${host}" is neither an IP address nor a hostname`);
  }
  const port = parsePort(portText, text);
  if (!port.ok) return port;
  return ok({ host, port: port.value, text });
}

/** An IP network: address, prefix length and family. */
export interface Cidr {
  readonly address: string;
  readonly prefix: number;
  readonly family: 4 | 6;
}

/** Parses `addr[/prefix]`; without a prefix the network is one host (/32 or /128). */
export function parseCidr(text: string): Parsed<Cidr> {
  const slash = text.indexOf("/");
  const address = slash < 0 ? text : text.slice(0, slash);
  const family = ipFamily(address);
  if (family === 0) return fail(`"${address}" is not an IP address`);
  const max = family === 4 ? 32 : 128;
  if (slash < 0) return ok({ address, prefix: max, family });
  const prefixText = text.slice(slash + 1);
  const prefix = Number(prefixText);
  if (!/^\d+$/.test(prefixText) || prefix > max) {
    return fail(`invalid prefix length "/${prefixText}" in "${text}" (0..${max})`);
  }
  return ok({ address, prefix, family });
}

/**
 * Parses a keepalived `virtual_ipaddress` entry: `<IP>[/<prefix>] [dev <IF>] [label <LABEL>]`.
 */
export function parseVirtualIp(text: string): Parsed<VirtualIp> {
  const words = text.trim().split(/\s+/);
  const cidr = parseCidr(words[0] ?? "");
  if (!cidr.ok) return cidr;
  let dev: string | null = null;
  let label: string | null = null;
  for (let i = 1; i < words.length; i += 2) {
    const word = words[i];
    const arg = words[i + 1];
    if (word !== "dev" && word !== "label") {
      return fail(`unsupported virtual_ipaddress option "${word}" (supported: dev, label)`);
    }
    if (arg === undefined) return fail(`"${word}" needs a value in "${text}"`);
    if (word === "dev") dev = arg;
    else label = arg;
  }
  return ok({
    address: cidr.value.address,
    prefix: cidr.value.prefix,
    family: cidr.value.family,
    dev,
    label,
    text,
  });
}
