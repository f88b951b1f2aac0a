/**
 * The layout of every benchmark event. The NOTIFY payload is `<key>|<body>` and the body, which
 * the bridge forwards byte-exact, is
 *   `<sent at, ms since the epoch, 17 chars>:<sequence, 10 digits>:<x padding to the size>`
 * so any consumer, in any process, computes latency = its receive time − sent at.
 */
import { nowMs } from './measure.js';

/** Routing key of throughput events: consumers count them but record no latency. */
export const burstKey = 'bench';
/** Routing key of the paced events whose latency is measured. */
export const probeKey = 'probe';

const stampChars = 17;
const headerChars = stampChars + 1 + 10 + 1;

/** Bytes of `x` after the header so that the body is `size` bytes. */
export function paddingFor(size: number): string {
  if (size < headerChars) throw new Error(`payload size ${size} is below the ${headerChars}-byte header`);
  return 'x'.repeat(size - headerChars);
}

/** A body as the bridge would forward it, for the broker ceilings (same size, same shape). */
export function makeBody(size: number, sequence: number): Buffer {
  return Buffer.from(`${nowMs().toFixed(3).padStart(stampChars, '0')}:${String(sequence).padStart(10, '0')}:${paddingFor(size)}`);
}

/**
 * SQL text for the body, stamped by Postgres at NOTIFY time (`clock_timestamp()`); `$seq` is the
 * sequence expression. Postgres and Node read the same system clock.
 */
export function sqlBody(seq: string): string {
  return `lpad(((extract(epoch FROM clock_timestamp()) * 1000)::numeric(16,3))::text, ${stampChars}, '0') || ':' || lpad((${seq})::text, 10, '0') || ':'`;
}

/** When a body was sent, in ms since the epoch; NaN when it is not a benchmark body. */
export function sentAtOf(body: Buffer | string): number {
  const text = typeof body === 'string' ? body.slice(0, stampChars) : body.toString('latin1', 0, stampChars);
  return Number(text);
}
