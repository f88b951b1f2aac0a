import {
  allTargetKinds,
  defaultSlotName,
  defaultWal2jsonParams,
  messagePrefixProblem,
  parseRules,
  parseWalFilters,
  redactUri,
  silentLogger,
  type Rule,
  type UpstreamDefinition,
} from '@pg-event-bridge/core';
import { errorMessage } from '../error-message.js';
import { collectSecrets, markedSecretKeys } from './collect-secrets.js';
import { ConfigError } from './config-error.js';
import { gen1UpstreamName, sectionEnvName, upstreamEnvName, upstreamKeys } from './config-keys.js';
import type { BridgeSettings, DaemonConfig, DatabaseConfig, UpstreamSection } from './daemon-config.js';
import { didYouMean } from './did-you-mean.js';
import { describeKinds, findDefinition } from './find-definition.js';
import { emptyRawConfig, isEmptyRawConfig, mergeRawConfig, type RawConfig, type RawUpstream, type RawValue } from './raw-config.js';
import { readEnv } from './read-env.js';
import { readIni } from './read-ini.js';

/** Inputs of {@link loadConfig}: everything it reads, so it stays a pure function. */
export interface LoadConfigOptions {
  /** The environment (`process.env`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The ini file given on the command line, if any. */
  readonly file?: { readonly name: string; readonly text: string };
  /** The upstream kinds the daemon can run. */
  readonly definitions: readonly UpstreamDefinition[];
}

const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
const slotName = /^[a-z0-9_]{1,63}$/;

/**
 * Loads and validates the daemon's configuration from an optional ini file and the environment.
 * Variables override the file key by key. Checks everything (rules are parsed with each kind's
 * target kinds, kind settings go through the definition's `create()`, which does no I/O), and
 * throws one {@link ConfigError} listing every problem.
 *
 * @example
 * ```ts
 * const config = loadConfig({ env: process.env, definitions: upstreams });
 * ```
 */
export function loadConfig(options: LoadConfigOptions): DaemonConfig {
  const fromFile = options.file ? readIni(options.file.text, options.file.name) : { raw: emptyRawConfig(), problems: [] };
  const fromEnv = readEnv(options.env);
  const marked = markedSecretKeys(fromFile.raw, fromEnv.raw);
  const secrets = [...new Set([...collectSecrets(fromFile.raw, marked, options.env), ...collectSecrets(fromEnv.raw, marked)])].sort((a, b) => b.length - a.length);
  const raw = mergeRawConfig(fromFile.raw, fromEnv.raw);
  const problems = [...fromFile.problems, ...fromEnv.problems];

  if (isEmptyRawConfig(raw) && problems.length === 0) {
    throw new ConfigError(
      [
        options.file
          ? `${options.file.name} configures nothing: add a [database] section and an [upstream.NAME] section (see pg-event-bridge --help).`
          : 'No configuration: pass an ini file (pg-event-bridge /config.ini) or set PGPROXY_* variables (see pg-event-bridge --help).',
      ],
      secrets,
    );
  }

  const origins: Record<string, string> = {};
  const database = readDatabase(raw, problems, origins);
  const bridge = readBridge(raw, problems, origins);
  const upstreams: UpstreamSection[] = [];
  for (const upstream of raw.upstreams.values()) {
    const section = readUpstream(upstream, options.definitions, problems, origins);
    if (section) upstreams.push(section);
  }
  if (raw.upstreams.size === 0) {
    problems.push(
      'No upstream: add an [upstream.NAME] section with kind, uri and bridge_channels, or set PGPROXY_UPSTREAM-NAME-KIND, -URI and -BRIDGE_CHANNELS (generation 1: PGPROXY_LOCAL-UPSTREAM and PGPROXY_LOCAL-UPSTREAM_CONFIG-*).',
    );
  }
  const logLevel = readLogLevel(options.env, problems, origins);

  if (problems.length > 0) throw new ConfigError(problems, secrets);
  return deepFreeze({ database: database!, upstreams, bridge: bridge!, logLevel, origins, secrets });
}

