import { BridgeError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { connectDedicated, quoteIdent, type PostgresInput } from '../sources/postgres-connection.js';
import { defaultSchema, migrations, quoteLiteral, schemaNames } from './migrations.js';

/** Options of {@link installSchema} and {@link renderSchemaSql}. */
export interface SchemaOptions {
  /** The schema to install into. @default 'events' */
  readonly schema?: string;
}

/** Options of {@link installSchema}. */
export interface InstallSchemaOptions extends SchemaOptions {
  /** @default a logger that drops everything */
  readonly logger?: Logger;
}

/** What {@link installSchema} did. */
export interface InstallSchemaResult {
  /** The schema's version after the call. */
  readonly version: number;
  /** Migrations applied by this call, by name; empty when the schema was up to date. */
  readonly applied: readonly string[];
}

/** The newest schema version this package knows. */
export const schemaVersion = migrations[migrations.length - 1]!.version;

/**
 * Installs or upgrades the `events` schema (outbox, dead letters, `send_message`, `on_row_change`,
 * `replay_dead_letters`): applies the migrations not yet recorded in `events.schema_version`, in
 * one transaction, under an advisory lock so several bridges starting at once apply them once.
 * An up-to-date schema is detected without any DDL, so a role without CREATE may call it then.
 *
 * @example
 * ```ts
 * const { applied } = await installSchema('postgres://owner@db/app');
 * ```
 */
export async function installSchema(postgres: PostgresInput, options: InstallSchemaOptions = {}): Promise<InstallSchemaResult> {
  const schema = checkSchemaName(options.schema ?? defaultSchema);
  const logger = options.logger ?? silentLogger;
  const names = schemaNames(schema);
  let connection;
  try {
    connection = await connectDedicated(postgres);
  } catch (error) {
    throw new BridgeError('ERR_BRIDGE_POSTGRES', `[sql] Could not connect to install schema "${schema}": ${(error as Error).message}`, { retryable: true, cause: error });
  }
  const { client } = connection;
  const installed = async (): Promise<number> => {
    const exists = await client.query<{ found: string | null }>(`SELECT pg_catalog.to_regclass($1) AS found`, [`${names.schema}.schema_version`]);
    if (!exists.rows[0]?.found) return 0;
    const rows = await client.query<{ version: number | null }>(`SELECT pg_catalog.max(version) AS version FROM ${names.schema}.schema_version`);
    return rows.rows[0]?.version ?? 0;
  };
  try {
    const before = await installed();
    if (before >= schemaVersion) return { version: before, applied: [] };

    await client.query('BEGIN');
    try {
      await client.query(`SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext($1))`, [lockName(schema)]);
      await client.query(bootstrapSql(names.schema));
      // Another bridge may have installed it while we waited for the lock.
      const current = await installed();
      const applied: string[] = [];
      for (const migration of migrations) {
        if (migration.version <= current) continue;
        await client.query(migration.sql(names));
        await client.query(`INSERT INTO ${names.schema}.schema_version (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
        applied.push(migration.name);
      }
      await client.query('COMMIT');
      const version = Math.max(current, schemaVersion);
      if (applied.length > 0) logger.info({ schema, version, applied }, '[sql] Installed the events schema');
      return { version, applied };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  } catch (error) {
    if (BridgeError.isInstance(error)) throw error;
    const hint = (error as { hint?: string }).hint;
    throw new BridgeError(
      'ERR_BRIDGE_POSTGRES',
      `[sql] Could not install schema "${schema}": ${(error as Error).message}${hint ? ` (${hint})` : ''}; the role needs CREATE on the database (or print the SQL with renderSchemaSql() / pg-event-bridge install-sql --print and have an owner run it)`,
      { retryable: false, cause: error },
    );
  } finally {
    await connection.release();
  }
}

/**
 * The SQL {@link installSchema} runs, as one script for review or for a DBA to apply with
 * `psql -v ON_ERROR_STOP=1 -f events.sql`. Every statement is safe to run again.
 *
 * @example
 * ```ts
 * process.stdout.write(renderSchemaSql({ schema: 'events' }));
 * ```
 */
export function renderSchemaSql(options: SchemaOptions = {}): string {
  const schema = checkSchemaName(options.schema ?? defaultSchema);
  const names = schemaNames(schema);
  const parts = [
    `-- pg-event-bridge: the ${quoteLiteral(schema)} schema, version ${schemaVersion}.`,
    `-- Apply with: psql -v ON_ERROR_STOP=1 -f THIS_FILE (every statement is safe to run again).`,
    'BEGIN;',
    `SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext(${quoteLiteral(lockName(schema))}));`,
    bootstrapSql(names.schema),
  ];
  for (const migration of migrations) {
    parts.push(
      `-- ${migration.name}`,
      migration.sql(names).trim(),
      `INSERT INTO ${names.schema}.schema_version (version, name) VALUES (${migration.version}, ${quoteLiteral(migration.name)}) ON CONFLICT (version) DO NOTHING;`,
    );
  }
  parts.push('COMMIT;', '');
  return parts.join('\n');
}

function bootstrapSql(schema: string): string {
  return [
    // Every name the migrations leave unqualified is pg_catalog's: no schema of the session's
    // search_path (one a user can create in) can put its functions, operators or tables in them.
    `SET LOCAL search_path = pg_catalog, pg_temp;`,
    `CREATE SCHEMA IF NOT EXISTS ${schema};`,
    `CREATE TABLE IF NOT EXISTS ${schema}.schema_version (version integer PRIMARY KEY, name text NOT NULL, installed_at timestamptz NOT NULL DEFAULT now());`,
    `GRANT SELECT ON ${schema}.schema_version TO PUBLIC;`,
  ].join('\n');
}

function lockName(schema: string): string {
  return `pg-event-bridge schema ${schema}`;
}

/** Returns `schema` when it can name the events schema; throws ERR_BRIDGE_CONFIG otherwise. */
export function checkSchemaName(schema: string): string {
  // The wake-up channel <schema>_outbox must fit NOTIFY's 63-byte limit.
  if (schema === '' || Buffer.byteLength(schema) > 56) {
    throw new BridgeError('ERR_BRIDGE_CONFIG', `[sql] Schema name "${schema}" must have 1 to 56 bytes`);
  }
  return schema;
}

/** Options of {@link renderGrantsSql}: the roles to grant to, each optional. */
export interface GrantsOptions extends SchemaOptions {
  /** The role the bridge connects as: drains the outbox, writes dead letters. */
  readonly bridgeRole?: string;
  /** An application role: sends, and writes tables that carry on_row_change() triggers. */
  readonly appRole?: string;
  /** An operator role: reads dead letters, deletes them and replays them. */
  readonly operatorRole?: string;
}

/**
 * The least-privilege GRANT statements for the roles that use the `events` schema, for an owner to
 * run after installing it. The bridge gets exactly what the outbox source and the dead-letter table
 * use (LISTEN, advisory locks and `pg_locks` need no grant); an application role what `send_message`
 * and the row-change trigger need once EXECUTE was revoked from PUBLIC; an operator what replaying
 * needs. None of them can write the outbox directly.
 *
 * @example
 * ```ts
 * await owner.query(renderGrantsSql({ bridgeRole: 'bridge', appRole: 'app' }));
 * ```
 */
export function renderGrantsSql(options: GrantsOptions): string {
  const s = quoteIdent(checkSchemaName(options.schema ?? defaultSchema));
  const lines: string[] = [];
  if (options.bridgeRole !== undefined) {
    const role = quoteIdent(options.bridgeRole);
    lines.push(
      `GRANT USAGE ON SCHEMA ${s} TO ${role};`,
      `GRANT SELECT, DELETE ON ${s}.outbox TO ${role};`,
      // The ordering horizon reads the sequence's last value.
      `GRANT SELECT ON SEQUENCE ${s}.outbox_id_seq TO ${role};`,
      `GRANT SELECT, INSERT, UPDATE ON ${s}.dead_letter TO ${role};`,
      `GRANT USAGE ON SEQUENCE ${s}.dead_letter_id_seq TO ${role};`,
    );
  }
  if (options.appRole !== undefined) {
    const role = quoteIdent(options.appRole);
    lines.push(
      `GRANT USAGE ON SCHEMA ${s} TO ${role};`,
      `GRANT EXECUTE ON FUNCTION ${s}.send_message(text, text, text, boolean), ${s}.send_message(text, text, text, boolean, boolean), ${s}.enqueue(text, text, text, jsonb, text), ${s}.flush(), ${s}.on_row_change() TO ${role};`,
    );
  }
  if (options.operatorRole !== undefined) {
    const role = quoteIdent(options.operatorRole);
    lines.push(
      `GRANT USAGE ON SCHEMA ${s} TO ${role};`,
      `GRANT SELECT, DELETE ON ${s}.dead_letter TO ${role};`,
      `GRANT EXECUTE ON FUNCTION ${s}.replay_dead_letters(bigint[], text, text) TO ${role};`,
    );
  }
  return lines.join('\n');
}
