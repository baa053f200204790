/**
 * A tokenizer and sectioner for haproxy.cfg (HAProxy 2.6 syntax): line based; words separated
 * by blanks; `"..."` with backslash escapes, `'...'` taken literally, both joinable with
 * surrounding text; backslash escapes outside quotes (`\ `, `\#`, `\\`, `\"`, `\'`, `\t`, `\n`,
 * `\r`, `\xHH`); `#` starts a comment outside quotes. Section keywords start sections; every
 * other line is a directive of the current section. Full-line comments are kept and attached
 * to the next directive or section.
 *
 * @module
 */

import type { ParseError, Src } from "./source.ts";

/** One word of a directive; `quoted` when any part of it was written in quotes. */
export interface Word {
  readonly text: string;
  readonly quoted: boolean;
}

/** One directive line. */
export interface Directive {
  readonly src: Src;
  readonly words: readonly Word[];
  /** Full-line comments right above it (without `#`). */
  readonly comments: readonly string[];
  /** A comment at the end of the line (without `#`), or null. */
  readonly trailing: string | null;
}

/** The section keywords HAProxy 2.6 knows. */
export const SECTION_KEYWORDS: ReadonlySet<string> = new Set([
  "global",
  "defaults",
  "frontend",
  "backend",
  "listen",
  "userlist",
  "peers",
  "resolvers",
  "mailers",
  "program",
  "http-errors",
  "ring",
  "cache",
  "fcgi-app",
  "crt-store",
  "traces",
]);

/** A section: its header line and directives. */
export interface Section {
  /** The section keyword, e.g. "listen". */
  readonly kind: string;
  /** The name (empty for `global` and unnamed `defaults`). */
  readonly name: string;
  /** `defaults`/proxies: the defaults section named with `from`, or null. */
  readonly from: string | null;
  readonly header: Directive;
  readonly directives: readonly Directive[];
  /** The last line of the section (for block warnings). */
  readonly lastLine: number;
}

/** The parsed file: sections in order, and directives before any section. */
export interface HaproxyFile {
  readonly file: string;
  readonly sections: readonly Section[];
  /** Directives before the first section (HAProxy rejects them). */
  readonly orphans: readonly Directive[];
}

/** Result of {@linkcode tokenizeLine}. */
export type LineTokens =
  | { readonly ok: true; readonly words: Word[]; readonly comment: string | null }
  | { readonly ok: false; readonly error: string };

const SIMPLE_ESCAPES: Record<string, string> = { t: "\t", n: "\n", r: "\r" };

/** Splits one line into words and its trailing comment. */
export function tokenizeLine(line: string): LineTokens {
  const words: Word[] = [];
  let cur = "";
  let quoted = false;
  let inWord = false;
  let i = 0;
  const flush = () => {
    if (inWord) words.push({ text: cur, quoted });
    cur = "";
    quoted = false;
    inWord = false;
  };
  const escape = (): string | null => {
    const c = line[i + 1];
    if (c === undefined) return null;
    if (c === "x") {
      const hex = line.slice(i + 2, i + 4);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return null;
      i += 4;
      return String.fromCharCode(parseInt(hex, 16));
    }
    i += 2;
    return SIMPLE_ESCAPES[c] ?? c;
  };
  while (i < line.length) {
    const c = line[i];
    if (c === " " || c === "\t") {
      flush();
      i++;
    } else if (c === "#") {
      flush();
      return { ok: true, words, comment: line.slice(i + 1).trim() };
    } else if (c === "\\") {
      const e = escape();
      if (e === null) return { ok: false, error: "backslash at the end of a word" };
      cur += e;
      inWord = true;
    } else if (c === '"') {
      inWord = true;
      quoted = true;
      i++;
      for (;;) {
        if (i >= line.length) return { ok: false, error: "unterminated double quote" };
        if (line[i] === '"') break;
        if (line[i] === "\\") {
          const e = escape();
          if (e === null) return { ok: false, error: "unterminated double quote" };
          cur += e;
        } else cur += line[i++];
      }
      i++;
    } else if (c === "'") {
      inWord = true;
      quoted = true;
      const close = line.indexOf("'", i + 1);
      if (close < 0) return { ok: false, error: "unterminated single quote" };
      cur += line.slice(i + 1, close);
      i = close + 1;
    } else {
      cur += c;
      inWord = true;
      i++;
    }
  }
  flush();
  return { ok: true, words, comment: null };
}

interface OpenSection {
  kind: string;
  name: string;
  from: string | null;
  header: Directive;
  directives: Directive[];
  lastLine: number;
}

function sectionHeader(d: Directive): { name: string; from: string | null } {
  const args = d.words.slice(1).map((w) => w.text);
  const fromAt = args.indexOf("from");
  if (fromAt >= 0) {
    return { name: fromAt === 0 ? "" : args[0], from: args[fromAt + 1] ?? null };
  }
  return { name: args[0] ?? "", from: null };
}

/** Parses haproxy.cfg text into sections; a malformed line yields a located error. */
export function parseHaproxy(
  text: string,
  file: string,
): { ok: true; value: HaproxyFile } | { ok: false; errors: ParseError[] } {
  const sections: OpenSection[] = [];
  const orphans: Directive[] = [];
  const errors: ParseError[] = [];
  let pending: string[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    const t = tokenizeLine(raw);
    if (!t.ok) {
      errors.push({ src: { file, line }, message: t.error });
      return;
    }
    if (t.words.length === 0) {
      if (t.comment !== null) pending.push(t.comment);
      else if (raw.trim() === "") pending = [];
      return;
    }
    const d: Directive = {
      src: { file, line },
      words: t.words,
      comments: pending,
      trailing: t.comment,
    };
    pending = [];
    const kw = t.words[0].text;
    if (SECTION_KEYWORDS.has(kw) && !t.words[0].quoted) {
      sections.push({ kind: kw, ...sectionHeader(d), header: d, directives: [], lastLine: line });
      return;
    }
    const current = sections[sections.length - 1];
    if (current === undefined) orphans.push(d);
    else {
      current.directives.push(d);
      current.lastLine = line;
    }
  });
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, value: { file, sections, orphans } };
}

/** Joins words back into HAProxy text, quoting words that need it (for conditions and ACLs). */
export function joinWords(words: readonly Word[]): string {
  return words.map((w) =>
    w.quoted || /[\s"'\\]/.test(w.text) || w.text === ""
      ? `"${w.text.replace(/["\\]/g, (c) => "\\" + c)}"`
      : w.text
  ).join(" ");
}
