import { isUtf8 } from 'node:buffer';
import { BridgeError } from '../errors.js';
import { isJsonText } from './is-json-text.js';
import { postgresTimeToDate, type Lsn } from './replication-protocol.js';

/** A column of a table as pgoutput describes it. */
export interface PgColumn {
  readonly name: string;
  readonly typeOid: number;
  readonly isKey: boolean;
}

/** A table as pgoutput describes it in its Relation message. */
export interface PgRelation {
  readonly id: number;
  readonly schema: string;
  readonly table: string;
  readonly columns: readonly PgColumn[];
}

/** A value pgoutput sent in binary format (only when `binary 'true'` is requested). */
export interface PgBinaryValue {
  readonly binary: Buffer;
}

/**
 * One column value as pgoutput sent it: the bytes of its text form (a view into the message, not
 * a copy), `null`, `'unchanged'` for a TOASTed value the update did not send, or binary bytes.
 */
export type PgValue = Buffer | null | 'unchanged' | PgBinaryValue;

/** One row: a value per column of its relation, in the relation's column order. */
export type PgRow = readonly PgValue[];

/** A decoded pgoutput (protocol version 1) message. */
export type PgoutputMessage =
  | { readonly tag: 'begin'; readonly finalLsn: Lsn; readonly commitTime: Date; readonly xid: number }
  | { readonly tag: 'commit'; readonly commitLsn: Lsn; readonly endLsn: Lsn; readonly commitTime: Date }
  | { readonly tag: 'relation'; readonly relation: PgRelation }
  | { readonly tag: 'insert'; readonly relation: PgRelation; readonly row: PgRow }
  | { readonly tag: 'update'; readonly relation: PgRelation; readonly row: PgRow; readonly old?: PgRow }
  | { readonly tag: 'delete'; readonly relation: PgRelation; readonly old: PgRow }
  | { readonly tag: 'truncate'; readonly relations: readonly PgRelation[] }
  | { readonly tag: 'message'; readonly transactional: boolean; readonly lsn: Lsn; readonly prefix: string; readonly content: Buffer }
  | { readonly tag: 'ignored'; readonly type: string };

/**
 * Decodes pgoutput messages. Stateful only in the relation cache: Insert/Update/Delete refer to a
 * relation by id, described by an earlier Relation message of the same stream.
 *
 * Every malformed input (truncated, a length or count beyond the message, an unknown relation, a
 * tuple whose column count differs from its relation's) throws an ERR_BRIDGE_DECODE BridgeError,
 * never anything else, and nothing is allocated beyond the size of the message itself.
 * https://www.postgresql.org/docs/15/protocol-logicalrep-message-formats.html
 */
export class PgoutputDecoder {
  readonly #relations = new Map<number, PgRelation>();

