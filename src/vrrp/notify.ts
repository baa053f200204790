/**
 * VRRP notifications as keepalived sends them on a state change: the state's own script
 * (`notify_master` / `notify_backup` / `notify_fault` / `notify_stop`, run with no extra
 * arguments), then `notify` with keepalived's four extra arguments
 * (`INSTANCE <name> <MASTER|BACKUP|FAULT|STOP> <priority>`), and an email (`smtp_alert`) with
 * keepalived's exact subject and body (shared/reference/vrrp.md §3.6).
 *
 * Unlike keepalived (ka#584, ka#996), the scripts of one instance run one after another, each
 * awaited, in transition order: {@linkcode NotifyQueue} is a FIFO per instance.
 * Commands are split into argv like a shell would, but no shell runs.
 *
 * @module
 */
import type { NotifyConfig, VrrpInstanceConfig } from "../config/types.ts";
import type { Logger } from "../log/logger.ts";
import { splitShellWords } from "../config/shell_words.ts";

/** A state reported to notify scripts and email. */
export type NotifyState = "MASTER" | "BACKUP" | "FAULT" | "STOP";

/** What to notify about one transition. */
export interface NotifyEvent {
  /** Instance name. */
  readonly instance: string;
  readonly state: NotifyState;
  readonly priority: number;
}

/**
 * The commands to run for a transition, in keepalived's order: the state's script, then
 * `notify` with `INSTANCE name state priority` appended.
 *
 * @param config the instance (its notify_* settings)
 * @param event the transition
 * @returns the command lines (text as configured, plus the extra words for `notify`)
 * @example
 * ```ts
 * import { instanceConfig } from "./testdata/instance_config.ts";
 * notifyCommands(instanceConfig({ notify: "/bin/n.sh a" }), {
 *   instance: "VI_1", state: "MASTER", priority: 150,
 * }); // [["/bin/n.sh a", ["INSTANCE", "VI_1", "MASTER", "150"]]]
 * ```
 */
export function notifyCommands(
  config: VrrpInstanceConfig,
  event: NotifyEvent,
): [string, string[]][] {
  const own = {
    MASTER: config.notifyMaster,
    BACKUP: config.notifyBackup,
    FAULT: config.notifyFault,
    STOP: config.notifyStop,
  }[event.state];
  const out: [string, string[]][] = [];
  if (own) out.push([own, []]);
  if (config.notify) {
    out.push([config.notify, ["INSTANCE", event.instance, event.state, String(event.priority)]]);
  }
  return out;
}

/** An email as keepalived's smtp_alert writes it. */
export interface AlertMail {
  readonly subject: string;
  readonly body: string;
}

const SUBJECTS: Record<NotifyState, AlertMail> = {
  MASTER: { subject: "Entering MASTER state", body: "=> VRRP Instance is now owning VRRP VIPs <=" },
  BACKUP: {
    subject: "Entering BACKUP state",
    body: "=> VRRP Instance is no longer owning VRRP VIPs <=",
  },
  FAULT: {
    subject: "Entering FAULT state",
    body: "=> VRRP Instance is no longer owning VRRP VIPs <=",
  },
  STOP: { subject: "Stopping", body: "=> VRRP Instance stopping <=" },
};

/**
 * keepalived's alert subject and body for an instance transition.
 *
 * @param routerId `[vrrp] router_id`
 * @param event the transition
 * @returns subject and one-line body
 * @example
 * ```ts
 * alertMail("ka1", { instance: "VI_1", state: "MASTER", priority: 150 }).subject;
 * // "[ka1] VRRP Instance VI_1 - Entering MASTER state"
 * ```
 */
