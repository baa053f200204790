/**
 * `halb run`: builds the running graph from a config, owns the process signals and swaps the
 * graph whole on reload. SIGTERM/SIGINT stop gracefully (exit 0); SIGHUP re-reads the config
 * file: an invalid one is rejected with its errors and the running graph keeps serving.
 *
 * @module
 */
import type { Config } from "../config/types.ts";
import { formatDiagnostic, loadConfig } from "../config/load.ts";
import { createLogger, type Logger } from "../log/logger.ts";
import { createSink } from "../log/sinks.ts";
import { buildGraph, type Graph } from "./graph.ts";
import { notifySystemd } from "../sys/sd_notify.ts";
import { AdminEndpoint, adminSource } from "./admin.ts";
import type { ProcessInfo } from "../admin/model.ts";
import { switchUser } from "../sys/privileges.ts";
import { setReactorErrorHandler } from "../sys/reactor.ts";

/** Where `runHalb` reports fatal problems before the logger exists. */
export interface RunIo {
  err(text: string): void;
}

/** Options for {@linkcode runHalb}. */
export interface RunOptions {
  io: RunIo;
  /** Resolves when halb should stop (tests); signals are used as well. */
  stop?: Promise<void>;
  /** Called once the graph serves (tests). */
  onReady?: (graph: Graph) => void;
}

function loggerFor(config: Config): { logger: Logger; close(): void } {
  const sink = createSink(config.global.log, {
    format: config.global.logFormat,
    facility: config.global.logFacility,
  });
  return {
    logger: createLogger({ sink, level: config.global.logLevel }),
    close: () => sink.close(),
  };
}

/** The process signals, taken before anything starts (see {@linkcode runHalb}). */
interface Signals {
  /** Resolves to the name of the first stop signal (or "request"). */
  readonly stopped: Promise<string>;
  /** From now on SIGHUP calls `reload`; one that came before is replayed now. */
  reloadWith(reload: () => void): void;
  /** Every listener removed. */
  end(): void;
}

/**
 * Takes SIGTERM, SIGINT and SIGHUP before anything starts. A SIGHUP sent while the first
 * generation is still starting (a systemd reload, a script that just wrote the file) would
 * otherwise kill the process, its default action; here it is kept and applied as a reload once
 * started. A stop signal during the start is honoured once started; a SIGHUP while stopping is
 * ignored.
 */
function takeSignals(stopRequest?: Promise<void>): Signals {
  const { promise: stopped, resolve: stop } = Promise.withResolvers<string>();
  let reload: (() => void) | null = null;
  let early = false;
  const onTerm = () => stop("SIGTERM");
  const onInt = () => stop("SIGINT");
  const onHup = () => {
    if (reload !== null) reload();
    else early = true;
  };
  Deno.addSignalListener("SIGTERM", onTerm);
  Deno.addSignalListener("SIGINT", onInt);
  Deno.addSignalListener("SIGHUP", onHup);
  stopRequest?.then(() => stop("request"));
  return {
    stopped,
    reloadWith(fn) {
      reload = fn;
      if (early) fn();
      early = false;
    },
    end() {
      Deno.removeSignalListener("SIGHUP", onHup);
      Deno.removeSignalListener("SIGTERM", onTerm);
      Deno.removeSignalListener("SIGINT", onInt);
    },
  };
}

/** Runs halb until a stop signal; resolves to the process exit code. */
export async function runHalb(config: Config, options: RunOptions): Promise<number> {
  const signals = takeSignals(options.stop);
  try {
    return await serve(config, options, signals);
  } finally {
    signals.end();
  }
}