  decode(buffer: Buffer): PgoutputMessage {
    const reader = new Reader(buffer);
    const type = String.fromCharCode(reader.byte());
    let message: PgoutputMessage;
    switch (type) {
      case 'B': {
        const finalLsn = reader.uint64();
        const commitTime = postgresTimeToDate(reader.int64());
        message = { tag: 'begin', finalLsn, commitTime, xid: reader.uint32() };
        break;
      }
      case 'C': {
        reader.byte(); // flags, unused
        const commitLsn = reader.uint64();
        const endLsn = reader.uint64();
        message = { tag: 'commit', commitLsn, endLsn, commitTime: postgresTimeToDate(reader.int64()) };
        break;
      }
      case 'R': {
        const id = reader.uint32();
        const schema = reader.cstring();
        const table = reader.cstring();
        reader.byte(); // replica identity setting
        const count = reader.count(reader.uint16(), 10); // flags, name's NUL, type, modifier
        const columns: PgColumn[] = [];
        for (let i = 0; i < count; i++) {
          const isKey = (reader.byte() & 1) === 1;
          const name = reader.cstring();
          const typeOid = reader.uint32();
          reader.uint32(); // type modifier
          columns.push({ name, typeOid, isKey });
        }
        if (new Set(columns.map((c) => c.name)).size !== columns.length) throw decodeError(`relation ${id} (${schema}.${table}) names a column twice`);
        reader.end();
        const relation = { id, schema, table, columns };
        this.#relations.set(id, relation);
        return { tag: 'relation', relation };
      }
      case 'I': {
        const relation = this.#relation(reader.uint32());
        reader.expect('N');
        message = { tag: 'insert', relation, row: readTuple(reader, relation) };
        break;
      }
      case 'U': {
        const relation = this.#relation(reader.uint32());
        let marker = String.fromCharCode(reader.byte());
        let old: PgRow | undefined;
        if (marker === 'K' || marker === 'O') {
          old = readTuple(reader, relation);
          marker = String.fromCharCode(reader.byte());
        }
        if (marker !== 'N') throw decodeError(`update of relation ${relation.id} has tuple marker "${marker}" where "N" belongs`);
        const row = readTuple(reader, relation);
        message = old ? { tag: 'update', relation, row, old } : { tag: 'update', relation, row };
        break;
      }
      case 'D': {
        const relation = this.#relation(reader.uint32());
        const marker = String.fromCharCode(reader.byte());
        if (marker !== 'K' && marker !== 'O') throw decodeError(`delete of relation ${relation.id} has tuple marker "${marker}" where "K" or "O" belongs`);
        message = { tag: 'delete', relation, old: readTuple(reader, relation) };
        break;
      }
      case 'T': {
        const count = reader.uint32();
        reader.byte(); // options: cascade, restart identity
        const relations: PgRelation[] = [];
        for (let i = reader.count(count, 4); i > 0; i--) relations.push(this.#relation(reader.uint32()));
        message = { tag: 'truncate', relations };
        break;
      }
      case 'M': {
        const transactional = (reader.byte() & 1) === 1;
        const lsn = reader.uint64();
        const prefix = reader.cstring();
        message = { tag: 'message', transactional, lsn, prefix, content: reader.bytes(reader.uint32()) };
        break;
      }
      default:
        return { tag: 'ignored', type };
    }
    reader.end();
    return message;
  }

  #relation(id: number): PgRelation {
    const relation = this.#relations.get(id);
    if (!relation) throw decodeError(`pgoutput referred to relation ${id} before describing it`);
    return relation;
  }
}

function readTuple(reader: Reader, relation: PgRelation): PgValue[] {
  const count = reader.uint16();
  if (count !== relation.columns.length) {
    throw decodeError(`a row of ${relation.schema}.${relation.table} has ${count} columns; its relation message described ${relation.columns.length}`);
  }
  const values: PgValue[] = [];
  for (let i = 0; i < count; i++) {
    const kind = reader.byte();
    if (kind === 0x74 /* t */) values.push(reader.bytes(reader.uint32()));
    else if (kind === 0x6e /* n */) values.push(null);
    else if (kind === 0x75 /* u */) values.push('unchanged'); // TOASTed value not sent: unchanged
    else if (kind === 0x62 /* b */) values.push({ binary: reader.bytes(reader.uint32()) });
    else throw decodeError(`column ${i + 1} of a row of ${relation.schema}.${relation.table} has unknown kind 0x${kind.toString(16)}`);
  }
  return values;
}

function decodeError(message: string): BridgeError {
  return new BridgeError('ERR_BRIDGE_DECODE', `[pgoutput] ${message}`);
}

/** Reads a message front to back; any read past its end throws ERR_BRIDGE_DECODE. */
class Reader {
  #offset = 0;
  constructor(private readonly buffer: Buffer) {}