function readDatabase(raw: RawConfig, problems: string[], origins: Record<string, string>): DatabaseConfig | undefined {
  const uri = raw.database.get('uri');
  const slot = raw.database.get('replication_slot');
  const params = raw.database.get('wal2json_params');
  const filters = raw.database.get('wal_filters');
  const publication = raw.database.get('publication');
  const install = raw.database.get('install_schema');
  const installSchema = install ? parseSwitch(install.value) : true;
  for (const [key, value] of raw.database) origins[`database.${key}`] = value.origin;
  for (const [key, value] of raw.bridge) origins[`bridge.${key}`] = value.origin;
  let ok = true;
  if (!uri) {
    ok = false;
    problems.push(`The database is not set: set uri in [database] of the ini file, ${sectionEnvName('database', 'uri')}, or PGPROXY_LOCAL-POSTGRESQL_URI.`);
  } else {
    const reason = checkUri(uri.value, ['postgres:', 'postgresql:']);
    if (reason) {
      ok = false;
      problems.push(`${shown(uri)}: ${reason}; write postgres://user:password@host:5432/database.`);
    }
  }
  if (slot && !slotName.test(slot.value)) {
    ok = false;
    problems.push(`${slot.origin} = "${clipValue(slot.value)}": a slot name has 1 to 63 lower-case letters, digits and underscores.`);
  }
  if (filters) {
    try {
      parseWalFilters(filters.value);
    } catch (error) {
      ok = false;
      problems.push(`${filters.origin}: ${errorMessage(error)}`);
    }
  }
  if (publication && publication.value.trim() === '') {
    ok = false;
    problems.push(`${publication.origin} is blank: name the publication, or remove the key for the default.`);
  }
  if (installSchema === undefined) {
    ok = false;
    problems.push(`${install!.origin} = "${clipValue(install!.value)}": write on or off.`);
  }
  const duration = (key: string, min: number, max: number, example: string): number | undefined => {
    const value = raw.database.get(key);
    if (!value) return undefined;
    const ms = parseDuration(value.value);
    if (ms !== undefined && ms >= min && ms <= max) return ms;
    ok = false;
    problems.push(`${value.origin} = "${clipValue(value.value)}": write a duration from ${min === 0 ? '0' : `${min}ms`} to ${max / 60_000}m, such as ${example}.`);
    return undefined;
  };
  const publicationRefreshMs = duration('publication_refresh_interval', 0, 3_600_000, '30s or 5m');
  const walReceiveTimeoutMs = duration('wal_receive_timeout', 1000, 3_600_000, '20s or 1m');
  const outboxOrderWaitMs = duration('outbox_order_wait', 1, 3_600_000, '10s or 1m');
  const prefixes = raw.database.get('wal_message_prefixes');
  const walMessagePrefixes = prefixes ? prefixes.value.split(',').map((prefix) => prefix.trim()).filter((prefix) => prefix !== '') : undefined;
  for (const prefix of walMessagePrefixes ?? []) {
    const problem = messagePrefixProblem(prefix);
    if (problem) {
      ok = false;
      problems.push(`${prefixes!.origin}: "${clipValue(prefix)}" cannot be forwarded; write ${problem}.`);
    }
  }
  if (!ok || !uri || installSchema === undefined) return undefined;
  return {
    uri: uri.value,
    replicationSlot: slot?.value ?? defaultSlotName,
    // pg-event-proxy's documented value escapes its quotes (\"format-version\"); the option list
    // itself never contains a backslash before a quote, so read \" as ".
    wal2jsonParams: (params?.value ?? defaultWal2jsonParams).replaceAll('\\"', '"'),
    ...(filters && { walFilters: filters.value }),
    ...(publication && { publication: publication.value.trim() }),
    installSchema,
    ...(publicationRefreshMs !== undefined && { publicationRefreshMs }),
    ...(walMessagePrefixes && walMessagePrefixes.length > 0 && { walMessagePrefixes }),
    ...(walReceiveTimeoutMs !== undefined && { walReceiveTimeoutMs }),
    ...(outboxOrderWaitMs !== undefined && { outboxOrderWaitMs }),
  };
}

