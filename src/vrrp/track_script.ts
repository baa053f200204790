/**
 * Tracking for VRRP instances, as keepalived's `vrrp_script` / `track_script` /
 * `track_interface` (shared/reference/vrrp.md §3.4):
 *
 * - {@linkcode scriptResult}: pure rise/fall bookkeeping (initially "one success away from OK").
 * - {@linkcode trackOutcome}: pure weight arithmetic over tracked objects: weight 0 and failing →
 *   FAULT; weight > 0 adds while OK; weight < 0 subtracts while KO. The state machine clamps.
 * - {@linkcode ScriptTracker}: runs a script every `interval` (argv without a shell, unless
 *   `shell`), SIGTERM at `timeout` then SIGKILL one second later (a timeout is a failure), as
 *   `user` via `runuser -u USER --` when running as root (skipped with a warning otherwise).
 *
 * @module
 */
import type { VrrpScriptConfig } from "../config/types.ts";
import type { Logger } from "../log/logger.ts";

/** Rise/fall state of one script. */
export interface ScriptState {
  /** Whether the script counts as OK. */
  readonly ok: boolean;
  /** Consecutive results opposite to `ok` so far. */
  readonly streak: number;
}

/**
 * The initial state: KO but one success away from OK (keepalived without `init_fail`).
 *
 * @param config the script (its `rise`)
 * @returns the state
 * @example
 * ```ts
 * initialScriptState({ rise: 3 } as never); // { ok: false, streak: 2 }
 * ```
 */
export function initialScriptState(config: Pick<VrrpScriptConfig, "rise">): ScriptState {
  return { ok: false, streak: Math.max(0, config.rise - 1) };
}

/**
 * Records one run's result.
 *
 * @param state the current state
 * @param success whether the run exited 0 in time
 * @param config `rise` and `fall`
 * @returns the new state
 * @example
 * ```ts
 * const s = scriptResult({ ok: true, streak: 0 }, false, { rise: 1, fall: 2 });
 * s.ok; // true (one failure of two)
 * ```
 */
export function scriptResult(
  state: ScriptState,
  success: boolean,
  config: Pick<VrrpScriptConfig, "rise" | "fall">,
): ScriptState {
  if (success === state.ok) return { ok: state.ok, streak: 0 };
  const streak = state.streak + 1;
  const need = state.ok ? config.fall : config.rise;
  return streak >= need ? { ok: success, streak: 0 } : { ok: state.ok, streak };
}

/** A tracked object's status and weight. */
export interface TrackedStatus {
  readonly ok: boolean;
  readonly weight: number;
}

/**
 * Sums the tracked objects: the priority delta and whether the instance must be in FAULT.
 *
 * @param items every tracked object of one instance
 * @returns Σ adjustments and the fault flag
 * @example
 * ```ts
 * trackOutcome([{ ok: false, weight: -60 }, { ok: true, weight: 10 }]); // { delta: -50, fault: false }
 * trackOutcome([{ ok: false, weight: 0 }]); // { delta: 0, fault: true }
 * ```
 */
export function trackOutcome(items: readonly TrackedStatus[]): { delta: number; fault: boolean } {
  let delta = 0;
  let fault = false;
  for (const { ok, weight } of items) {
    if (weight === 0) fault ||= !ok;
    else if (weight > 0 && ok) delta += weight;
    else if (weight < 0 && !ok) delta += weight;
  }
  return { delta, fault };
}

/** Options for {@linkcode ScriptTracker}. */
export interface ScriptTrackerOptions {
  readonly logger: Logger;
  /** Called when the OK/KO status changes. */
  readonly onChange: (ok: boolean) => void;
  /** Whether the process runs as root now (for `user`); default: `Deno.uid() === 0`. */
  readonly isRoot?: () => boolean;
}