  #need(length: number, what: string): void {
    if (this.#offset + length > this.buffer.length) {
      throw decodeError(`message of ${this.buffer.length} bytes ends inside ${what} at offset ${this.#offset} (${length} bytes needed)`);
    }
  }

  byte(): number {
    this.#need(1, 'a byte');
    return this.buffer[this.#offset++]!;
  }

  expect(char: string): void {
    const found = this.byte();
    if (found !== char.charCodeAt(0)) throw decodeError(`expected "${char}" at offset ${this.#offset - 1}, found 0x${found.toString(16)}`);
  }

  uint16(): number {
    this.#need(2, 'an int16');
    const value = this.buffer.readUInt16BE(this.#offset);
    this.#offset += 2;
    return value;
  }

  uint32(): number {
    this.#need(4, 'an int32');
    const value = this.buffer.readUInt32BE(this.#offset);
    this.#offset += 4;
    return value;
  }

  uint64(): bigint {
    this.#need(8, 'an int64');
    const value = this.buffer.readBigUInt64BE(this.#offset);
    this.#offset += 8;
    return value;
  }

  int64(): bigint {
    this.#need(8, 'an int64');
    const value = this.buffer.readBigInt64BE(this.#offset);
    this.#offset += 8;
    return value;
  }

  cstring(): string {
    const end = this.buffer.indexOf(0, this.#offset);
    if (end === -1) throw decodeError(`message of ${this.buffer.length} bytes ends inside a string starting at offset ${this.#offset}`);
    if (!isUtf8(this.buffer.subarray(this.#offset, end))) throw decodeError(`a name at offset ${this.#offset} is not valid UTF-8`);
    const value = this.buffer.toString('utf8', this.#offset, end);
    this.#offset = end + 1;
    return value;
  }

  bytes(length: number): Buffer {
    this.#need(length, `a value of ${length} bytes`);
    const value = this.buffer.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return value;
  }

  /** Checks that `count` items of at least `minBytes` each fit in what is left, before allocating for them. */
  count(count: number, minBytes: number): number {
    if (count * minBytes > this.buffer.length - this.#offset) {
      throw decodeError(`message of ${this.buffer.length} bytes announces ${count} items at offset ${this.#offset}, more than it can hold`);
    }
    return count;
  }

  /** Trailing bytes mean the message is not what its type says. */
  end(): void {
    if (this.#offset !== this.buffer.length) throw decodeError(`message of ${this.buffer.length} bytes has ${this.buffer.length - this.#offset} bytes past its end`);
  }
}

const numberTypes = new Set([21, 23, 26, 700, 701]); // int2, int4, oid, float4, float8
const jsonTypes = new Set([114, 3802]); // json, jsonb
const jsonNumber = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

/**
 * The JSON text of a column from its text form, lossless for every type: `bool` → `true`/`false`;
 * `int2`, `int4`, `oid`, `float4`, `float8` → the number exactly as Postgres printed it (`NaN`,
 * `Infinity` as strings); `json`/`jsonb` → Postgres's JSON text as it is (never parsed into
 * JavaScript numbers, so `1e400` and 20-digit integers survive); everything else (`int8`, `numeric`,
 * `money`, timestamps including `infinity`, `bytea` as `\x…`, arrays, composites, ranges, enums,
 * domains) → a JSON string of Postgres's text. Text that is not valid UTF-8 (a SQL_ASCII
 * database), and json text that is not JSON, throw ERR_BRIDGE_DECODE rather than being altered.
 */
export function convertText(text: string | Buffer, typeOid: number): string {
  if (typeof text !== 'string') {
    if (!isUtf8(text)) throw decodeError(`a value of type ${typeOid} is not valid UTF-8 (${text.length} bytes); the bridge does not alter values to make them JSON`);
    text = text.toString('utf8');
  }
  if (typeOid === 16) return text === 't' ? 'true' : text === 'f' ? 'false' : JSON.stringify(text);
  if (numberTypes.has(typeOid)) return jsonNumber.test(text) ? text : JSON.stringify(text);
  if (jsonTypes.has(typeOid)) {
    if (!isJsonText(text)) throw decodeError(`a json value of ${text.length} characters is not valid JSON`);
    return text;
  }
  return JSON.stringify(text);
}