function readBridge(raw: RawConfig, problems: string[], origins: Record<string, string>): BridgeSettings | undefined {
  let ok = true;
  const positive = (key: string, max: number, why: string): number | undefined => {
    const value = raw.bridge.get(key);
    if (!value) return undefined;
    const number = /^\d{1,16}$/.test(value.value.trim()) ? Number(value.value) : NaN;
    if (Number.isSafeInteger(number) && number > 0 && number <= max) return number;
    ok = false;
    problems.push(`${value.origin} = "${clipValue(value.value)}": write a whole number from 1 to ${max} (${why}).`);
    return undefined;
  };
  const timeout = raw.bridge.get('shutdown_timeout');
  const shutdownTimeoutMs = timeout ? parseDuration(timeout.value) : 10_000;
  if (shutdownTimeoutMs === undefined || shutdownTimeoutMs > maxShutdownTimeoutMs) {
    ok = false;
    problems.push(`${timeout!.origin} = "${clipValue(timeout!.value)}": write a duration from 0 to 1h such as 500ms, 10s or 1m (a bare number is seconds).`);
  }
  const maxInFlight = positive('max_in_flight', 1_000_000, 'each message in flight is held in memory');
  const maxInFlightBytes = positive('max_in_flight_bytes', 1_073_741_824, '1 GiB: the bytes are held in memory per target');

  const port = raw.bridge.get('metrics_port');
  const metricsPort = port ? Number(port.value.trim()) : 0;
  if (port && !(/^\d{1,5}$/.test(port.value.trim()) && metricsPort <= 65_535)) {
    ok = false;
    problems.push(`${port.origin} = "${clipValue(port.value)}": write a port number from 1 to 65535, or 0 to turn the metrics server off.`);
  }
  const host = raw.bridge.get('metrics_host');
  if (host && !/^[A-Za-z0-9.:_-]{1,253}$/.test(host.value.trim())) {
    ok = false;
    problems.push(`${host.origin} = "${clipValue(host.value)}": write an address to listen on, such as 127.0.0.1, 0.0.0.0 or ::.`);
  }
  const lock = raw.bridge.get('leader_lock');
  const leaderLock = lock ? parseSwitch(lock.value) : true;
  if (leaderLock === undefined) {
    ok = false;
    problems.push(`${lock!.origin} = "${clipValue(lock!.value)}": write on or off (true/false, yes/no, 1/0).`);
  }
  const key = raw.bridge.get('leader_lock_key');
  let leaderLockKey: bigint | undefined;
  if (key) {
    const text = key.value.trim();
    leaderLockKey = /^-?\d{1,20}$/.test(text) ? BigInt(text) : undefined;
    if (leaderLockKey === undefined || BigInt.asIntN(64, leaderLockKey) !== leaderLockKey) {
      ok = false;
      problems.push(`${key.origin} = "${clipValue(key.value)}": write a whole number from -9223372036854775808 to 9223372036854775807 (pg_try_advisory_lock takes a bigint).`);
    }
  }
  const poll = raw.bridge.get('leader_poll_interval');
  const leaderPollIntervalMs = poll ? parseDuration(poll.value) : 1000;
  if (leaderPollIntervalMs === undefined || leaderPollIntervalMs < 10 || leaderPollIntervalMs > maxPollIntervalMs) {
    ok = false;
    problems.push(`${poll!.origin} = "${clipValue(poll!.value)}": write a duration from 10ms to 10m, such as 500ms, 1s or 5s.`);
  }
  const token = raw.bridge.get('metrics_token');
  const tokenFile = raw.bridge.get('metrics_token_file');
  if (token) {
    const reason = checkMetricsToken(token.value);
    if (reason) {
      ok = false;
      // Named, never echoed: the value is a secret even when it is a bad one.
      problems.push(`${token.origin} ${reason}`);
    }
  }
  if (tokenFile && tokenFile.value.trim() === '') {
    ok = false;
    problems.push(`${tokenFile.origin} is blank: give the path of a file holding the token, or remove the key.`);
  }
  if (token && tokenFile) {
    ok = false;
    problems.push(`${token.origin} and ${tokenFile.origin} are both set: keep one of them.`);
  }
  const marked = raw.bridge.get('secret_keys');
  const secretKeys = (marked?.value ?? '').split(/[\s,]+/).filter((key) => key !== '').map((key) => key.toLowerCase());
  const badKey = secretKeys.find((key) => !/^[a-z0-9_]{1,64}$/.test(key));
  if (badKey !== undefined) {
    ok = false;
    problems.push(`${marked!.origin}: "${badKey.slice(0, 64)}" is not a key name; list key names such as user_agent, client_id, separated by commas.`);
  }
  if (!ok) return undefined;
  return {
    ...(token && { metricsToken: token.value.trim() }),
    ...(tokenFile && { metricsTokenFile: tokenFile.value.trim() }),
    secretKeys,
    shutdownTimeoutMs: shutdownTimeoutMs!,
    ...(maxInFlight && { maxInFlight }),
    ...(maxInFlightBytes && { maxInFlightBytes }),
    ...(metricsPort > 0 && { metricsPort }),
    metricsHost: host?.value.trim() ?? '127.0.0.1',
    leaderLock: leaderLock!,
    ...(leaderLockKey !== undefined && { leaderLockKey }),
    leaderPollIntervalMs: leaderPollIntervalMs!,
  };
}

