import { BridgeError } from '../errors.js';

/** The fields of a wal2json (format-version 2) message the bridge routes by. */
export interface Wal2jsonHead {
  readonly action: string;
  readonly schema?: string;
  readonly table?: string;
  readonly prefix?: string;
  readonly xid?: number;
  /** The commit time, with `include-timestamp` (Postgres's text, e.g. `2026-01-02 03:04:05.678901+00`). */
  readonly timestamp?: string | null;
}

const columns = Buffer.from(',"columns":[');
const identity = Buffer.from(',"identity":[');
const stringFields = ['action', 'schema', 'table', 'prefix'] as const;

/**
 * Reads the routing fields of a wal2json change without parsing its column values, which come
 * last (`"columns"`, then `"identity"`) and can be large: a 100 kB TOASTed text is not parsed just
 * to learn the table name. The body itself is forwarded untouched. A message that is not JSON, or
 * whose fields have the wrong types, throws an ERR_BRIDGE_DECODE BridgeError.
 */
export function readWal2jsonHead(data: Buffer): Wal2jsonHead {
  let end = data.indexOf(columns);
  if (end === -1) end = data.indexOf(identity);
  const head = end === -1 ? data.toString('utf8') : `${data.toString('utf8', 0, end)}}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(head);
  } catch (error) {
    throw decodeError(`is not JSON (${(error as Error).message})`, data);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw decodeError('is not a JSON object', data);
  const fields = parsed as Record<string, unknown>;
  for (const field of stringFields) {
    if (fields[field] !== undefined && typeof fields[field] !== 'string') throw decodeError(`has a "${field}" that is not a string`, data);
  }
  if (typeof fields.action !== 'string') throw decodeError('has no "action"', data);
  if (fields.xid !== undefined && typeof fields.xid !== 'number') throw decodeError('has an "xid" that is not a number', data);
  if (fields.timestamp !== undefined && fields.timestamp !== null && typeof fields.timestamp !== 'string') throw decodeError('has a "timestamp" that is not a string', data);
  if (fields.action !== 'B' && fields.action !== 'C' && fields.action !== 'M' && (typeof fields.schema !== 'string' || typeof fields.table !== 'string')) {
    throw decodeError(`is a change ("action":${JSON.stringify(fields.action).slice(0, 20)}) without "schema" and "table"`, data);
  }
  return fields as unknown as Wal2jsonHead;
}

function decodeError(problem: string, data: Buffer): BridgeError {
  return new BridgeError('ERR_BRIDGE_DECODE', `[wal2json] A message of ${data.length} bytes ${problem}`);
}

const timestampPattern = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(\.\d{1,6})?([+-]\d\d)(?::?(\d\d))?(?::?(\d\d))?$/;

/**
 * Reads a timestamptz as Postgres prints it (`2026-01-02 03:04:05.678901+00`, any time zone
 * offset); undefined for what a JavaScript Date cannot hold (`infinity`, BC, years past 9999).
 */
export function parseWal2jsonTime(text: string | null | undefined): Date | undefined {
  const match = text ? timestampPattern.exec(text) : null;
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, fraction = '', offsetHours = '+00', offsetMinutes = '00', offsetSeconds = '00'] = match;
  const sign = offsetHours.startsWith('-') ? -1 : 1;
  const offsetMs = sign * ((Math.abs(Number(offsetHours)) * 60 + Number(offsetMinutes)) * 60 + Number(offsetSeconds)) * 1000;
  const ms = fraction === '' ? 0 : Math.floor(Number(`0${fraction}`) * 1000);
  const utc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms) - offsetMs;
  return Number.isFinite(utc) ? new Date(utc) : undefined;
}
