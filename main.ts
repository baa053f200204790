/**
 * halb's entry point: `deno run --allow-all main.ts <command>` or the compiled binary. The same
 * module is the entry of proxy worker isolates (`[global] nbthread`), recognised by their name.
 *
 * @module
 */
import { main } from "./src/cli/main.ts";
import { WORKER_NAME } from "./src/runtime/threads.ts";
import { runWorker } from "./src/runtime/worker.ts";

if ((globalThis as { name?: string }).name === WORKER_NAME) {
  runWorker();
} else if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
