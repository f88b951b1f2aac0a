import { type Lsn } from './replication-protocol.js';
/** A table as pgoutput describes it in its Relation message. */
export interface PgRelation {
    readonly id: number;
    readonly schema: string;
    readonly table: string;
    readonly columns: ReadonlyArray<{
        readonly name: string;
        readonly typeOid: number;
        readonly isKey: boolean;
    }>;
}
/** Column values of one row, converted to JSON-friendly values (see {@link convertText}). */
export type PgRow = Record<string, unknown>;
/** A decoded pgoutput (protocol version 1) message. */
export type PgoutputMessage = {
    readonly tag: 'begin';
    readonly finalLsn: Lsn;
    readonly commitTime: Date;
    readonly xid: number;
} | {
    readonly tag: 'commit';
    readonly commitLsn: Lsn;
    readonly endLsn: Lsn;
    readonly commitTime: Date;
} | {
    readonly tag: 'relation';
    readonly relation: PgRelation;
} | {
    readonly tag: 'insert';
    readonly relation: PgRelation;
    readonly row: PgRow;
} | {
    readonly tag: 'update';
    readonly relation: PgRelation;
    readonly row: PgRow;
    readonly old?: PgRow;
    readonly unchanged: readonly string[];
} | {
    readonly tag: 'delete';
    readonly relation: PgRelation;
    readonly old: PgRow;
} | {
    readonly tag: 'truncate';
    readonly relations: readonly PgRelation[];
} | {
    readonly tag: 'message';
    readonly transactional: boolean;
    readonly lsn: Lsn;
    readonly prefix: string;
    readonly content: Buffer;
} | {
    readonly tag: 'ignored';
    readonly type: string;
};
/**
 * Decodes pgoutput messages. Stateful only in the relation cache: Insert/Update/Delete refer to a
 * relation by id, described by an earlier Relation message of the same stream.
 * https://www.postgresql.org/docs/15/protocol-logicalrep-message-formats.html
 */
export declare class PgoutputDecoder {
    #private;
    decode(buffer: Buffer): PgoutputMessage;
}
/**
 * Converts a column's text form to JSON: booleans and small numbers become JSON booleans and
 * numbers, json/jsonb is embedded as JSON, and everything else keeps Postgres' text form (int8 and
 * numeric too, so no precision is lost; timestamps as Postgres prints them; arrays as `{1,2}`).
 */
export declare function convertText(text: string, typeOid: number): unknown;
//# sourceMappingURL=pgoutput-decoder.d.ts.map