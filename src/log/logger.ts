/**
 * The process logger: event lines (startup, state changes, errors) and traffic lines (tcplog /
 * httplog) go through one {@linkcode Logger}, which writes them to the configured target.
 *
 * @module
 */
import type { LogLevel } from "../config/types.ts";
import { LOG_LEVELS } from "../config/types.ts";

/** What a sink receives: an operational event or a finished traffic line. */
export interface LogEntry {
  readonly level: LogLevel;
  readonly kind: "event" | "traffic";
  readonly line: string;
  /** A traffic line's fields (HAProxy's log-format variables by name), for JSON output. */
  readonly fields?: LogFields;
}

/** Structured fields of a traffic line. */
export type LogFields = Readonly<Record<string, string | number | boolean | null>>;

/** A log sink: writes entries to one destination. */
export interface LogSink {
  write(entry: LogEntry): void;
  close(): void;
}

/** The logger every subsystem receives (never a global). */
export interface Logger {
  /** Operational events at a syslog severity; dropped below the configured level. */
  log(level: LogLevel, message: string): void;
  /** A finished traffic line (tcplog/httplog), logged at "info"; `fields` feed JSON output. */
  traffic(line: string, fields?: LogFields): void;
}

/** Options for {@linkcode createLogger}. */
export interface LoggerOptions {
  sink: LogSink;
  level: LogLevel;
}

const INFO = LOG_LEVELS.indexOf("info");

/** Creates a logger that filters by level and writes to one sink. */
export function createLogger(options: LoggerOptions): Logger {
  const max = LOG_LEVELS.indexOf(options.level);
  const { sink } = options;
  return {
    log(level, message) {
      if (LOG_LEVELS.indexOf(level) <= max) sink.write({ level, kind: "event", line: message });
    },
    traffic(line, fields) {
      if (INFO <= max) sink.write({ level: "info", kind: "traffic", line, fields });
    },
  };
}

/** A sink that collects lines in memory (for tests). */
export function memorySink(): LogSink & { lines: LogEntry[] } {
  const lines: LogEntry[] = [];
  return { lines, write: (entry) => void lines.push(entry), close() {} };
}
