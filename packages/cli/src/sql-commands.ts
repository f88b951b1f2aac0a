import { parseArgs } from 'node:util';
import { connectDedicated, installSchema, renderSchemaSql, withDeadline } from '@pg-event-bridge/core';
import { collectSecrets, markedSecretKeys } from './config/collect-secrets.js';
import { sectionEnvName } from './config/config-keys.js';
import { readConfigFile } from './config/read-config-file.js';
import { mergeRawConfig } from './config/raw-config.js';
import { readEnv } from './config/read-env.js';
import { readIni } from './config/read-ini.js';
import type { RunDaemonOptions } from './daemon.js';
import { errorMessage } from './error-message.js';
import { redactSecrets } from './redact-secrets.js';

// A command on a database that stopped answering ends after this (or at SIGINT/SIGTERM).
const commandTimeoutMs = 600_000;

/** The commands that work on the `events` schema rather than run the bridge. */
export const sqlCommands = ['install-sql', 'replay-dead-letters'] as const;

const usage = {
  'install-sql': 'pg-event-bridge install-sql [--print] [FILE.ini]',
  'replay-dead-letters': 'pg-event-bridge replay-dead-letters [--id N ...] [--upstream NAME] [--channel NAME] [FILE.ini]',
} as const;

/**
 * `install-sql [--print] [FILE]`: installs or upgrades the `events` schema in the configured
 * database, or prints its SQL for review (no configuration needed).
 * `replay-dead-letters [--id N]... [--upstream NAME] [--channel NAME] [FILE]`: moves dead letters
 * (all, or those selected) back into the outbox. Both read only `[database] uri` of the usual
 * configuration (ini file and/or PGPROXY_ variables). Resolve with the exit code.
 */
export async function runSqlCommand(command: (typeof sqlCommands)[number], options: RunDaemonOptions): Promise<number> {
  const { stdout, stderr } = options;
  let values: { print?: boolean; id?: string[]; upstream?: string; channel?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: options.argv.slice(1),
      options:
        command === 'install-sql'
          ? { print: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }
          : { id: { type: 'string', multiple: true }, upstream: { type: 'string' }, channel: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    }));
    if (positionals.length > 1) throw new Error(`expected at most one configuration file, got ${positionals.length}: ${positionals.join(' ')}`);
    if (values.id?.some((id) => !/^\d+$/.test(id))) throw new Error(`--id takes the id of a dead letter (a whole number), got ${values.id.find((id) => !/^\d+$/.test(id))}`);
  } catch (error) {
    stderr.write(`pg-event-bridge ${command}: ${(error as Error).message}\nUsage: ${usage[command]}\n`);
    return 2;
  }
  if (values.help) {
    stdout.write(`Usage: ${usage[command]}\n`);
    return 0;
  }
  if (command === 'install-sql' && values.print) {
    stdout.write(renderSchemaSql());
    return 0;
  }

  const file = positionals[0];
  let text: string | undefined;
  if (file !== undefined) {
    try {
      text = await (options.readFile ?? ((path) => readConfigFile(path)))(file);
    } catch (error) {
      stderr.write(`pg-event-bridge ${command}: cannot read the configuration file ${file}: ${(error as Error).message}\n`);
      return 2;
    }
  }
  const fromFile = text !== undefined && file !== undefined ? readIni(text, file).raw : undefined;
  const fromEnv = readEnv(options.env).raw;
  const raw = fromFile ? mergeRawConfig(fromFile, fromEnv) : fromEnv;
  const marked = markedSecretKeys(...(fromFile ? [fromFile] : []), fromEnv);
  const secrets = [...new Set([...(fromFile ? collectSecrets(fromFile, marked) : []), ...collectSecrets(fromEnv, marked, options.env)])];
  const uri = raw.database.get('uri')?.value;
  if (!uri) {
    stderr.write(`pg-event-bridge ${command}: no database: set uri in [database] of the ini file, ${sectionEnvName('database', 'uri')}, or PGPROXY_LOCAL-POSTGRESQL_URI.\n`);
    return 2;
  }

  try {
    if (command === 'install-sql') {
      const result = await withDeadline(() => installSchema(uri), commandTimeoutMs, 'Installing the events schema', { signal: options.signal });
      stdout.write(result.applied.length > 0 ? `Installed the events schema, version ${result.version} (${result.applied.join(', ')}).\n` : `The events schema is up to date (version ${result.version}).\n`);
      return 0;
    }
    const connection = await connectDedicated(uri);
    try {
      const result = await withDeadline(
        () =>
          connection.client.query<{ n: number }>(`SELECT events.replay_dead_letters($1::bigint[], $2, $3) AS n`, [values.id ?? null, values.upstream ?? null, values.channel ?? null]),
        commandTimeoutMs,
        'Replaying dead letters',
        { signal: options.signal },
      );
      stdout.write(`Queued ${result.rows[0]?.n ?? 0} dead letter(s) in events.outbox; a running bridge delivers them.\n`);
      return 0;
    } finally {
      await connection.release();
    }
  } catch (error) {
    stderr.write(redactSecrets(`pg-event-bridge ${command}: ${errorMessage(error)}\n`, secrets));
    return 1;
  }
}
