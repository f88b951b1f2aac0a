/** The fields of a wal2json (format-version 2) message the bridge routes by. */
export interface Wal2jsonHead {
  readonly action: string;
  readonly schema?: string;
  readonly table?: string;
  readonly prefix?: string;
  readonly xid?: number;
  readonly timestamp?: string;
}

const columns = Buffer.from(',"columns":[');
const identity = Buffer.from(',"identity":[');

/**
 * Reads the routing fields of a wal2json change without parsing its column values, which come
 * last (`"columns"`, then `"identity"`) and can be large: a 100 kB TOASTed text is not parsed just
 * to learn the table name. The body itself is forwarded untouched.
 */
export function readWal2jsonHead(data: Buffer): Wal2jsonHead {
  let end = data.indexOf(columns);
  if (end === -1) end = data.indexOf(identity);
  const head = end === -1 ? data.toString('utf8') : `${data.toString('utf8', 0, end)}}`;
  return JSON.parse(head) as Wal2jsonHead;
}
