import { inspect } from 'node:util';
import type { Logger } from '@pg-event-bridge/core';

/** One call to a {@link RecordingLogger}. */
export interface LogRecord {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

/** A {@link Logger} that keeps every record, so tests can assert what was (not) logged. */
export interface RecordingLogger extends Logger {
  readonly records: LogRecord[];
  /** Every record rendered with `util.inspect` (error messages and causes included), for `toContain` checks. */
  text(): string;
}

/**
 * Creates a logger that records instead of printing.
 *
 * @example
 * ```ts
 * const logger = createRecordingLogger();
 * await publisher.start({ logger, targets, signal });
 * expect(logger.text()).not.toContain('s3cret');
 * ```
 */
export function createRecordingLogger(): RecordingLogger {
  const records: LogRecord[] = [];
  const record = (level: LogRecord['level']) => (fields: Record<string, unknown>, message: string) => {
    records.push({ level, fields, message });
  };
  return {
    records,
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
    text: () => records.map((r) => `${r.level} ${r.message} ${inspect(r.fields, { depth: 6 })}`).join('\n'),
  };
}
