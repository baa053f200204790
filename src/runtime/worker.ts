/**
 * The loop of a proxy worker isolate (see threads.ts): it runs proxy generations on the main
 * isolate's orders — start, reload with listener handover, mirrored server states, counters on
 * request, graceful stop — and sends its log entries to the main isolate, which writes them.
 *
 * @module
 */
import type { Logger } from "../log/logger.ts";
import { type Proxy, startProxy } from "../proxy/proxy.ts";
import type { FromWorker, PoolStates, ToWorker } from "./threads.ts";
import { holdThroughSwitch } from "../sys/privileges.ts";
import { setReactorErrorHandler } from "../sys/reactor.ts";

/** The worker's global scope, as much of it as this loop uses. */
const scope = globalThis as unknown as {
  postMessage(m: FromWorker): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
};

function post(m: FromWorker): void {
  scope.postMessage(m);
}

const logger: Logger = {
  log(level, line) {
    post({ type: "log", entry: { level, kind: "event", line } });
  },
  traffic(line, fields) {
    post({ type: "log", entry: { level: "info", kind: "traffic", line, fields } });
  },
};

function apply(proxy: Proxy, states: PoolStates): void {
  for (const [name, list] of Object.entries(states)) proxy.pools.get(name)?.applyStates(list);
}

/** Serves orders from the main isolate until told to stop. */
export function runWorker(): void {
  setReactorErrorHandler((e) => {
    logger.log("err", `proxy thread: socket reactor: ${e instanceof Error ? e.message : e}`);
  });
  let current: Proxy | null = null;
  let queue = Promise.resolve();
  scope.onmessage = (e: MessageEvent<ToWorker>) => {
    const m = e.data;
    queue = queue.then(() => handle(m)).catch((err) => {
      logger.log("err", `proxy thread: ${err instanceof Error ? err.message : err}`);
    });
  };

  async function handle(m: ToWorker): Promise<void> {
    switch (m.type) {
      case "start":
      case "reload": {
        const previous = current;
        const listeners = previous?.releaseListeners();
        try {
          const next = await startProxy(m.config, {
            logger,
            listeners,
            previous: previous ?? undefined,
            threads: { sharedOnly: true },
          });
          apply(next, m.states);
          for (const bl of listeners?.values() ?? []) bl.close();
          current = next;
          post({ type: "started", error: null });
          previous?.stop({ graceMs: m.config.global.gracePeriod }).catch(() => {});
        } catch (err) {
          previous?.reclaimListeners();
          post({ type: "started", error: err instanceof Error ? err.message : String(err) });
        }
        return;
      }
      case "states":
        if (current !== null) apply(current, m.states);
        return;
      case "snapshot":
        if (current !== null) post({ type: "snapshot", snapshot: current.snapshot() });
        return;
      case "privileges":
        post({
          type: "privileges",
          error: holdThroughSwitch({
            gate: new Int32Array(m.gate),
            keep: m.keep,
            held: (error) => post({ type: "held", error }),
          }),
        });
        return;
      case "stop":
        await current?.stop({ graceMs: m.graceMs });
        current = null;
        post({ type: "stopped" });
        return;
    }
  }
}