/**
 * The argv that runs a script: `shell` wraps the command in `/bin/sh -c`; a `user` wraps it in
 * `runuser -u USER --` (root only).
 *
 * @param config the script
 * @param isRoot whether we are root
 * @returns argv, or null when the script needs a user switch we cannot make
 * @example
 * ```ts
 * scriptArgv({ argv: ["/bin/true"], shell: false, script: "/bin/true", user: "nobody" } as never, true);
 * // ["runuser", "-u", "nobody", "--", "/bin/true"]
 * ```
 */
export function scriptArgv(config: VrrpScriptConfig, isRoot: boolean): string[] | null {
  const base = config.shell ? ["/bin/sh", "-c", config.script] : [...config.argv];
  if (config.user === null) return base;
  if (!isRoot) return null;
  return ["runuser", "-u", config.user, "--", ...base];
}

/** Runs one `vrrp_script` periodically and tracks its rise/fall status. */
export class ScriptTracker {
  /** The script's configuration. */
  readonly config: VrrpScriptConfig;
  readonly #options: ScriptTrackerOptions;
  #state: ScriptState;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #child: Deno.ChildProcess | null = null;
  #stopped = false;
  #ran = false;
  #done: Promise<void> = Promise.resolve();

  /** Creates a stopped tracker (call {@linkcode ScriptTracker.start}). */
  constructor(config: VrrpScriptConfig, options: ScriptTrackerOptions) {
    this.config = config;
    this.#options = options;
    this.#state = initialScriptState(config);
  }

  /** Whether the script currently counts as OK (OK until its first result is known). */
  get ok(): boolean {
    return this.#ran ? this.#state.ok : true;
  }

  /**
   * Starts running the script now and every `interval`. A script `user` needs root: halb not
   * started as root does not run such a script (and says so). Once `[global] user` has switched
   * a root-started halb to its user, the script runs as that user, as notify scripts do.
   */
  start(): void {
    const isRoot = this.#options.isRoot ?? (() => Deno.uid() === 0);
    if (scriptArgv(this.config, isRoot()) === null) {
      this.#options.logger.log(
        "warning",
        `VRRP_Script(${this.config.name}) not run: user ${this.config.user} needs root`,
      );
      return;
    }
    const tick = () => {
      if (this.#stopped) return;
      const argv = scriptArgv(this.config, isRoot()) ??
        scriptArgv({ ...this.config, user: null }, false)!;
      this.#done = this.#runOnce(argv).then(() => {
        if (!this.#stopped) this.#timer = setTimeout(tick, this.config.interval);
      });
    };
    tick();
  }

  /** Stops the schedule and kills a running script. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    try {
      this.#child?.kill("SIGKILL");
    } catch {
      // already exited
    }
    await this.#done;
  }

  async #runOnce(argv: string[]): Promise<void> {
    let success = false;
    let timedOut = false;
    const timers: ReturnType<typeof setTimeout>[] = [];
    try {
      const child = new Deno.Command(argv[0], {
        args: argv.slice(1),
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      this.#child = child;
      timers.push(setTimeout(() => {
        timedOut = true;
        kill(child, "SIGTERM");
        timers.push(setTimeout(() => kill(child, "SIGKILL"), 1000));
      }, this.config.timeout));
      const status = await child.status;
      success = !timedOut && status.success;
      if (timedOut) {
        this.#options.logger.log("warning", `VRRP_Script(${this.config.name}) timed out`);
      }
    } catch (err) {
      this.#options.logger.log(
        "err",
        `VRRP_Script(${this.config.name}) cannot run: ${(err as Error).message}`,
      );
    } finally {
      this.#child = null;
      for (const t of timers) clearTimeout(t);
    }
    if (this.#stopped) return;
    const before = this.ok;
    this.#state = scriptResult(this.#state, success, this.config);
    this.#ran = true;
    if (this.#state.ok !== before) {
      this.#options.logger.log(
        "info",
        `VRRP_Script(${this.config.name}) ${this.#state.ok ? "succeeded" : "failed"}`,
      );
      this.#options.onChange(this.#state.ok);
    }
  }
}

function kill(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch {
    // already exited
  }
}
