/**
 * Child process of run_signals_test.ts: starts halb in this process, rewrites the config file
 * (a second frontend) and sends itself SIGHUP before the first generation is up. halb must
 * survive the signal and apply it as a reload once started. Prints JSON: whether the second
 * port came to listen, and the exit code of the run.
 *
 * @module
 */
import { loadConfig } from "../../../src/config/load.ts";
import { runHalb } from "../../../src/runtime/run.ts";

const [file, portA, portB] = Deno.args;

function toml(ports: string[]): string {
  return `[global]
log = "stderr"
[defaults]
mode = "tcp"
timeout = { connect = "1s", client = "5s", server = "5s" }
${
    ports.map((p, i) =>
      `[frontend.f${i}]
bind = ["127.0.0.1:${p}"]
default_backend = "be"
`
    ).join("")
  }[backend.be]
server = [{ name = "s1", address = "127.0.0.1:9" }]
`;
}

async function listens(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return true;
  } catch {
    return false;
  }
}

Deno.writeTextFileSync(file, toml([portA]));
const loaded = loadConfig(file);
if (loaded.config === null) throw new Error("config did not load");
const { promise: stop, resolve: doStop } = Promise.withResolvers<void>();
const { promise: ready, resolve: onReady } = Promise.withResolvers<void>();
const running = runHalb(loaded.config, {
  io: { err: (s) => console.error(s) },
  stop,
  onReady: () => onReady(),
});
Deno.writeTextFileSync(file, toml([portA, portB]));
Deno.kill(Deno.pid, "SIGHUP");
await ready;
let second = false;
for (let i = 0; i < 50 && !second; i++) {
  second = await listens(Number(portB));
  if (!second) await new Promise((r) => setTimeout(r, 100));
}
doStop();
console.log(JSON.stringify({ second, code: await running }));
