/**
 * Locates key paths in TOML source text with toml-eslint-parser, whose AST carries a position
 * for every key and value. Used only to place diagnostics; the values themselves come from
 * smol-toml.
 *
 * @module
 */

import { parseTOML } from "toml-eslint-parser";
import type { AST } from "toml-eslint-parser";
import type { Anchor, KeyPath, PathLocator, Position } from "./diagnostics.ts";

interface Entry {
  readonly key: Position;
  readonly value: Position;
}

function pos(node: { loc: { start: { line: number; column: number } } }): Position {
  return { line: node.loc.start.line, column: node.loc.start.column + 1 };
}

function keyName(node: AST.TOMLBare | AST.TOMLQuoted): string {
  return node.type === "TOMLBare" ? node.name : node.value;
}

/** A {@linkcode PathLocator} over one TOML document; the document is parsed on first use. */
export class TomlLocator implements PathLocator {
  readonly #text: string;
  #index: Map<string, Entry> | null = null;

  /** Creates a locator for `text` (which must be valid TOML for precise positions). */
  constructor(text: string) {
    this.#text = text;
  }

  /** The position of `path`'s key or value, else of its nearest ancestor's value; else 1:1. */
  locate(path: KeyPath, anchor: Anchor): Position {
    const index = this.#build();
    for (let i = path.length; i > 0; i--) {
      const entry = index.get(JSON.stringify(path.slice(0, i)));
      if (entry !== undefined) return i === path.length ? entry[anchor] : entry.value;
    }
    return { line: 1, column: 1 };
  }

  #build(): Map<string, Entry> {
    if (this.#index !== null) return this.#index;
    const index = new Map<string, Entry>();
    this.#index = index;
    let ast: AST.TOMLProgram;
    try {
      ast = parseTOML(this.#text);
    } catch {
      return index;
    }
    const put = (path: KeyPath, key: Position, value: Position) => {
      const k = JSON.stringify(path);
      if (!index.has(k)) index.set(k, { key, value });
    };
    const walkValue = (path: KeyPath, node: AST.TOMLContentNode) => {
      if (node.type === "TOMLInlineTable") walkBody(path, node.body);
      else if (node.type === "TOMLArray") {
        node.elements.forEach((el, i) => {
          put([...path, i], pos(el), pos(el));
          walkValue([...path, i], el);
        });
      }
    };
    const walkBody = (base: KeyPath, body: AST.TOMLKeyValue[]) => {
      for (const kv of body) {
        const keys = kv.key.keys;
        let path = base;
        keys.forEach((k, i) => {
          path = [...path, keyName(k)];
          put(path, pos(k), i === keys.length - 1 ? pos(kv.value) : pos(k));
        });
        walkValue(path, kv.value);
      }
    };
    for (const top of ast.body) {
      if (top.type !== "TOMLTopLevelTable") continue;
      for (const node of top.body) {
        if (node.type === "TOMLKeyValue") {
          walkBody([], [node]);
          continue;
        }
        const keys = node.key.keys;
        const resolved = node.resolvedKey;
        keys.forEach((k, i) => put(resolved.slice(0, i + 1), pos(k), pos(k)));
        if (node.kind === "array") {
          put(resolved, pos(node), pos(node));
        }
        walkBody(resolved, node.body);
      }
    }
    return index;
  }
}
