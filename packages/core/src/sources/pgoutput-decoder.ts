import { postgresTimeToDate, type Lsn } from './replication-protocol.js';

/** A table as pgoutput describes it in its Relation message. */
export interface PgRelation {
  readonly id: number;
  readonly schema: string;
  readonly table: string;
  readonly columns: ReadonlyArray<{ readonly name: string; readonly typeOid: number; readonly isKey: boolean }>;
}

/** Column values of one row, converted to JSON-friendly values (see {@link convertText}). */
export type PgRow = Record<string, unknown>;

/** A decoded pgoutput (protocol version 1) message. */
export type PgoutputMessage =
  | { readonly tag: 'begin'; readonly finalLsn: Lsn; readonly commitTime: Date; readonly xid: number }
  | { readonly tag: 'commit'; readonly commitLsn: Lsn; readonly endLsn: Lsn; readonly commitTime: Date }
  | { readonly tag: 'relation'; readonly relation: PgRelation }
  | { readonly tag: 'insert'; readonly relation: PgRelation; readonly row: PgRow }
  | { readonly tag: 'update'; readonly relation: PgRelation; readonly row: PgRow; readonly old?: PgRow; readonly unchanged: readonly string[] }
  | { readonly tag: 'delete'; readonly relation: PgRelation; readonly old: PgRow }
  | { readonly tag: 'truncate'; readonly relations: readonly PgRelation[] }
  | { readonly tag: 'message'; readonly transactional: boolean; readonly lsn: Lsn; readonly prefix: string; readonly content: Buffer }
  | { readonly tag: 'ignored'; readonly type: string };

/**
 * Decodes pgoutput messages. Stateful only in the relation cache: Insert/Update/Delete refer to a
 * relation by id, described by an earlier Relation message of the same stream.
 * https://www.postgresql.org/docs/15/protocol-logicalrep-message-formats.html
 */
export class PgoutputDecoder {
  readonly #relations = new Map<number, PgRelation>();

  decode(buffer: Buffer): PgoutputMessage {
    const reader = new Reader(buffer);
    const type = String.fromCharCode(reader.byte());
    switch (type) {
      case 'B': {
        const finalLsn = reader.uint64();
        const commitTime = postgresTimeToDate(reader.int64());
        return { tag: 'begin', finalLsn, commitTime, xid: reader.uint32() };
      }
      case 'C': {
        reader.byte(); // flags, unused
        const commitLsn = reader.uint64();
        const endLsn = reader.uint64();
        return { tag: 'commit', commitLsn, endLsn, commitTime: postgresTimeToDate(reader.int64()) };
      }
      case 'R': {
        const id = reader.uint32();
        const schema = reader.cstring();
        const table = reader.cstring();
        reader.byte(); // replica identity setting
        const columns = Array.from({ length: reader.uint16() }, () => {
          const isKey = (reader.byte() & 1) === 1;
          const name = reader.cstring();
          const typeOid = reader.uint32();
          reader.uint32(); // type modifier
          return { name, typeOid, isKey };
        });
        const relation = { id, schema, table, columns };
        this.#relations.set(id, relation);
        return { tag: 'relation', relation };
      }
      case 'I': {
        const relation = this.#relation(reader.uint32());
        reader.byte(); // 'N'
        return { tag: 'insert', relation, row: readTuple(reader, relation).row };
      }
      case 'U': {
        const relation = this.#relation(reader.uint32());
        let marker = String.fromCharCode(reader.byte());
        let old: PgRow | undefined;
        if (marker === 'K' || marker === 'O') {
          old = readTuple(reader, relation).row;
          marker = String.fromCharCode(reader.byte());
        }
        const { row, unchanged } = readTuple(reader, relation);
        return old ? { tag: 'update', relation, row, old, unchanged } : { tag: 'update', relation, row, unchanged };
      }
      case 'D': {
        const relation = this.#relation(reader.uint32());
        reader.byte(); // 'K' or 'O'
        return { tag: 'delete', relation, old: readTuple(reader, relation).row };
      }
      case 'T': {
        const count = reader.uint32();
        reader.byte(); // options: cascade, restart identity
        return { tag: 'truncate', relations: Array.from({ length: count }, () => this.#relation(reader.uint32())) };
      }
      case 'M': {
        const transactional = (reader.byte() & 1) === 1;
        const lsn = reader.uint64();
        const prefix = reader.cstring();
        return { tag: 'message', transactional, lsn, prefix, content: reader.bytes(reader.uint32()) };
      }
      default:
        return { tag: 'ignored', type };
    }
  }

  #relation(id: number): PgRelation {
    const relation = this.#relations.get(id);
    if (!relation) throw new Error(`pgoutput referred to relation ${id} before describing it`);
    return relation;
  }
}

function readTuple(reader: Reader, relation: PgRelation): { row: PgRow; unchanged: string[] } {
  const row: PgRow = {};
  const unchanged: string[] = [];
  const count = reader.uint16();
  for (let i = 0; i < count; i++) {
    const column = relation.columns[i];
    const name = column?.name ?? `column_${i + 1}`;
    const kind = reader.byte();
    if (kind === 0x74 /* t */) row[name] = convertText(reader.bytes(reader.uint32()).toString('utf8'), column?.typeOid ?? 25);
    else if (kind === 0x6e /* n */) row[name] = null;
    else if (kind === 0x75 /* u */) unchanged.push(name); // TOASTed value not sent: unchanged
    else if (kind === 0x62 /* b */) row[name] = reader.bytes(reader.uint32()).toString('base64');
  }
  return { row, unchanged };
}

const numberTypes = new Set([21, 23, 26, 700, 701]); // int2, int4, oid, float4, float8
const jsonTypes = new Set([114, 3802]); // json, jsonb

/**
 * Converts a column's text form to JSON: booleans and small numbers become JSON booleans and
 * numbers, json/jsonb is embedded as JSON, and everything else keeps Postgres' text form (int8 and
 * numeric too, so no precision is lost; timestamps as Postgres prints them; arrays as `{1,2}`).
 */
export function convertText(text: string, typeOid: number): unknown {
  if (typeOid === 16) return text === 't';
  if (numberTypes.has(typeOid)) {
    const value = Number(text);
    return Number.isFinite(value) ? value : text; // NaN and Infinity are not JSON
  }
  if (jsonTypes.has(typeOid)) return JSON.parse(text) as unknown;
  return text;
}

class Reader {
  #offset = 0;
  constructor(private readonly buffer: Buffer) {}

  byte(): number {
    return this.buffer[this.#offset++]!;
  }

  uint16(): number {
    const value = this.buffer.readUInt16BE(this.#offset);
    this.#offset += 2;
    return value;
  }

  uint32(): number {
    const value = this.buffer.readUInt32BE(this.#offset);
    this.#offset += 4;
    return value;
  }

  uint64(): bigint {
    const value = this.buffer.readBigUInt64BE(this.#offset);
    this.#offset += 8;
    return value;
  }

  int64(): bigint {
    const value = this.buffer.readBigInt64BE(this.#offset);
    this.#offset += 8;
    return value;
  }

  cstring(): string {
    const end = this.buffer.indexOf(0, this.#offset);
    const value = this.buffer.toString('utf8', this.#offset, end);
    this.#offset = end + 1;
    return value;
  }

  bytes(length: number): Buffer {
    const value = this.buffer.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return value;
  }
}
