import { convertText, type PgRelation, type PgRow } from './pgoutput-decoder.js';

/** What {@link encodePgoutputEnvelope} writes. */
export interface PgoutputEnvelope {
  readonly id: string;
  readonly lsn: string;
  readonly xid: number;
  /** ISO 8601. */
  readonly commitTime: string;
  readonly relation: PgRelation;
  readonly action: string;
  /** The new row (insert, update). */
  readonly row?: PgRow;
  /** The old row or replica identity (update, delete). */
  readonly old?: PgRow;
}

/**
 * Writes the bridge's pgoutput envelope `{id, lsn, xid, commitTime, schema, table, action, data,
 * dataOld, unchanged}` as JSON text, each column value converted by {@link convertText}. Built as
 * text rather than through `JSON.stringify` of parsed values, so json/jsonb values go through as
 * Postgres wrote them: no precision lost, no stack depth needed however deep they nest. Throws
 * ERR_BRIDGE_DECODE for a value that cannot be carried losslessly.
 */
export function encodePgoutputEnvelope(envelope: PgoutputEnvelope): Buffer {
  const { relation } = envelope;
  const unchanged: string[] = [];
  const data = envelope.row ? rowJson(relation, envelope.row, unchanged) : '{}';
  const dataOld = envelope.old ? rowJson(relation, envelope.old, undefined) : '{}';
  const text =
    `{"id":${JSON.stringify(envelope.id)},"lsn":${JSON.stringify(envelope.lsn)},"xid":${envelope.xid},"commitTime":${JSON.stringify(envelope.commitTime)},` +
    `"schema":${JSON.stringify(relation.schema)},"table":${JSON.stringify(relation.table)},"action":${JSON.stringify(envelope.action)},` +
    `"data":${data},"dataOld":${dataOld},"unchanged":${JSON.stringify(unchanged)}}`;
  return Buffer.from(text);
}

function rowJson(relation: PgRelation, row: PgRow, unchanged: string[] | undefined): string {
  let text = '{';
  for (let i = 0; i < row.length; i++) {
    const column = relation.columns[i]!;
    const value = row[i]!;
    if (value === 'unchanged') {
      unchanged?.push(column.name);
      continue;
    }
    if (text.length > 1) text += ',';
    text += JSON.stringify(column.name);
    text += ':';
    if (value === null) text += 'null';
    else if (Buffer.isBuffer(value)) text += convertText(value, column.typeOid);
    else text += JSON.stringify(value.binary.toString('base64'));
  }
  return `${text}}`;
}
