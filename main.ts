/**
 * halb's entry point: `deno run --allow-all main.ts <command>` or the compiled binary.
 *
 * @module
 */
import { main } from "./src/cli/main.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
