/**
 * Diagnostics for the config compiler: key paths, a collector that locates each problem in the
 * file, the `FILE:LINE:COL: key.path: message` formatter and "did you mean" suggestions.
 *
 * @module
 */

import type { Diagnostic } from "./types.ts";

/** One step of a key path: a TOML key or an array index. */
export type PathSegment = string | number;

/** A key path as segments, e.g. `["vrrp", "instance", 0, "advert_int"]`. */
export type KeyPath = readonly PathSegment[];

/** Where in the file a diagnostic points: at the key, or at its value. */
export type Anchor = "key" | "value";

/** A 1-based line/column position; line 0 means "no place in the file". */
export interface Position {
  readonly line: number;
  readonly column: number;
}

/** Finds the position of a key path in the source text. */
export interface PathLocator {
  /** The position of the key or value at `path`, or of its nearest ancestor that exists. */
  locate(path: KeyPath, anchor: Anchor): Position;
}

const BARE_KEY = /^[A-Za-z0-9_-]+$/;

/**
 * Formats a key path with TOML names: `backend.nginx.server[1].weight`. Keys that are not bare
 * TOML keys are quoted.
 */
export function formatPath(path: KeyPath): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else {
      const key = BARE_KEY.test(seg) ? seg : JSON.stringify(seg);
      out += out === "" ? key : `.${key}`;
    }
  }
  return out;
}

/**
 * Formats a diagnostic as `FILE:LINE:COL: key.path: message` (warnings add `warning: ` before
 * the message; a diagnostic with line 0 prints as `FILE: message`; an empty path is left out).
 */
export function formatDiagnostic(d: Diagnostic): string {
  const message = d.severity === "warning" ? `warning: ${d.message}` : d.message;
  if (d.line === 0) return `${d.file}: ${d.path === "" ? "" : `${d.path}: `}${message}`;
  const where = `${d.file}:${d.line}:${d.column}`;
  return d.path === "" ? `${where}: ${message}` : `${where}: ${d.path}: ${message}`;
}

/** Collects diagnostics for one file, locating each one. */
export class Diagnostics {
  readonly #file: string;
  readonly #locator: PathLocator;
  readonly #list: Diagnostic[] = [];
  readonly #seen = new Set<string>();

  /** Creates a collector for `file` that locates paths with `locator`. */
  constructor(file: string, locator: PathLocator) {
    this.#file = file;
    this.#locator = locator;
  }

  /** Records an error at `path` (pointing at its value unless `anchor` says "key"); once only. */
  error(path: KeyPath, message: string, anchor: Anchor = "value"): void {
    this.#add("error", path, message, anchor);
  }

  /** Records a warning at `path` (pointing at its value unless `anchor` says "key"). */
  warn(path: KeyPath, message: string, anchor: Anchor = "value"): void {
    this.#add("warning", path, message, anchor);
  }

  /** True when at least one error was recorded. */
  get hasErrors(): boolean {
    return this.#list.some((d) => d.severity === "error");
  }

  /** The diagnostics sorted by position (stable for equal positions). */
  sorted(): Diagnostic[] {
    return this.#list
      .map((d, i) => ({ d, i }))
      .sort((a, b) => a.d.line - b.d.line || a.d.column - b.d.column || a.i - b.i)
      .map(({ d }) => d);
  }

  #add(severity: Diagnostic["severity"], path: KeyPath, message: string, anchor: Anchor): void {
    const pos = this.#locator.locate(path, anchor);
    const d: Diagnostic = {
      severity,
      file: this.#file,
      line: pos.line,
      column: pos.column,
      path: formatPath(path),
      message,
    };
    const key = JSON.stringify(d);
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.#list.push(d);
  }
}

/** Levenshtein edit distance between two strings. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
    }
    prev = cur;
  }
  return prev[b.length];
}

/**
 * The candidate closest to `word` when it is close enough to be a likely typo (distance at most
 * a third of the word's length, minimum 1; case differences are cheap), else null.
 */
export function suggest(word: string, candidates: Iterable<string>): string | null {
  let best: string | null = null;
  let bestDist = Infinity;
  for (const c of candidates) {
    const d = c.toLowerCase() === word.toLowerCase() ? 0.5 : editDistance(word, c);
    if (d < bestDist) {
      best = c;
      bestDist = d;
    }
  }
  const limit = Math.max(1, Math.floor(word.length / 3));
  return bestDist <= limit ? best : null;
}

/** `unknown key "x" (did you mean "y"?)`-style text: the suffix when a suggestion exists. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const s = suggest(word, candidates);
  return s === null ? "" : ` (did you mean "${s}"?)`;
}
