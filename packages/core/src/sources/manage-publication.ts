import type { WalFilter } from '../rules/parse-wal-filters.js';
import { quoteIdent } from './postgres-connection.js';

/** Runs one SQL statement on a short-lived connection. */
export type QueryFn = <T extends Record<string, unknown>>(text: string, values?: unknown[]) => Promise<T[]>;

/** Options of {@link managePublication}. */
export interface ManagePublicationOptions {
  readonly publication: string;
  /** Create the publication when missing and keep its table list current. */
  readonly create: boolean;
  /** Only tables these select are published (all when empty). */
  readonly filters: readonly WalFilter[];
  /** Schemas never published by default: the bridge's own (`events`). */
  readonly excludeSchemas: readonly string[];
}

/** What {@link managePublication} found and did. */
export interface PublicationState {
  /** True when the bridge owns the table list (it created the publication, or converted the one an earlier version created `FOR ALL TABLES`). */
  readonly managed: boolean;
  /** Tables whose UPDATE/DELETE would fail if published: no primary key and no replica identity. */
  readonly unpublishable: readonly string[];
  /** Tables that could not be added or removed, with Postgres's reason (the role does not own them). */
  readonly failed: ReadonlyArray<{ readonly table: string; readonly error: string }>;
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** Set when the publication was an earlier version's `FOR ALL TABLES` one and was converted. */
  readonly converted: boolean;
}

/** Marks a publication whose table list the bridge maintains. */
export const managedPublicationComment = 'pg-event-bridge: tables with a replica identity, kept current by the bridge';

const system = ['pg_catalog', 'information_schema', 'pg_toast'];

/**
 * Makes sure pgoutput's publication exists without breaking the application's writes. A
 * publication that publishes updates and deletes makes Postgres refuse UPDATE and DELETE on every
 * table in it that has no replica identity, so the bridge never creates `FOR ALL TABLES`: it lists
 * the ordinary tables that have a primary key or a replica identity (index or FULL), leaves out its
 * own schema and the tables that cannot publish (reporting them), and keeps the list current on each
 * call. A publication the bridge did not create is used as it is; its tables without replica
 * identity are reported. Adding a table needs ownership of it: tables the role cannot add are
 * reported, not fatal.
 */
export async function managePublication(query: QueryFn, options: ManagePublicationOptions): Promise<PublicationState> {
  const name = options.publication;
  const [existing] = await query<{ alltables: boolean; own: boolean; comment: string | null }>(
    `SELECT puballtables AS alltables, pg_has_role(pubowner, 'USAGE') AS own, obj_description(oid, 'pg_publication') AS comment FROM pg_publication WHERE pubname = $1`,
    [name],
  );
  const candidates = await query<{ schema: string; table: string; identity: boolean }>(
    `SELECT n.nspname AS schema, c.relname AS table,
            (c.relreplident = 'f'
             OR (c.relreplident = 'd' AND EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary))
             OR (c.relreplident = 'i' AND EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisreplident))) AS identity
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r' AND c.relpersistence = 'p'
        AND n.nspname <> ALL ($1::text[]) AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'
      ORDER BY 1, 2`,
    [[...system, ...options.excludeSchemas]],
  );
  const filtered = candidates.filter((t) => options.filters.length === 0 || options.filters.some((f) => f.table === t.table && (f.schema === undefined || f.schema === t.schema)));
  const wanted = filtered.filter((t) => t.identity).map((t) => qualified(t.schema, t.table));
  const unpublishable = filtered.filter((t) => !t.identity).map((t) => qualified(t.schema, t.table));

  const legacy = existing !== undefined && existing.alltables && existing.own && options.create && existing.comment !== managedPublicationComment;
  const managed = existing === undefined ? options.create : existing.comment === managedPublicationComment || legacy;
  if (existing === undefined && !options.create) {
    throw new Error(`publication "${name}" does not exist; create it listing the tables to stream (CREATE PUBLICATION ${quoteIdent(name)} FOR TABLE ...), or allow createPublication`);
  }

  if (!managed) {
    // Someone else's publication: used as given; report what in it breaks the application's writes.
    const broken = await query<{ schema: string; table: string }>(
      `SELECT t.schemaname AS schema, t.tablename AS table
         FROM pg_publication_tables t JOIN pg_publication p ON p.pubname = t.pubname
         JOIN pg_namespace n ON n.nspname = t.schemaname JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = t.tablename
        WHERE t.pubname = $1 AND (p.pubupdate OR p.pubdelete)
          AND NOT (c.relreplident = 'f'
             OR (c.relreplident = 'd' AND EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary))
             OR (c.relreplident = 'i' AND EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisreplident)))
        ORDER BY 1, 2`,
      [name],
    );
    return { managed: false, unpublishable: broken.map((t) => qualified(t.schema, t.table)), failed: [], added: [], removed: [], converted: false };
  }

  const comment = `COMMENT ON PUBLICATION ${quoteIdent(name)} IS '${managedPublicationComment}'`;
  if (existing === undefined || legacy) {
    // An empty publication first, then each table on its own, so one table the role may not
    // publish does not keep the others out. A FOR ALL TABLES one cannot be altered into a list.
    await query(`${legacy ? `DROP PUBLICATION ${quoteIdent(name)}; ` : ''}CREATE PUBLICATION ${quoteIdent(name)}; ${comment}`);
  }
  const current = new Set(
    (await query<{ schema: string; table: string }>(`SELECT schemaname AS schema, tablename AS table FROM pg_publication_tables WHERE pubname = $1`, [name])).map((t) =>
      qualified(t.schema, t.table),
    ),
  );
  const added: string[] = [];
  const removed: string[] = [];
  const failed: Array<{ table: string; error: string }> = [];
  const want = new Set(wanted);
  for (const table of current) {
    if (want.has(table)) continue;
    await query(`ALTER PUBLICATION ${quoteIdent(name)} DROP TABLE ${table}`).then(
      () => removed.push(table),
      (error: Error) => failed.push({ table, error: error.message }),
    );
  }
  for (const table of wanted) {
    if (current.has(table)) continue;
    await query(`ALTER PUBLICATION ${quoteIdent(name)} ADD TABLE ${table}`).then(
      () => added.push(table),
      (error: Error) => failed.push({ table, error: error.message }),
    );
  }
  return { managed: true, unpublishable, failed, added, removed, converted: legacy };
}

function qualified(schema: string, table: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(table)}`;
}
