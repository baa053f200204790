/**
 * A parser for keepalived.conf (keepalived 2.2 syntax): statements are lines of words; a `{`
 * opens a block of child statements closed by `}` (both may share a line with words, as in
 * `virtual_ipaddress { 10.0.0.1 }`); `!` and `#` start comments; `"..."` groups words;
 * `include PATTERN` pulls in files (shell globs, relative to the including file's directory).
 *
 * @module
 */

import { dirname, isAbsolute, join } from "node:path";
import type { ParseError, Src } from "./source.ts";

/** One statement, with its block when it has one. */
export interface KaNode {
  readonly src: Src;
  readonly words: readonly string[];
  /** Children when the statement opens a `{ }` block, else null. */
  readonly block: readonly KaNode[] | null;
  /** The line of the closing brace (== src.line for one-line statements). */
  readonly endLine: number;
  /** Full-line comments right above it. */
  readonly comments: readonly string[];
  /** A comment at the end of its line, or null. */
  readonly trailing: string | null;
}

/** File access for `include`. */
export interface KaFiles {
  readTextFile(path: string): string;
  /** Paths matching a glob (only the last path component may hold `*`, `?` or `[...]`). */
  glob(pattern: string): string[];
}

interface Token {
  readonly text: string;
  readonly quoted: boolean;
  readonly line: number;
}

interface Lexed {
  tokens: Token[];
  comments: Map<number, string>;
  fullComments: Set<number>;
}

function lex(text: string): Lexed {
  const tokens: Token[] = [];
  const comments = new Map<number, string>();
  const fullComments = new Set<number>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    let i = 0;
    const before = tokens.length;
    while (i < raw.length) {
      const c = raw[i];
      if (c === " " || c === "\t") {
        i++;
      } else if (c === "#" || c === "!") {
        comments.set(line, raw.slice(i + 1).trim());
        if (tokens.length === before) fullComments.add(line);
        break;
      } else if (c === "{" || c === "}") {
        tokens.push({ text: c, quoted: false, line });
        i++;
      } else if (c === '"') {
        const close = raw.indexOf('"', i + 1);
        const end = close < 0 ? raw.length : close;
        tokens.push({ text: raw.slice(i + 1, end), quoted: true, line });
        i = end + 1;
      } else {
        let j = i;
        while (j < raw.length && !' \t{}"'.includes(raw[j])) j++;
        tokens.push({ text: raw.slice(i, j), quoted: false, line });
        i = j;
      }
    }
  });
  return { tokens, comments, fullComments };
}

/** Options of {@linkcode parseKeepalived}. */
export interface KaParseOptions {
  files: KaFiles;
  /** Called for each `include` with the files it read (for the coverage ledger). */
  onInclude?: (src: Src, paths: readonly string[]) => void;
}

/** Parses keepalived.conf text (and its includes) into a statement tree. */
export function parseKeepalived(
  text: string,
  file: string,
  options: KaParseOptions,
): { ok: true; value: KaNode[] } | { ok: false; errors: ParseError[] } {
  const errors: ParseError[] = [];
  const nodes = parseText(text, file, options, errors, 0);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: nodes };
}

function parseText(
  text: string,
  file: string,
  options: KaParseOptions,
  errors: ParseError[],
  depth: number,
): KaNode[] {
  const { tokens, comments, fullComments } = lex(text);
  let pos = 0;
  let lastLine = 0;
  const pendingComments = (line: number): string[] => {
    const out: string[] = [];
    for (let l = lastLine + 1; l < line; l++) {
      if (fullComments.has(l)) out.push(comments.get(l) ?? "");
    }
    return out;
  };
  const parseList = (closing: boolean): KaNode[] => {
    const out: KaNode[] = [];
    while (pos < tokens.length) {
      const t = tokens[pos];
      if (t.text === "}" && !t.quoted) {
        if (closing) return out;
        errors.push({ src: { file, line: t.line }, message: "unexpected }" });
        pos++;
        continue;
      }
      if (t.text === "{" && !t.quoted) {
        errors.push({ src: { file, line: t.line }, message: "{ without a keyword before it" });
        pos++;
        continue;
      }
      const line = t.line;
      const words: string[] = [];
      while (
        pos < tokens.length && tokens[pos].line === line &&
        !((tokens[pos].text === "{" || tokens[pos].text === "}") && !tokens[pos].quoted)
      ) {
        words.push(tokens[pos++].text);
      }
      const lead = pendingComments(line);
      let block: KaNode[] | null = null;
      let endLine = line;
      if (pos < tokens.length && tokens[pos].text === "{" && !tokens[pos].quoted) {
        pos++;
        lastLine = line;
        block = parseList(true);
        if (pos >= tokens.length) {
          errors.push({ src: { file, line }, message: `unclosed { of "${words[0]}"` });
        } else {
          endLine = tokens[pos].line;
          pos++;
        }
      }
      lastLine = endLine;
      const node: KaNode = {
        src: { file, line },
        words,
        block,
        endLine,
        comments: lead,
        trailing: fullComments.has(line) ? null : comments.get(line) ?? null,
      };
      if (words[0] === "include" && block === null) out.push(...include(node));
      else out.push(node);
    }
    return out;
  };
  const include = (node: KaNode): KaNode[] => {
    const pattern = node.words[1];
    if (pattern === undefined) {
      errors.push({ src: node.src, message: "include needs a file" });
      return [];
    }
    if (depth >= 8) {
      errors.push({ src: node.src, message: "includes nested too deeply (a cycle?)" });
      return [];
    }
    const full = isAbsolute(pattern) ? pattern : join(dirname(file), pattern);
    const paths = /[*?[]/.test(full) ? options.files.glob(full) : [full];
    const out: KaNode[] = [];
    const read: string[] = [];
    for (const path of paths) {
      let sub: string;
      try {
        sub = options.files.readTextFile(path);
      } catch (e) {
        errors.push({
          src: node.src,
          message: `cannot read included file ${path}: ${e instanceof Error ? e.message : e}`,
        });
        continue;
      }
      read.push(path);
      out.push(...parseText(sub, path, options, errors, depth + 1));
    }
    options.onInclude?.(node.src, read);
    return out;
  };
  return parseList(false);
}

/** Reads files and globs from the real file system. */
export function systemFiles(): KaFiles {
  return {
    readTextFile: (p) => Deno.readTextFileSync(p),
    glob(pattern) {
      const dir = dirname(pattern);
      const base = pattern.slice(dir.length + 1);
      const re = new RegExp(
        "^" + base.replace(/[.+^${}()|\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") +
          "$",
      );
      const out: string[] = [];
      try {
        for (const e of Deno.readDirSync(dir)) {
          if (e.isFile && re.test(e.name) && !e.name.startsWith(".")) out.push(join(dir, e.name));
        }
      } catch {
        return [];
      }
      return out.sort();
    },
  };
}