async function serve(config: Config, options: RunOptions, signals: Signals): Promise<number> {
  const log = loggerFor(config);
  const { logger } = log;
  setReactorErrorHandler((e) => {
    logger.log("err", `socket reactor: ${e instanceof Error ? e.message : e}`);
  });
  let graph: Graph;
  try {
    graph = await buildGraph(config, { logger });
  } catch (e) {
    options.io.err(`halb: ${e instanceof Error ? e.message : String(e)}`);
    log.close();
    return 1;
  }
  writePidfile(config, logger);
  let lastReload: ProcessInfo["lastReload"] = null;
  let reloading: Promise<unknown> = Promise.resolve();
  let adminUpdate: Promise<void> = Promise.resolve();
  /** Serialised reloads (SIGHUP and the admin API share them). */
  const reloadNow = (): Promise<{ ok: boolean; errors: string[] }> => {
    const run = reloading.then(async () => {
      await notifySystemd("RELOADING=1\nSTATUS=reloading");
      const result = await reload(graph, config.file, logger);
      graph = result.graph;
      lastReload = { at: Date.now(), ok: result.ok, errors: result.errors };
      // Not awaited here: a reload asked through the admin endpoint must answer before that
      // endpoint can be restarted (its stop waits for the request in flight).
      const adminConfig = graph.config.admin;
      adminUpdate = adminUpdate.then(() => admin.update(adminConfig));
      await notifySystemd(`READY=1\nSTATUS=serving ${graph.config.file}`);
      return { ok: result.ok, errors: result.errors };
    });
    reloading = run;
    return run;
  };
  const admin = new AdminEndpoint(
    adminSource({ graph: () => graph, reload: reloadNow, lastReload: () => lastReload }),
    logger,
  );
  await admin.update(config.admin);
  // [global] user/group: once everything of the first generation is bound (HAProxy's order).
  const refused = await switchUser(config.global, { logger, threads: graph.threads });
  if (refused !== null) {
    options.io.err(`halb: ${refused}`);
    await admin.stop();
    await graph.stop({ graceMs: 0 });
    removePidfile(config);
    log.close();
    return 1;
  }
  logger.log("notice", `halb started with ${config.file} (pid ${Deno.pid})`);
  await notifySystemd(`READY=1\nSTATUS=serving ${config.file}`);
  options.onReady?.(graph);

  signals.reloadWith(() => void reloadNow());

  const why = await signals.stopped;
  await notifySystemd("STOPPING=1");
  logger.log("notice", `${why}: stopping (grace ${graph.config.global.gracePeriod}ms)`);
  signals.reloadWith(() => {});
  await reloading;
  await adminUpdate;
  await admin.stop();
  await graph.stop({ graceMs: graph.config.global.gracePeriod });
  removePidfile(graph.config);
  logger.log("notice", "halb stopped");
  log.close();
  return 0;
}

/**
 * Validates the file again and swaps the graph; on any problem keeps the running one. The
 * errors are the diagnostics (or the start failure) as logged.
 */
async function reload(
  current: Graph,
  file: string,
  logger: Logger,
): Promise<{ graph: Graph; ok: boolean; errors: string[] }> {
  logger.log("notice", `reload requested: reading ${file}`);
  const result = loadConfig(file);
  const errors: string[] = [];
  for (const d of result.diagnostics) {
    logger.log(d.severity === "error" ? "err" : "warning", formatDiagnostic(d));
    if (d.severity === "error") errors.push(formatDiagnostic(d));
  }
  if (result.config === null) {
    logger.log(
      "err",
      "reload rejected: the configuration has errors; the running one keeps serving",
    );
    return { graph: current, ok: false, errors };
  }
  try {
    const next = await buildGraph(result.config, { logger, previous: current });
    logger.log("notice", "reload done: new configuration serving; draining the previous one");
    return { graph: next, ok: true, errors: [] };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    logger.log("err", `reload rejected: ${why}; the running configuration keeps serving`);
    return { graph: current, ok: false, errors: [why] };
  }
}

function writePidfile(config: Config, logger: Logger): void {
  if (!config.global.pidfile) return;
  try {
    Deno.writeTextFileSync(config.global.pidfile, `${Deno.pid}\n`);
  } catch (e) {
    logger.log("warning", `cannot write pidfile ${config.global.pidfile}: ${(e as Error).message}`);
  }
}

function removePidfile(config: Config): void {
  if (!config.global.pidfile) return;
  try {
    Deno.removeSync(config.global.pidfile);
  } catch {
    // already gone
  }
}
