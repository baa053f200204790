/**
 * Splits a command line into argv the way a POSIX shell splits words (quotes and backslashes),
 * without running a shell: keepalived runs `vrrp_script` commands the same way.
 *
 * @module
 */

/** The words of a command line, or an error; `operators` lists shell syntax left unquoted. */
export type SplitResult =
  | { readonly ok: true; readonly argv: readonly string[]; readonly operators: readonly string[] }
  | { readonly ok: false; readonly error: string };

const OPERATOR = /^(\|\|?|&&?|;|>>?|<|\$\(|`)/;

/** Splits `text` into words: `'...'` is literal, `"..."` honours `\"`, `\\`, `\$`, `` \` ``. */
export function splitShellWords(text: string): SplitResult {
  const argv: string[] = [];
  const operators: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === " " || c === "\t" || c === "\n") {
      if (inWord) argv.push(word);
      word = "";
      inWord = false;
      i++;
    } else if (c === "'") {
      const close = text.indexOf("'", i + 1);
      if (close < 0) return { ok: false, error: "unterminated single quote" };
      word += text.slice(i + 1, close);
      inWord = true;
      i = close + 1;
    } else if (c === '"') {
      inWord = true;
      i++;
      for (;;) {
        if (i >= text.length) return { ok: false, error: "unterminated double quote" };
        const d = text[i];
        if (d === '"') break;
        if (d === "\\" && i + 1 < text.length && '"\\$`\n'.includes(text[i + 1])) {
          if (text[i + 1] !== "\n") word += text[i + 1];
          i += 2;
        } else {
          word += d;
          i++;
        }
      }
      i++;
    } else if (c === "\\") {
      if (i + 1 >= text.length) return { ok: false, error: "trailing backslash" };
      if (text[i + 1] !== "\n") {
        word += text[i + 1];
        inWord = true;
      }
      i += 2;
    } else {
      const op = OPERATOR.exec(text.slice(i))?.[0];
      if (op !== undefined && !operators.includes(op)) operators.push(op);
      word += op ?? c;
      inWord = true;
      i += op?.length ?? 1;
    }
  }
  if (inWord) argv.push(word);
  return { ok: true, argv, operators };
}
