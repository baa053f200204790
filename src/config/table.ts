/**
 * The generic, schema-driven reader for TOML tables: checks unknown keys (with "did you mean"),
 * required keys and inert keys, and reads typed values with the defaults and ranges of
 * {@linkcode SCHEMA}, reporting every problem at its key path.
 *
 * @module
 */

import { type Diagnostics, didYouMean, type KeyPath } from "./diagnostics.ts";
import { formatMillis, parseDuration } from "./duration.ts";
import type { HostProbe } from "./probe.ts";
import { type KeySpec, SCHEMA, type SectionSpec } from "./schema.ts";
import type { Millis } from "./types.ts";

/** Everything the section compilers share for one compile run. */
export interface Ctx {
  readonly diags: Diagnostics;
  /** Directory of the config file, for relative paths. */
  readonly dir: string;
  readonly readTextFile: (path: string) => string;
  readonly probe: HostProbe;
}

/** A parsed TOML table (smol-toml gives null-prototype objects). */
export type RawTable = Record<string, unknown>;

/** True for a TOML table (not an array, not a date). */
export function isTable(v: unknown): v is RawTable {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** The TOML type of a value with its article, for messages: "a string", "an integer". */
export function typeName(v: unknown): string {
  if (typeof v === "string") return "a string";
  if (typeof v === "boolean") return "a boolean";
  if (typeof v === "number" || typeof v === "bigint") {
    return Number.isInteger(v) || typeof v === "bigint" ? "an integer" : "a float";
  }
  if (Array.isArray(v)) return "an array";
  if (v instanceof Date) return "a date-time";
  return "a table";
}

function rangeText(min: number | undefined, max: number | undefined, fmt: (n: number) => string) {
  if (min !== undefined && max !== undefined) return `${fmt(min)}..${fmt(max)}`;
  return min !== undefined ? `at least ${fmt(min)}` : `at most ${fmt(max as number)}`;
}

/** A TOML table being read against one schema section. */
export class Table {
  readonly ctx: Ctx;
  readonly path: KeyPath;
  readonly raw: RawTable;
  readonly spec: SectionSpec;

  /**
   * Wraps `raw` (at `path`) for section `section` of the schema, reporting unknown keys,
   * missing required keys and inert keys right away.
   */
  constructor(ctx: Ctx, path: KeyPath, raw: RawTable, section: string) {
    this.ctx = ctx;
    this.path = path;
    this.raw = raw;
    this.spec = SCHEMA[section];
    const known = Object.keys(this.spec);
    for (const key of Object.keys(raw)) {
      const spec = this.spec[key];
      if (spec === undefined) {
        ctx.diags.error(this.at(key), `unknown key "${key}"${didYouMean(key, known)}`, "key");
      } else if (spec.inert !== undefined) {
        ctx.diags.warn(this.at(key), spec.inert, "key");
      }
    }
    for (const [key, spec] of Object.entries(this.spec)) {
      if (spec.required && !(key in raw)) {
        ctx.diags.error(this.at(key), `missing required key "${key}"`);
      }
    }
  }

  /**
   * A table at `path` for `section`, or null (with an error) when `value` is not a table.
   */
  static of(ctx: Ctx, path: KeyPath, value: unknown, section: string): Table | null {
    if (!isTable(value)) {
      ctx.diags.error(path, `expected a table, found ${typeName(value)}`);
      return null;
    }
    return new Table(ctx, path, value, section);
  }

  /** The key path of `key` in this table. */
  at(key: string | number, ...more: (string | number)[]): KeyPath {
    return [...this.path, key, ...more];
  }

  /** True when the key is written. */
  has(key: string): boolean {
    return key in this.raw;
  }

  /** The raw value of a key. */
  get(key: string): unknown {
    return this.raw[key];
  }

  /** Records an error at a key of this table (at its value). */
  error(key: string | number, message: string, ...more: (string | number)[]): void {
    this.ctx.diags.error(this.at(key, ...more), message);
  }

  /** Records a warning at a key of this table (at its value). */
  warn(key: string | number, message: string, ...more: (string | number)[]): void {
    this.ctx.diags.warn(this.at(key, ...more), message);
  }

  #spec(key: string): KeySpec {
    const spec = this.spec[key];
    if (spec === undefined) throw new Error(`schema has no key ${key}`);
    return spec;
  }

  #wrongType(key: string, want: string): void {
    this.error(key, `expected ${want}, found ${typeName(this.raw[key])}`);
  }

  /** A string value (checked against the allowed values), else its default, else null. */
  optText(key: string): string | null {
    const spec = this.#spec(key);
    const def = typeof spec.default === "string" ? spec.default : null;
    if (!this.has(key)) return def;
    const v = this.raw[key];
    if (typeof v !== "string") {
      this.#wrongType(key, "a string");
      return def;
    }
    if (spec.values !== undefined && !spec.values.includes(v)) {
      this.error(
        key,
        `invalid value "${v}": expected one of ${spec.values.join(", ")}${
          didYouMean(v, spec.values)
        }`,
      );
      return def;
    }
    return v;
  }

  /** Like {@linkcode optText}, with "" when there is neither value nor default. */
  text(key: string): string {
    return this.optText(key) ?? "";
  }

  /** An integer in the schema's range, else its default, else null. */
  optInt(key: string): number | null {
    const spec = this.#spec(key);
    const def = typeof spec.default === "number" ? spec.default : null;
    if (!this.has(key)) return def;
    const v = this.raw[key];
    if (typeof v !== "number" || !Number.isInteger(v)) {
      this.#wrongType(key, "an integer");
      return def;
    }
    if ((spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max)) {
      this.error(key, `${v} is out of range (${rangeText(spec.min, spec.max, String)})`);
      return def;
    }
    return v;
  }

  /** Like {@linkcode optInt}, with 0 when there is neither value nor default. */
  int(key: string): number {
    return this.optInt(key) ?? 0;
  }

  /** A boolean, else its default, else null. */
  optBool(key: string): boolean | null {
    const spec = this.#spec(key);
    const def = typeof spec.default === "boolean" ? spec.default : null;
    if (!this.has(key)) return def;
    const v = this.raw[key];
    if (typeof v !== "boolean") {
      this.#wrongType(key, "a boolean (true or false)");
      return def;
    }
    return v;
  }

  /** Like {@linkcode optBool}, with false when there is neither value nor default. */
  bool(key: string): boolean {
    return this.optBool(key) ?? false;
  }

  /** A duration in ms within the schema's range, else its default, else null. */
  optDuration(key: string): Millis | null {
    const spec = this.#spec(key);
    let def: Millis | null = null;
    if (typeof spec.default === "string") {
      const d = parseDuration(spec.default);
      if (d.ok) def = d.value;
    }
    if (!this.has(key)) return def;
    const d = parseDuration(this.raw[key], spec.unit);
    if (!d.ok) {
      this.error(key, d.error);
      return def;
    }
    const v = d.value;
    if ((spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max)) {
      this.error(
        key,
        `${formatMillis(v)} is out of range (${rangeText(spec.min, spec.max, formatMillis)})`,
      );
      return def;
    }
    return v;
  }

  /** Like {@linkcode optDuration}, with 0 when there is neither value nor default. */
  duration(key: string): Millis {
    return this.optDuration(key) ?? 0;
  }

  /** An array of strings (a single string is not accepted); [] when absent. */
  strings(key: string): string[] {
    if (!this.has(key)) return [];
    const v = this.raw[key];
    if (!Array.isArray(v)) {
      this.#wrongType(key, "an array of strings");
      return [];
    }
    const out: string[] = [];
    v.forEach((el, i) => {
      if (typeof el === "string") out.push(el);
      else this.error(key, `expected a string, found ${typeName(el)}`, i);
    });
    return out;
  }

  /** One string or an array of strings; [] when absent. */
  stringOrStrings(key: string): string[] {
    return typeof this.raw[key] === "string" ? [this.raw[key] as string] : this.strings(key);
  }

  /** The sub-table at `key` read against its schema section, or null when absent or invalid. */
  table(key: string): Table | null {
    if (!this.has(key)) return null;
    const section = this.#spec(key).section;
    if (section === undefined) throw new Error(`schema key ${key} has no section`);
    return Table.of(this.ctx, this.at(key), this.raw[key], section);
  }

  /** A free-form table (any keys) as entries; [] when absent or invalid. */
  entries(key: string): [string, unknown][] {
    if (!this.has(key)) return [];
    const v = this.raw[key];
    if (!isTable(v)) {
      this.#wrongType(key, "a table");
      return [];
    }
    return Object.entries(v);
  }

  /** The array of tables at `key`, each read against its schema section; [] when absent. */
  tables(key: string): Table[] {
    if (!this.has(key)) return [];
    const section = this.#spec(key).section;
    if (section === undefined) throw new Error(`schema key ${key} has no section`);
    const v = this.raw[key];
    if (!Array.isArray(v)) {
      this.#wrongType(key, "an array of tables");
      return [];
    }
    const out: Table[] = [];
    v.forEach((el, i) => {
      const t = Table.of(this.ctx, this.at(key, i), el, section);
      if (t !== null) out.push(t);
    });
    return out;
  }
}