export function alertMail(routerId: string, event: NotifyEvent): AlertMail {
  const m = SUBJECTS[event.state];
  return { subject: `[${routerId}] VRRP Instance ${event.instance} - ${m.subject}`, body: m.body };
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * Formats a date as keepalived's `Date:` header (strftime "%a, %d %b %Y %H:%M:%S %z", local time).
 *
 * @param date the time
 * @returns e.g. "Wed, 25 Nov 2026 02:49:36 +0000"
 * @example
 * ```ts
 * mailDate(new Date(0)).length; // 31
 * ```
 */
export function mailDate(date: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  const off = -date.getTimezoneOffset();
  const sign = off < 0 ? "-" : "+";
  const abs = Math.abs(off);
  return `${DAYS[date.getDay()]}, ${p(date.getDate())} ${
    MONTHS[date.getMonth()]
  } ${date.getFullYear()} ${p(date.getHours())}:${p(date.getMinutes())}:${
    p(date.getSeconds())
  } ${sign}${p(Math.floor(abs / 60))}${p(abs % 60)}`;
}

/** Options for {@linkcode sendMail}. */
export interface SendMailOptions {
  /** HELO name; default the host name. */
  readonly helo?: string;
  /** Date header value; default now. */
  readonly date?: Date;
}

/**
 * Sends one email over SMTP (plain, no TLS/AUTH, as keepalived): HELO, MAIL FROM, one RCPT TO per
 * recipient, DATA, QUIT. Rejects on a connect timeout or a non-2xx/3xx reply, naming the step.
 *
 * @param notify `[global.notify]` (server, from, to, connect timeout)
 * @param mail subject and body
 * @param options HELO name and date
 * @example
 * ```ts ignore
 * await sendMail(config.global.notify!, alertMail("ka1", ev));
 * ```
 */
export async function sendMail(
  notify: NotifyConfig,
  mail: AlertMail,
  options: SendMailOptions = {},
): Promise<void> {
  const { host, port } = notify.smtpServer;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Cannot connect to SMTP server ${host}:${port}: timed out`)),
      notify.smtpConnectTimeout,
    );
  });
  let conn: Deno.TcpConn;
  try {
    conn = await Promise.race([Deno.connect({ hostname: host, port }), timeout]);
  } finally {
    clearTimeout(timer);
  }
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  let pending = "";
  const buf = new Uint8Array(4096);
  async function reply(step: string): Promise<void> {
    for (let reads = 0; reads < 64; reads++) {
      const lines = pending.split("\r\n");
      for (let i = 0; i < lines.length - 1; i++) {
        if (/^\d{3} /.test(lines[i]) || /^\d{3}$/.test(lines[i])) {
          pending = lines.slice(i + 1).join("\r\n");
          if (!/^[23]/.test(lines[i])) {
            throw new Error(`SMTP server rejected ${step}: ${lines[i]}`);
          }
          return;
        }
      }
      const n = await conn.read(buf);
      if (n === null) throw new Error(`SMTP server closed the connection during ${step}`);
      pending += dec.decode(buf.subarray(0, n));
    }
    throw new Error(`SMTP server sent no complete reply to ${step}`);
  }
  async function command(line: string, step: string): Promise<void> {
    await conn.write(enc.encode(`${line}\r\n`));
    await reply(step);
  }
  try {
    await reply("greeting");
    await command(`HELO ${options.helo ?? Deno.hostname()}`, "HELO");
    await command(`MAIL FROM:<${notify.emailFrom}>`, "MAIL FROM");
    for (const to of notify.emailTo) await command(`RCPT TO:<${to}>`, "RCPT TO");
    await command("DATA", "DATA");
    const text = [
      `Date: ${mailDate(options.date ?? new Date())}`,
      `From: ${notify.emailFrom}`,
      `Subject: ${mail.subject}`,
      "X-Mailer: Keepalived",
      `To: ${notify.emailTo.join(", ")}`,
      "",
      mail.body,
      "",
      ".",
    ].join("\r\n");
    await command(text, "message");
    await command("QUIT", "QUIT");
  } finally {
    conn.close();
  }
}

/** Options for {@linkcode NotifyQueue}. */
export interface NotifyQueueOptions {
  readonly logger: Logger;
  /** `[global.notify]`; email is sent only when set and the instance has `smtp_alert`. */
  readonly mail?: NotifyConfig | null;
  /** `[vrrp] router_id`, for the subject. */
  readonly routerId: string;
  /** Script run timeout in ms; default 30 s (then SIGKILL). */
  readonly scriptTimeoutMs?: number;
  /**
   * `[vrrp] script_user`: notify scripts run as this user (`runuser`, when halb runs as root), as
   * keepalived runs every script as `script_user`. Null: as halb itself.
   */
  readonly scriptUser?: string | null;
}

/** Runs one instance's notifications in order, each awaited (a FIFO). */
export class NotifyQueue {
  readonly #config: VrrpInstanceConfig;
  readonly #options: NotifyQueueOptions;
  #tail: Promise<void> = Promise.resolve();
  #lastMailed: NotifyState | null = null;

  /** Creates the queue of one instance. */
  constructor(config: VrrpInstanceConfig, options: NotifyQueueOptions) {
    this.#config = config;
    this.#options = options;
  }

  /** Queues the notifications of a transition; they start after the earlier ones finished. */
  push(event: NotifyEvent): void {
    this.#tail = this.#tail.then(() => this.#run(event));
  }

  /** Resolves when everything queued so far has finished. */
  idle(): Promise<void> {
    return this.#tail;
  }

  async #run(event: NotifyEvent): Promise<void> {
    const { logger } = this.#options;
    for (const [text, extra] of notifyCommands(this.#config, event)) {
      const split = splitShellWords(text);
      if (!split.ok || split.argv.length === 0) {
        logger.log("err", `(${event.instance}) cannot run notify "${text}": bad command line`);
        continue;
      }
      const user = this.#options.scriptUser ?? null;
      const asUser = user !== null && Deno.uid() === 0 ? ["runuser", "-u", user, "--"] : [];
      const argv = [...asUser, ...split.argv, ...extra];
      try {
        const code = await runCommand(argv, this.#options.scriptTimeoutMs ?? 30_000);
        if (code !== 0) {
          logger.log("warning", `(${event.instance}) notify "${argv.join(" ")}" exited ${code}`);
        }
      } catch (err) {
        logger.log(
          "err",
          `(${event.instance}) cannot run notify "${argv.join(" ")}": ${(err as Error).message}`,
        );
      }
    }
    const mail = this.#options.mail;
    if (mail && this.#config.smtpAlert && this.#lastMailed !== event.state) {
      this.#lastMailed = event.state;
      try {
        await sendMail(mail, alertMail(this.#options.routerId, event));
      } catch (err) {
        logger.log("err", `(${event.instance}) smtp alert failed: ${(err as Error).message}`);
      }
    }
  }
}

/**
 * Runs argv (no shell), stdin closed, output discarded; SIGKILL after `timeoutMs`.
 *
 * @param argv program and arguments
 * @param timeoutMs run time limit
 * @returns the exit code (-1 when killed by a signal)
 * @example
 * ```ts ignore
 * await runCommand(["/bin/true"], 1000); // 0
 * ```
 */
export async function runCommand(argv: readonly string[], timeoutMs: number): Promise<number> {
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
  }, timeoutMs);
  try {
    const status = await child.status;
    return status.signal ? -1 : status.code;
  } finally {
    clearTimeout(timer);
  }
}
