/**
 * The sample fetches halb knows: which take an argument, what they return, whether they are
 * available on the request or the response side, and the ACL-only suffix forms (`path_beg`,
 * `hdr_sub`, ...) with the match method each implies.
 *
 * @module
 */

import type { MatchMethod } from "./types.ts";

/** Where a fetch has a value. */
export type FetchSide = "request" | "response" | "any";

/** One fetch keyword. */
export interface FetchSpec {
  /** Whether `(arg)` is not allowed, may be given, or must be given. */
  readonly arg: "none" | "optional" | "required";
  /** The match method used without `-m`. */
  readonly match: MatchMethod;
  readonly side: FetchSide;
  /** The sample fetch it derives from (itself for plain fetches), e.g. "path" for "path_beg". */
  readonly base: string;
  /** True for sample fetches usable in `%[...]` and set-var; false for ACL-only suffix forms. */
  readonly sample: boolean;
}

type Kind = "str" | "int" | "ip" | "bool";

const PLAIN: readonly [string, FetchSpec["arg"], Kind, FetchSide][] = [
  ["path", "none", "str", "request"],
  ["url", "none", "str", "request"],
  ["base", "none", "str", "request"],
  ["query", "none", "str", "request"],
  ["method", "none", "str", "request"],
  ["req.ver", "none", "str", "request"],
  ["req_ver", "none", "str", "request"],
  ["hdr", "optional", "str", "request"],
  ["req.hdr", "optional", "str", "request"],
  ["req.fhdr", "optional", "str", "request"],
  ["hdr_cnt", "optional", "int", "request"],
  ["req.hdr_cnt", "optional", "int", "request"],
  ["hdr_val", "optional", "int", "request"],
  ["hdr_ip", "optional", "ip", "request"],
  ["url_param", "required", "str", "request"],
  ["urlp", "required", "str", "request"],
  ["cook", "optional", "str", "request"],
  ["req.cook", "optional", "str", "request"],
  ["src", "none", "ip", "any"],
  ["src_port", "none", "int", "any"],
  ["dst", "none", "ip", "any"],
  ["dst_port", "none", "int", "any"],
  ["ssl_fc", "none", "bool", "any"],
  ["ssl_fc_sni", "none", "str", "any"],
  ["ssl_fc_alpn", "none", "str", "any"],
  ["ssl_fc_protocol", "none", "str", "any"],
  ["var", "required", "str", "any"],
  ["always_true", "none", "bool", "any"],
  ["always_false", "none", "bool", "any"],
  ["status", "none", "int", "response"],
  ["res.hdr", "optional", "str", "response"],
  ["shdr", "optional", "str", "response"],
  ["res.hdr_cnt", "optional", "int", "response"],
  ["res.ver", "none", "str", "response"],
];

/** Fetches with ACL suffix forms, and the suffixes each has. */
const SUFFIXED: readonly [string, readonly string[]][] = [
  ["path", ["beg", "end", "sub", "reg", "dir", "dom", "len"]],
  ["url", ["beg", "end", "sub", "reg", "dir", "dom", "len"]],
  ["base", ["beg", "end", "sub", "reg", "dir", "dom", "len"]],
  ["hdr", ["beg", "end", "sub", "reg", "dir", "dom", "len"]],
  ["cook", ["beg", "end", "sub", "reg", "dir", "dom", "len"]],
  ["url_param", ["beg", "end", "sub", "reg", "dir", "dom", "len"]],
  ["urlp", ["beg", "end", "sub", "reg", "dir", "dom", "len"]],
  ["shdr", ["beg", "end", "sub", "reg", "dir", "dom", "len"]],
  ["ssl_fc_sni", ["end", "reg"]],
];

function buildTable(): ReadonlyMap<string, FetchSpec> {
  const table = new Map<string, FetchSpec>();
  for (const [name, arg, kind, side] of PLAIN) {
    table.set(name, { arg, match: kind, side, base: name, sample: true });
  }
  for (const [base, suffixes] of SUFFIXED) {
    const spec = table.get(base);
    if (spec === undefined) throw new Error(`no base fetch ${base}`);
    for (const s of suffixes) {
      table.set(`${base}_${s}`, { ...spec, match: s as MatchMethod, base, sample: false });
    }
  }
  return table;
}

/** Every known fetch keyword by name. */
export const FETCHES: ReadonlyMap<string, FetchSpec> = buildTable();

/** The match methods accepted after `-m`. */
export const MATCH_METHODS: readonly MatchMethod[] = [
  "str",
  "beg",
  "end",
  "sub",
  "reg",
  "found",
  "len",
  "int",
  "ip",
  "bool",
  "dir",
  "dom",
];
