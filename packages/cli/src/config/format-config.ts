import { redactUri } from '@pg-event-bridge/core';
import { redactSecrets } from '../redact-secrets.js';
import { isHeadersKey, isSecretKey } from './collect-secrets.js';
import type { DaemonConfig } from './daemon-config.js';

/**
 * The effective configuration as a generation-2 ini file, passwords hidden, each value followed by
 * where it came from. What `pg-event-bridge check-config` prints; also a way to turn
 * generation-1 variables into an ini file.
 */
export function formatConfig(config: DaemonConfig): string {
  const lines = [`; pg-event-bridge effective configuration (secrets shown as ***), log level ${config.logLevel} (${config.origins['log_level'] ?? 'default'})`];
  const entry = (path: string, key: string, value: string) => {
    const escaped = value.replace(/[;#]/g, (char) => `\\${char}`);
    lines.push(`${key} = ${escaped}  ; ${config.origins[path] ?? 'default'}`);
  };

  lines.push('', '[database]');
  const uri = redactUri;
  const marked = config.bridge.secretKeys;
  entry('database.uri', 'uri', uri(config.database.uri));
  entry('database.replication_slot', 'replication_slot', config.database.replicationSlot);
  entry('database.wal2json_params', 'wal2json_params', config.database.wal2jsonParams);
  if (config.database.walFilters) entry('database.wal_filters', 'wal_filters', config.database.walFilters);
  if (config.database.publication) entry('database.publication', 'publication', config.database.publication);
  entry('database.install_schema', 'install_schema', config.database.installSchema ? 'on' : 'off');

  for (const upstream of config.upstreams) {
    const path = (key: string) => `upstream.${upstream.name}.${key}`;
    lines.push('', `[upstream.${upstream.name}]`);
    entry(path('kind'), 'kind', upstream.kind);
    entry(path('uri'), 'uri', upstream.uri.trim() === '' ? '' : uri(upstream.uri));
    entry(path('bridge_channels'), 'bridge_channels', redactSecrets(upstream.bridgeChannels, []));
    for (const [key, value] of Object.entries(upstream.settings)) {
      entry(path(key), key, isSecretKey(key, marked) ? '***' : isHeadersKey(key) ? shownHeaders(value) : redactSecrets(value, []));
    }
  }

  lines.push('', '[bridge]');
  const timeout = config.bridge.shutdownTimeoutMs;
  entry('bridge.shutdown_timeout', 'shutdown_timeout', timeout % 1000 === 0 ? `${timeout / 1000}s` : `${timeout}ms`);
  if (config.bridge.maxInFlight) entry('bridge.max_in_flight', 'max_in_flight', String(config.bridge.maxInFlight));
  if (config.bridge.maxInFlightBytes) entry('bridge.max_in_flight_bytes', 'max_in_flight_bytes', String(config.bridge.maxInFlightBytes));
  entry('bridge.metrics_port', 'metrics_port', String(config.bridge.metricsPort ?? 0));
  entry('bridge.metrics_host', 'metrics_host', config.bridge.metricsHost);
  if (config.bridge.metricsToken !== undefined) entry('bridge.metrics_token', 'metrics_token', '***');
  if (config.bridge.metricsTokenFile !== undefined) entry('bridge.metrics_token_file', 'metrics_token_file', config.bridge.metricsTokenFile);
  if (marked.length > 0) entry('bridge.secret_keys', 'secret_keys', marked.join(', '));
  entry('bridge.leader_lock', 'leader_lock', config.bridge.leaderLock ? 'on' : 'off');
  if (config.bridge.leaderLockKey !== undefined) entry('bridge.leader_lock_key', 'leader_lock_key', String(config.bridge.leaderLockKey));
  const poll = config.bridge.leaderPollIntervalMs;
  entry('bridge.leader_poll_interval', 'leader_poll_interval', poll % 1000 === 0 ? `${poll / 1000}s` : `${poll}ms`);
  return `${lines.join('\n')}\n`;
}

/** A headers object with its names and every value hidden: `{"Authorization":"***"}`. */
function shownHeaders(text: string): string {
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed === 'object' && parsed !== null) return JSON.stringify(Object.fromEntries(Object.keys(parsed).map((name) => [name, '***'])));
  } catch {
    // Unreadable JSON may still hold a token.
  }
  return '***';
}
