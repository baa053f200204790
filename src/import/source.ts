/**
 * Shared vocabulary of `halb import`: where a directive came from, the warnings about directives
 * that cannot be mapped, and the coverage ledger that proves no line of an input was dropped
 * silently (every directive line is either mapped or warned about).
 *
 * @module
 */

/** A place in an input file (1-based line). */
export interface Src {
  readonly file: string;
  readonly line: number;
}

/** A directive that could not be mapped (or only in part). */
export interface ImportWarning {
  readonly src: Src;
  /** The directive's keyword(s), e.g. `option tcp-check` or `vrrp_instance`. */
  readonly directive: string;
  /** Why it cannot be mapped. */
  readonly why: string;
}

/** Formats a warning as `FILE:LINE: directive: cannot be mapped (why)`. */
export function formatWarning(w: ImportWarning): string {
  return `${w.src.file}:${w.src.line}: ${w.directive}: cannot be mapped (${w.why})`;
}

/** What happened to one input line. */
export type LineFate = "mapped" | "warned";

/**
 * Records, per file and line, whether a directive was mapped or warned about, and collects the
 * warnings in the order they were raised. A warning wins over "mapped" for the same line.
 */
export class Ledger {
  readonly warnings: ImportWarning[] = [];
  readonly #lines = new Map<string, Map<number, LineFate>>();

  /** Marks the directive at `src` as mapped. */
  mapped(src: Src): void {
    const m = this.#file(src.file);
    if (!m.has(src.line)) m.set(src.line, "mapped");
  }

  /** Records a warning about the directive at `src` (and marks its line). */
  warn(src: Src, directive: string, why: string): void {
    this.warnings.push({ src, directive, why });
    this.#file(src.file).set(src.line, "warned");
  }

  /** Marks lines `from..to` of `file` as covered by a warning given once for the block. */
  warnedBlock(file: string, from: number, to: number): void {
    const m = this.#file(file);
    for (let l = from; l <= to; l++) m.set(l, "warned");
  }

  /** The fate of every recorded line of `file`. */
  lines(file: string): ReadonlyMap<number, LineFate> {
    return this.#file(file);
  }

  /** The files seen (inputs and included files). */
  files(): string[] {
    return [...this.#lines.keys()];
  }

  #file(file: string): Map<number, LineFate> {
    let m = this.#lines.get(file);
    if (m === undefined) {
      m = new Map();
      this.#lines.set(file, m);
    }
    return m;
  }
}

/** A problem that makes an input unusable (unterminated quote, unbalanced braces). */
export interface ParseError {
  readonly src: Src;
  readonly message: string;
}

/** Formats a parse error as `FILE:LINE: message`. */
export function formatParseError(e: ParseError): string {
  return `${e.src.file}:${e.src.line}: ${e.message}`;
}

/**
 * Converts a time written HAProxy- or keepalived-style to a halb duration string. HAProxy's
 * default unit is ms, keepalived's is seconds (decimals allowed). Null when not a time.
 */
export function toDuration(text: string, unit: "ms" | "s"): string | null {
  const m = /^(\d+(?:\.\d+)?)(us|ms|s|m|h|d)?$/.exec(text);
  if (m === null) return null;
  const [, num, suffix] = m;
  if (suffix !== undefined) {
    if (num.includes(".")) return fromMicros(Number(num) * MICROS[suffix]);
    return `${num}${suffix}`;
  }
  if (!num.includes(".")) return `${num}${unit}`;
  return fromMicros(Number(num) * (unit === "ms" ? 1000 : 1_000_000));
}

const MICROS: Record<string, number> = {
  us: 1,
  ms: 1000,
  s: 1_000_000,
  m: 60_000_000,
  h: 3_600_000_000,
  d: 86_400_000_000,
};

function fromMicros(us: number): string {
  const n = Math.round(us);
  if (n === 0) return "0s";
  for (const unit of ["d", "h", "m", "s", "ms"]) {
    if (n !== 0 && n % MICROS[unit] === 0) return `${n / MICROS[unit]}${unit}`;
  }
  return `${n}us`;
}
