import assert from "node:assert/strict";
import { splitShellWords } from "./shell_words.ts";

Deno.test("splitShellWords splits like a shell", () => {
  const table: [string, string[]][] = [
    ["killall -0 haproxy", ["killall", "-0", "haproxy"]],
    ["  a   b  ", ["a", "b"]],
    [`/bin/check 'a b' "c d"`, ["/bin/check", "a b", "c d"]],
    [`echo "say \\"hi\\"" it\\'s`, ["echo", 'say "hi"', "it's"]],
    [`x ''`, ["x", ""]],
    [`a"b"'c'`, ["abc"]],
    [`"a\\nb"`, ["a\\nb"]],
  ];
  for (const [text, argv] of table) {
    assert.deepEqual(splitShellWords(text), { ok: true, argv, operators: [] }, text);
  }
});

Deno.test("splitShellWords reports unterminated quotes and shell operators", () => {
  assert.deepEqual(splitShellWords(`a 'b`), { ok: false, error: "unterminated single quote" });
  assert.deepEqual(splitShellWords(`a "b`), { ok: false, error: "unterminated double quote" });
  assert.deepEqual(splitShellWords(`a \\`), { ok: false, error: "trailing backslash" });
  const r = splitShellWords("pidof haproxy || exit 1; echo $(date)");
  assert.ok(r.ok);
  assert.deepEqual(r.operators, ["||", ";", "$("]);
  const quoted = splitShellWords(`grep '|' file`);
  assert.ok(quoted.ok);
  assert.deepEqual(quoted.operators, []);
});