/**
 * Why `token` cannot be the metrics token (a sentence to follow the key's name), or undefined.
 * Never quotes the value.
 */
export function checkMetricsToken(token: string): string | undefined {
  const text = token.trim();
  if (!/^[\x21-\x7e]+$/.test(text)) return 'holds characters a bearer token cannot carry (spaces, control or non-ASCII characters): use letters, digits and punctuation, e.g. the output of openssl rand -hex 32.';
  if (text.length < 16) return `is ${text.length} characters long: use at least 16, e.g. the output of openssl rand -hex 32.`;
  if (text.length > 1024) return `is ${text.length} characters long: use at most 1024.`;
  return undefined;
}

/** true for on/true/yes/1, false for off/false/no/0, undefined otherwise. */
function parseSwitch(text: string): boolean | undefined {
  const value = text.trim().toLowerCase();
  if (['on', 'true', 'yes', '1'].includes(value)) return true;
  if (['off', 'false', 'no', '0'].includes(value)) return false;
  return undefined;
}

function readUpstream(
  upstream: RawUpstream,
  definitions: readonly UpstreamDefinition[],
  problems: string[],
  origins: Record<string, string>,
): UpstreamSection | undefined {
  const { name, values } = upstream;
  const before = problems.length;
  for (const [key, value] of values) origins[`upstream.${name}.${key}`] = value.origin;

  const required = (key: string): RawValue | undefined => {
    const value = values.get(key);
    if (!value) {
      const gen1 = name === gen1UpstreamName ? `, or ${upstreamKeys.find((spec) => spec.key === key)!.gen1}` : '';
      problems.push(`Upstream "${name}" has no ${key}: set ${key} in [upstream.${name}] of the ini file, ${upstreamEnvName(name, key)}${gen1}.`);
    }
    return value;
  };

  const kind = required('kind');
  const definition = kind && findDefinition(kind.value, definitions);
  if (kind && !definition) {
    problems.push(`${kind.origin} = "${clipValue(kind.value)}": unknown upstream kind${didYouMean(kind.value.slice(0, 64), definitions.flatMap((d) => [d.kind, ...(d.aliases ?? [])]))}; known kinds: ${describeKinds(definitions)}.`);
  }

  const uri = required('uri');
  const uriProblem = uri && checkUri(uri.value);
  if (uri && uriProblem) problems.push(`${shown(uri)}: ${uriProblem}; write scheme://[user:password@]host[:port][/path], e.g. amqp://user:pass@rabbitmq//.`);

  const channels = required('bridge_channels');
  let rules: Rule[] = [];
  if (channels) {
    try {
      // Without a known kind the syntax can still be checked, against every target kind there is.
      rules = parseRules(channels.value, definition ? { upstream: definition.kind, targetKinds: definition.targetKinds } : { upstream: name, targetKinds: allTargetKinds });
    } catch (error) {
      problems.push(`${channels.origin}: ${errorMessage(error)}`);
    }
  }

  const common = new Set(upstreamKeys.map((spec) => spec.key));
  const settings: Record<string, string> = {};
  for (const [key, value] of values) if (!common.has(key)) settings[key] = value.value;
  if (definition) {
    const known = definition.settings.map((setting) => setting.key);
    for (const key of Object.keys(settings)) {
      if (known.includes(key)) continue;
      const accepts = known.length > 0 ? `${definition.kind} accepts: ${known.join(', ')}` : `${definition.kind} takes no other keys`;
      problems.push(`${values.get(key)!.origin} is not a setting of ${definition.kind}${didYouMean(key, [...known, ...common])}; ${accepts}.`);
    }
  }

  if (problems.length > before || !definition) return undefined;
  try {
    definition.create({ name, uri: uri!.value, settings, logger: silentLogger });
  } catch (error) {
    const message = errorMessage(error);
    const mentioned = Object.keys(settings).filter((key) => new RegExp(`\\b${key}\\b`, 'i').test(message));
    const where = mentioned.length > 0 ? mentioned.map((key) => values.get(key)!.origin).join(', ') : `[upstream.${name}]`;
    problems.push(`${where}: ${message}`);
    return undefined;
  }
  return { name, kind: definition.kind, uri: uri!.value, bridgeChannels: channels!.value, rules, settings };
}

