/**
 * Test runner: starts halb's VRRP from a JSON {@linkcode VrrpConfig} file (argv[0]), logs to
 * stdout with a millisecond timestamp, prints `SNAPSHOT <json>` on SIGUSR2 and at exit, and stops
 * cleanly on SIGTERM / SIGINT (masters send priority 0 and drop their VIPs).
 *
 * Usage: `deno run --allow-all tests/testdata/vrrp/run_vrrp.ts config.json`
 *
 * @module
 */
import type { VrrpConfig } from "../../../src/config/types.ts";
import { createLogger } from "../../../src/log/logger.ts";
import { startVrrp } from "../../../src/vrrp/driver.ts";

const config = JSON.parse(Deno.readTextFileSync(Deno.args[0])) as VrrpConfig;
const logger = createLogger({
  level: "debug",
  sink: {
    write: (e) => console.log(`${(performance.now() / 1000).toFixed(3)} ${e.level} ${e.line}`),
    close() {},
  },
});
const vrrp = await startVrrp(config, { logger });
console.log("READY");
Deno.addSignalListener("SIGUSR2", () => {
  console.log(`SNAPSHOT ${JSON.stringify(vrrp.snapshot())}`);
});
let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await vrrp.stop();
  console.log(`SNAPSHOT ${JSON.stringify(vrrp.snapshot())}`);
  console.log("STOPPED");
  Deno.exit(0);
}
Deno.addSignalListener("SIGTERM", shutdown);
Deno.addSignalListener("SIGINT", shutdown);
