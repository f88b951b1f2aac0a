import type { UpstreamDefinition } from '@pg-event-bridge/core';
import {
  bridgeKeys,
  databaseKeys,
  gen1UpstreamPrefix,
  loggingKeys,
  sectionEnvName,
  upstreamEnvName,
  upstreamKeys,
  type KeySpec,
} from './config/config-keys.js';

/** The text of `pg-event-bridge --help`: every key in its ini and variable forms, every kind's settings. */
export function renderHelp(definitions: readonly UpstreamDefinition[], version: string): string {
  const out: string[] = [];
  const key = (spec: KeySpec, env: string[], indent = '  ') => {
    const note = spec.required ? ' (required)' : spec.default !== undefined ? ` (default: ${spec.default})` : '';
    out.push(`${indent}${spec.key}${note}`, `${indent}    ${spec.description}`);
    if (env.length > 0) out.push(`${indent}    ${env.join('  |  ')}`);
  };
  const forms = (spec: KeySpec, env: string) => [`env ${env}`, ...(spec.gen1 ? [`generation 1: ${spec.gen1}`] : [])];

  out.push(
    `pg-event-bridge ${version}: forwards PostgreSQL events (LISTEN/NOTIFY, WAL, outbox) to brokers.`,
    `Configured like subzero's pg-event-proxy: the same ini file, the same PGPROXY_ variables.`,
    '',
    'Usage',
    '  pg-event-bridge [FILE.ini]                run the bridge',
    '  pg-event-bridge check-config [FILE.ini]   validate, print the effective configuration (secrets hidden)',
    '  pg-event-bridge install-sql [--print] [FILE.ini]',
    '                                            install or upgrade the events schema (outbox, dead letters,',
    '                                            send_message, on_row_change); --print shows the SQL instead',
    '  pg-event-bridge replay-dead-letters [--id N ...] [--upstream NAME] [--channel NAME] [FILE.ini]',
    '                                            move dead letters (all, or those selected) back into the outbox',
    '  pg-event-bridge --help | --version',
    '',
    'Configuration comes from the ini file and from environment variables. A variable overrides the',
    'same key of the file. Variables are PGPROXY_<SECTION>-<KEY> (PGPROXY_UPSTREAM-<NAME>-<KEY> for',
    '[upstream.NAME]), upper-case. pg-event-proxy generation-1 variables (PGPROXY_LOCAL-*) configure',
    'the database and one upstream named "local". Empty variables count as unset; an unknown',
    'PGPROXY_ variable or ini key is an error. All problems are reported at once, before connecting.',
    '',
    '[database]',
  );
  for (const spec of databaseKeys) key(spec, forms(spec, sectionEnvName('database', spec.key)));

  out.push('', '[upstream.NAME]   (any number of them; NAME is yours)');
  for (const spec of upstreamKeys) key(spec, forms(spec, upstreamEnvName('<NAME>', spec.key)));
  out.push(
    '',
    'Upstream kinds, with the keys each one adds to its section',
    `(env PGPROXY_UPSTREAM-<NAME>-<KEY>  |  generation 1: ${gen1UpstreamPrefix}<KEY>)`,
  );
  for (const definition of definitions) {
    const aliases = definition.aliases?.length ? ` (or ${definition.aliases.join(', ')})` : '';
    out.push(`  kind=${definition.kind}${aliases}: ${definition.description}`, `    targets: ${definition.targetKinds.map((kind) => `${kind}:NAME`).join(', ')}`);
    for (const setting of definition.settings) key({ ...setting }, [], '    ');
  }

  out.push('', "[bridge]   (pg-event-bridge's own keys)");
  for (const spec of bridgeKeys) key(spec, forms(spec, sectionEnvName('bridge', spec.key)));

  out.push('', 'Environment only');
  for (const spec of loggingKeys) key(spec, []);

  out.push(
    '',
    'Rules (bridge_channels): "source->kind:name, ...". source is a NOTIFY channel (case-sensitive),',
    'or wal2json / pgoutput for logical replication. The name is split at the first ":" only, so',
    'ARNs work. A NOTIFY payload "key|body" is sent with routing key "key" and body "body".',
    '',
    'Example',
    "  env 'PGPROXY_LOCAL-POSTGRESQL_URI=postgres://app@db/app' 'PGPROXY_LOCAL-UPSTREAM=amqp' \\",
    "      'PGPROXY_LOCAL-UPSTREAM_CONFIG-URI=amqp://user:pass@rabbitmq//' \\",
    "      'PGPROXY_LOCAL-UPSTREAM_CONFIG-BRIDGE_CHANNELS=events->exchange:amq.topic' pg-event-bridge",
    'or the same as an ini file, run as pg-event-bridge /config.ini:',
    '  [database]',
    '  uri = postgres://app@db/app',
    '  [upstream.myamqp]',
    '  kind = amqp',
    '  uri = amqp://user:pass@rabbitmq//',
    '  bridge_channels = events->exchange:amq.topic',
    '',
    'Logs are JSON lines on stdout. SIGTERM or SIGINT drains in-flight messages and exits; a second',
    'signal exits at once.',
    '',
    'Exit codes',
    '  0  stopped by SIGTERM/SIGINT after draining; --help, --version, check-config passed',
    '  1  could not start (Postgres or a broker unreachable, a target missing) or failed while running',
    '  2  invalid configuration or command line; nothing was connected',
  );
  return `${out.join('\n')}\n`;
}