function readLogLevel(env: Readonly<Record<string, string | undefined>>, problems: string[], origins: Record<string, string>): string {
  const explicit = env['LOG_LEVEL']?.trim().toLowerCase();
  if (explicit) {
    origins['log_level'] = 'LOG_LEVEL';
    if (logLevels.includes(explicit)) return explicit;
    problems.push(`LOG_LEVEL = "${clipValue(env['LOG_LEVEL']!)}": use one of ${logLevels.join(', ')}.`);
    return 'info';
  }
  // pg-event-proxy setups say RUST_LOG=pg_event_proxy=debug; take the most verbose level named.
  const named = (env['RUST_LOG'] ?? '').toLowerCase().split(/[^a-z_]+/);
  const level = ['trace', 'debug', 'info', 'warn', 'error'].find((candidate) => named.includes(candidate)) ?? (named.includes('off') ? 'silent' : undefined);
  if (level) origins['log_level'] = 'RUST_LOG';
  return level ?? 'info';
}

/** Why `value` is not a usable URI, or undefined when it is. */
function checkUri(value: string, schemes?: readonly string[]): string | undefined {
  let url: URL;
  try {
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) throw new TypeError('no scheme');
    url = new URL(value);
  } catch {
    return 'not a valid URI (percent-encode special characters such as @ # / in the password)';
  }
  if (schemes && !schemes.includes(url.protocol)) return `the scheme must be ${schemes.map((scheme) => `${scheme}//`).join(' or ')}`;
  return undefined;
}

/** `ORIGIN = "uri with the password hidden"`, even when the URI does not parse. */
function shown(value: RawValue): string {
  const uri = value.value;
  let text = redactUri(uri);
  if (!URL.canParse(uri)) {
    // redactUri stops at a `#` or `/` in the password; hide everything up to the last `@`.
    const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(uri)?.[0];
    const at = uri.lastIndexOf('@');
    if (scheme && at !== -1) text = `${scheme}***@${uri.slice(at + 1)}`;
  }
  return `${value.origin} = "${text}"`;
}


// Beyond these, setTimeout would overflow (2^31 ms) or a daemon would look hung.
const maxShutdownTimeoutMs = 3_600_000;
const maxPollIntervalMs = 600_000;

/** A value as shown in an error: at most 100 characters. */
function clipValue(text: string): string {
  return text.length <= 100 ? text : `${text.slice(0, 100)}… (${text.length} characters)`;
}

/** Milliseconds of `500ms`, `10s`, `1m`, `1h` or `10` (seconds); undefined when unreadable. */
function parseDuration(text: string): number | undefined {
  const match = /^\s*(\d{1,12}(?:\.\d{1,6})?)\s*(ms|s|m|h)?\s*$/i.exec(text);
  if (!match) return undefined;
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's').toLowerCase() as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(match[1]) * factor);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
