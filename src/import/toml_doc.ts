/**
 * A small TOML document model and a deterministic writer for `halb import`. Sections hold
 * entries (dotted keys allowed); an entry's value is either written inline or, for lists of
 * servers and rules, one element per line so that each element keeps its own comments. The
 * writer also returns which section, entry or element produced each output line, so that a
 * problem `halb check` finds at a line can be traced back to the directive behind it.
 *
 * @module
 */

import type { Src } from "./source.ts";

/** A TOML scalar. */
export type Scalar = string | number | boolean;
/** A TOML value: scalar, array or inline table (keys in insertion order). */
export type Value = Scalar | readonly Value[] | InlineTable;
/** An inline table. */
export interface InlineTable {
  readonly [key: string]: Value;
}

/** Comments attached to a written item. */
export interface Notes {
  /** Full-line comments written above it. */
  comments: string[];
  /** A comment at the end of its line, or null. */
  trailing: string | null;
}

/** One element of a multi-line array. */
export interface Elem extends Notes {
  value: Value;
  src: Src | null;
}

/** `key = value`, or `key = [` elements `]` when `elems` is set. */
export interface Entry extends Notes {
  /** Dotted key parts. */
  key: string[];
  value: Value | null;
  elems: Elem[] | null;
  src: Src | null;
}

/** `[path]` or `[[path]]` with its entries. */
export interface TomlSection extends Notes {
  path: string[];
  array: boolean;
  entries: Entry[];
  src: Src | null;
}

/** What produced one output line. */
export interface LineOrigin {
  readonly section: TomlSection;
  readonly entry: Entry | null;
  readonly elem: Elem | null;
}

/** Creates an entry. */
export function entry(
  key: string | string[],
  value: Value,
  src: Src | null,
  notes: Partial<Notes> = {},
): Entry {
  return {
    key: typeof key === "string" ? key.split(".") : key,
    value,
    elems: null,
    src,
    comments: notes.comments ?? [],
    trailing: notes.trailing ?? null,
  };
}

/** Creates a multi-line array entry. */
export function listEntry(key: string | string[], elems: Elem[]): Entry {
  return {
    key: typeof key === "string" ? key.split(".") : key,
    value: null,
    elems,
    src: elems[0]?.src ?? null,
    comments: [],
    trailing: null,
  };
}

/** Creates an array element. */
export function elem(value: Value, src: Src | null, notes: Partial<Notes> = {}): Elem {
  return { value, src, comments: notes.comments ?? [], trailing: notes.trailing ?? null };
}

const BARE = /^[A-Za-z0-9_-]+$/;

/** Writes a key part, quoting it when it is not a bare key. */
export function formatKey(key: string): string {
  return BARE.test(key) ? key : formatString(key);
}

/** Writes a TOML basic string. */
export function formatString(s: string): string {
  return JSON.stringify(s).replace(/\x7f/g, "\\u007F");
}

/** Writes a value inline. */
export function formatValue(v: Value): string {
  if (typeof v === "string") return formatString(v);
  if (typeof v === "number") {
    if (!Number.isInteger(v)) throw new RangeError(`not an integer: ${v}`);
    return String(v);
  }
  if (typeof v === "boolean") return v ? "true" : "false";
  if (Array.isArray(v)) return `[${v.map(formatValue).join(", ")}]`;
  const parts = Object.entries(v as InlineTable).map(([k, x]) =>
    `${formatKey(k)} = ${formatValue(x)}`
  );
  return parts.length === 0 ? "{}" : `{ ${parts.join(", ")} }`;
}

function commentLines(comments: readonly string[], indent: string): string[] {
  return comments.flatMap((c) => c.split("\n")).map((c) =>
    c === "" ? `${indent}#` : `${indent}# ${c}`
  );
}

function withTrailing(line: string, trailing: string | null): string {
  return trailing === null || trailing === "" ? line : `${line}  # ${trailing.replace(/\n/g, " ")}`;
}

/** The written document and the origin of each of its lines (index 0 = line 1). */
export interface Rendered {
  readonly text: string;
  readonly origins: readonly (LineOrigin | null)[];
}

/**
 * Writes the document. `header` lines (comments) come first; sections follow in order, each
 * separated by a blank line.
 */
export function renderToml(header: readonly string[], sections: readonly TomlSection[]): Rendered {
  const lines: string[] = [];
  const origins: (LineOrigin | null)[] = [];
  const push = (line: string, origin: LineOrigin | null) => {
    lines.push(line);
    origins.push(origin);
  };
  for (const h of commentLines(header, "")) push(h, null);
  for (const section of sections) {
    if (lines.length > 0) push("", null);
    const so: LineOrigin = { section, entry: null, elem: null };
    for (const c of commentLines(section.comments, "")) push(c, so);
    const name = section.path.map(formatKey).join(".");
    if (section.path.length > 0) {
      push(withTrailing(section.array ? `[[${name}]]` : `[${name}]`, section.trailing), so);
    }
    for (const e of section.entries) {
      const eo: LineOrigin = { section, entry: e, elem: null };
      for (const c of commentLines(e.comments, "")) push(c, eo);
      const key = e.key.map(formatKey).join(".");
      if (e.elems === null) {
        push(withTrailing(`${key} = ${formatValue(e.value as Value)}`, e.trailing), eo);
        continue;
      }
      push(withTrailing(`${key} = [`, e.trailing), eo);
      for (const x of e.elems) {
        const xo: LineOrigin = { section, entry: e, elem: x };
        for (const c of commentLines(x.comments, "  ")) push(c, xo);
        push(withTrailing(`  ${formatValue(x.value)},`, x.trailing), xo);
      }
      push("]", eo);
    }
  }
  return { text: lines.join("\n") + "\n", origins };
}
