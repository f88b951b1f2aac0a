import { parseArgs } from 'node:util';
import { BridgeError, createBridge, installSchema, redactUri, withDeadline, type Bridge, type Publisher, type UpstreamDefinition } from '@pg-event-bridge/core';
import { pino } from 'pino';
import { ConfigError } from './config/config-error.js';
import type { DaemonConfig } from './config/daemon-config.js';
import { findDefinition } from './config/find-definition.js';
import { formatConfig } from './config/format-config.js';
import { checkMetricsToken, loadConfig } from './config/load-config.js';
import { readConfigFile } from './config/read-config-file.js';
import { errorMessage } from './error-message.js';
import { acquireLeadership, deriveLockKey, type Leadership } from './leader/leader-lock.js';
import { DaemonMonitor } from './metrics/daemon-monitor.js';
import { startPostgresProbe } from './metrics/postgres-probe.js';
import { startMetricsServer, type MetricsServer } from './server/metrics-server.js';
import { redactSecrets } from './redact-secrets.js';
import { renderHelp } from './render-help.js';
import { runSqlCommand, sqlCommands } from './sql-commands.js';
import { upstreams } from './upstreams.js';
import { version } from './version.js';

/** Something text can be written to: `process.stdout`, or a test's collector. */
export interface TextSink {
  write(text: string): unknown;
}

/** Inputs of {@link runDaemon}; the CLI passes the process's, tests their own. */
export interface RunDaemonOptions {
  /** Arguments after the executable: `process.argv.slice(2)`. */
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Receives the JSON log lines, `--help`, `--version` and `check-config` output. */
  readonly stdout: TextSink;
  /** Receives configuration and usage errors. */
  readonly stderr: TextSink;
  /** Aborting it stops the bridge gracefully; the CLI aborts it on SIGTERM and SIGINT. */
  readonly signal?: AbortSignal;
  /** Reads the ini file and the metrics token file. @default reads at most 10 MiB of the file */
  readonly readFile?: (path: string) => Promise<string>;
  /** The upstream kinds to accept. @default {@link upstreams} */
  readonly definitions?: readonly UpstreamDefinition[];
}

/** Exit codes of the daemon. */
export const exitCodes = {
  /** Stopped after draining, or a command (help, version, check-config) succeeded. */
  ok: 0,
  /** Could not start (Postgres or a broker unreachable, a target missing) or failed running. */
  failed: 1,
  /** Invalid configuration or command line; nothing was connected. */
  usage: 2,
} as const;

// Beyond the drain timeout, how long publishers and Postgres get to close before we give up.
const closeGraceMs = 5_000;
// Installing or upgrading the schema takes well under a second; a minute means Postgres is gone.
const installTimeoutMs = 60_000;

/**
 * Runs the `pg-event-bridge` command: `--help`, `--version`, `check-config [FILE]`, or the daemon
 * itself until `signal` aborts. Resolves with the process exit code (see {@link exitCodes});
 * never calls `process.exit` and installs no signal handler.
 *
 * @example
 * ```ts
 * const code = await runDaemon({ argv: ['/config.ini'], env: process.env, stdout: process.stdout, stderr: process.stderr, signal });
 * ```
 */
export async function runDaemon(options: RunDaemonOptions): Promise<number> {
  const { stdout, stderr } = options;
  const definitions = options.definitions ?? upstreams;

  const sqlCommand = sqlCommands.find((command) => command === options.argv[0]);
  if (sqlCommand) return runSqlCommand(sqlCommand, options);

  let args: ReturnType<typeof parseCommandLine>;
  try {
    args = parseCommandLine(options.argv);
  } catch (error) {
    stderr.write(`pg-event-bridge: ${(error as Error).message}\nUsage: pg-event-bridge [check-config] [FILE.ini]; see pg-event-bridge --help.\n`);
    return exitCodes.usage;
  }
  if (args.help) {
    stdout.write(renderHelp(definitions, version));
    return exitCodes.ok;
  }
  if (args.version) {
    stdout.write(`${version}\n`);
    return exitCodes.ok;
  }

  let file: { name: string; text: string } | undefined;
  if (args.file !== undefined) {
    try {
      file = { name: args.file, text: await (options.readFile ?? ((path) => readConfigFile(path)))(args.file) };
    } catch (error) {
      stderr.write(`pg-event-bridge: cannot read the configuration file ${args.file}: ${(error as Error).message}\n`);
      return exitCodes.usage;
    }
  }

  let config: DaemonConfig;
  try {
    config = loadConfig({ env: options.env, ...(file && { file }), definitions });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    stderr.write(redactSecrets(`pg-event-bridge: ${error.message}\nNothing was started. See pg-event-bridge --help for every key.\n`, error.secrets));
    return exitCodes.usage;
  }
  let token: string | undefined;
  try {
    token = await readMetricsToken(config, options.readFile ?? ((path) => readConfigFile(path, maxTokenFileBytes)));
  } catch (error) {
    stderr.write(redactSecrets(`pg-event-bridge: ${(error as Error).message}\nNothing was started.\n`, config.secrets));
    return exitCodes.usage;
  }
  if (args.command === 'check-config') {
    stdout.write(redactSecrets(formatConfig(config), config.secrets));
    return exitCodes.ok;
  }
  return serve(config, definitions, options, token);
}

// A token file is one line; anything much larger is not one (and is not read whole).
const maxTokenFileBytes = 4096;

/** The metrics token, from `metrics_token` or the file `metrics_token_file` names; checked. */
async function readMetricsToken(config: DaemonConfig, read: (path: string) => Promise<string>): Promise<string | undefined> {
  const path = config.bridge.metricsTokenFile;
  if (path === undefined) return config.bridge.metricsToken;
  const origin = config.origins['bridge.metrics_token_file'] ?? 'metrics_token_file';
  let text: string;
  try {
    text = await read(path);
  } catch (error) {
    throw new Error(`${origin}: cannot read ${path}: ${errorMessage(error)}`);
  }
  if (text.length > maxTokenFileBytes) throw new Error(`${origin}: ${path} holds ${text.length} characters; a token file holds one token of at most 1024.`);
  const token = text.replace(/\r?\n$/, '');
  const reason = checkMetricsToken(token);
  if (reason) throw new Error(`${origin}: the token in ${path} ${reason}`);
  return token.trim();
}

function parseCommandLine(argv: readonly string[]) {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'V' } },
    allowPositionals: true,
    strict: true,
  });
  const command = positionals[0] === 'check-config' ? 'check-config' : 'run';
  const rest = command === 'check-config' ? positionals.slice(1) : positionals;
  if (rest.length > 1) throw new Error(`expected at most one configuration file, got ${rest.length}: ${rest.join(' ')}`);
  return { command, file: rest[0], help: values.help === true, version: values.version === true };
}

async function serve(config: DaemonConfig, definitions: readonly UpstreamDefinition[], options: RunDaemonOptions, token: string | undefined): Promise<number> {
  const secrets = token === undefined ? config.secrets : [...config.secrets, token].sort((a, b) => b.length - a.length);
  const shownUri = redactUri;
  const logger = pino(
    {
      level: config.logLevel,
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    { write: (line: string) => options.stdout.write(redactSecrets(line, secrets)) },
  );
  const { shutdownTimeoutMs, maxInFlight, maxInFlightBytes } = config.bridge;

  const proxyApplicationName = 'pg-event-proxy';
  // One bridge per leadership term: a stopped bridge cannot start again.
  const makeBridge = (): Bridge => {
    const bindings = config.upstreams.map((upstream) => {
      const definition = findDefinition(upstream.kind, definitions)!;
      const publisher: Publisher = definition.create({
        name: upstream.name,
        uri: upstream.uri,
        settings: upstream.settings,
        logger: logger.child({ upstream: upstream.name }),
        env: options.env,
      });
      return { name: upstream.name, publisher, rules: upstream.rules };
    });
    const { replicationSlot, wal2jsonParams, walFilters, publication, publicationRefreshMs, walMessagePrefixes, walReceiveTimeoutMs, outboxOrderWaitMs } = config.database;
    return createBridge({
      postgres: config.database.uri,
      upstreams: bindings,
      logger,
      delivery: { ...(maxInFlight && { maxInFlight }), ...(maxInFlightBytes && { maxInFlightBytes }) },
      // pg-event-proxy's SQL helper checks pg_stat_activity for this name before sending NOTIFY
      // directly; keeping it makes the daemon a drop-in for databases that still use that helper.
      notify: { applicationName: proxyApplicationName },
      outbox: { applicationName: proxyApplicationName, ...(outboxOrderWaitMs !== undefined && { orderWaitMs: outboxOrderWaitMs }) },
      deadLetter: 'table',
      wal: {
        applicationName: proxyApplicationName,
        slot: replicationSlot,
        wal2jsonParams,
        ...(walFilters && { filters: walFilters }),
        ...(publication && { publication }),
        ...(publicationRefreshMs !== undefined && { publicationRefreshMs }),
        ...(walMessagePrefixes && { messagePrefixes: walMessagePrefixes }),
        ...(walReceiveTimeoutMs !== undefined && { receiveTimeoutMs: walReceiveTimeoutMs }),
      },
    });
  };
  let firstBridge: Bridge | undefined;
  try {
    firstBridge = makeBridge();
  } catch (error) {
    // loadConfig ran the same checks, so this is a combination only createBridge knows about.
    logger.fatal({ code: codeOf(error) }, `[cli] Invalid configuration: ${errorMessage(error)}`);
    return exitCodes.usage;
  }

  const monitor = new DaemonMonitor({
    upstreams: config.upstreams,
    redact: (text) => redactSecrets(text.replace(/[a-z][a-z0-9+.-]*:\/\/\S+/gi, (uri) => shownUri(uri)), secrets),
    leaderLock: config.bridge.leaderLock,
  });
  const slots = walSlots(config);

  const stopRequested = new Promise<'stop'>((resolve) => {
    if (options.signal?.aborted) resolve('stop');
    options.signal?.addEventListener('abort', () => resolve('stop'), { once: true });
  });

  /** Runs one bridge until a signal, a failed source, or (with leader_lock) the loss of the lock. */
  const runTerm = async (bridge: Bridge, lost?: Promise<Error>): Promise<number | 'lost'> => {
    const detach = monitor.attach(bridge);
    bridge.on('published', ({ event, upstream, target, attempts, latencyMs }) => {
      if (!logger.isLevelEnabled('debug')) return;
      // pg-event-proxy printed every forwarded message at debug; so do we, the body capped at 1 KiB.
      logger.debug(
        {
          upstream,
          source: event.source,
          target: redactSecrets(`${target.kind}:${target.name}`, secrets),
          routingKey: event.routingKey,
          bytes: event.body.length,
          body: event.body.toString('utf8', 0, 1024),
          attempts,
          latencyMs: Math.round(latencyMs),
        },
        '[cli] Forwarded',
      );
    });
    bridge.on('disconnected', ({ source, error }) => logger.warn({ source, err: error }, '[cli] Source disconnected; reconnecting'));
    // A source that gave up (a replication slot dropped under us...) needs an operator: stop and
    // exit non-zero so a supervisor notices, rather than run on half-deaf. Core logged the cause.
    const failed = new Promise<'failed'>((resolve) => bridge.once('failed', () => resolve('failed')));

    const stop = async (code: number = exitCodes.ok): Promise<number> => {
      logger.info({ timeoutMs: shutdownTimeoutMs }, '[cli] Stopping: draining in-flight messages');
      let timer: NodeJS.Timeout | undefined;
      const stopped = await Promise.race([
        bridge.stop({ timeoutMs: shutdownTimeoutMs }).then(() => true),
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), shutdownTimeoutMs + closeGraceMs);
        }),
      ]);
      clearTimeout(timer);
      detach();
      if (!stopped) {
        logger.error({ timeoutMs: shutdownTimeoutMs + closeGraceMs }, '[cli] Connections did not close in time; exiting anyway');
        return exitCodes.failed;
      }
      logger.info({ ...bridge.stats() }, '[cli] Stopped');
      return code;
    };

    // A signal during start() stops the bridge, which makes start() reject: that is a clean exit.
    void stopRequested.then(() => bridge.stop({ timeoutMs: shutdownTimeoutMs }));
    try {
      // A signal must get through even when Postgres never answers the installer.
      if (config.database.installSchema) await withDeadline(() => installSchema(config.database.uri, { logger }), installTimeoutMs, 'Installing the events schema', { signal: options.signal });
      await bridge.start();
    } catch (error) {
      if (options.signal?.aborted) return stop();
      logger.error({ code: codeOf(error) }, `[cli] Could not start: ${errorMessage(error)}`);
      await Promise.race([bridge.stop({ timeoutMs: 0 }), new Promise((resolve) => setTimeout(resolve, closeGraceMs).unref())]);
      detach();
      return exitCodes.failed;
    }
    logger.info({ upstreams: config.upstreams.map((upstream) => upstream.name) }, '[cli] Ready');
    const reason = await Promise.race([stopRequested, failed, ...(lost ? [lost] : [])]);
    if (reason instanceof Error) {
      logger.error({ err: reason }, '[cli] Lost the leader lock connection; stopping the bridge and going back to standby');
      await stop();
      return 'lost';
    }
    if (reason === 'failed') logger.error({}, '[cli] A source failed; stopping');
    return stop(reason === 'failed' ? exitCodes.failed : exitCodes.ok);
  };

  /** With leader_lock: wait for the lock, run the bridge while holding it, start over when it is lost. */
  const runWithLeaderLock = async (): Promise<number> => {
    const key = config.bridge.leaderLockKey ?? deriveLockKey(config.database.replicationSlot, config.upstreams.map((upstream) => ({ name: upstream.name, rules: upstream.rules })));
    for (let term = 1; ; term++) {
      let leadership: Leadership | undefined;
      try {
        leadership = await acquireLeadership({
          postgres: config.database.uri,
          key,
          pollIntervalMs: config.bridge.leaderPollIntervalMs,
          slots,
          applicationName: proxyApplicationName,
          logger,
          ...(options.signal && { signal: options.signal }),
          failFast: term === 1,
          onStandby: () => {
            monitor.setRole('standby');
            logger.info({ lockKey: key.toString() }, '[cli] Standby: another daemon holds the leader lock; waiting to take over');
          },
        });
      } catch (error) {
        logger.error({ code: codeOf(error) }, `[cli] Could not start: ${errorMessage(error)}`);
        return exitCodes.failed;
      }
      if (!leadership) {
        logger.info({}, '[cli] Stopped');
        return exitCodes.ok;
      }
      monitor.setRole('leader');
      logger.info({ lockKey: key.toString(), term }, '[cli] Leader: holding the leader lock; starting the bridge');
      const bridge = term === 1 ? firstBridge! : makeBridge();
      const outcome = await runTerm(bridge, leadership.lost);
      await leadership.release();
      if (outcome !== 'lost') return outcome;
      monitor.setRole('standby');
    }
  };

  logger.info(
    {
      version,
      database: shownUri(config.database.uri),
      upstreams: config.upstreams.map((upstream) => ({ name: upstream.name, kind: upstream.kind, uri: shownUri(upstream.uri), rules: upstream.rules.map((rule) => redactSecrets(rule.text, secrets)) })),
      leaderLock: config.bridge.leaderLock,
    },
    '[cli] Starting',
  );
  let server: MetricsServer | undefined;
  let probe: { stop(): Promise<void> } | undefined;
  if (config.bridge.metricsPort !== undefined) {
    try {
      server = await startMetricsServer({ monitor, port: config.bridge.metricsPort, host: config.bridge.metricsHost, logger, ...(token !== undefined && { token }) });
    } catch (error) {
      logger.error({}, `[cli] Could not start: the metrics server cannot listen on ${config.bridge.metricsHost}:${config.bridge.metricsPort}: ${errorMessage(error)}`);
      return exitCodes.failed;
    }
    logger.info({ url: `http://${config.bridge.metricsHost.includes(':') ? `[${config.bridge.metricsHost}]` : config.bridge.metricsHost}:${server.port}/` }, '[cli] Serving /metrics, /healthz, /readyz and the status page');
    if (token === undefined && !isLoopback(config.bridge.metricsHost)) {
      logger.warn(
        { host: config.bridge.metricsHost },
        '[cli] The metrics server listens beyond loopback without a token: anyone who reaches it sees /metrics and the status page; set [bridge] metrics_token or metrics_token_file',
      );
    }
    probe = startPostgresProbe({ postgres: config.database.uri, slots, applicationName: proxyApplicationName, onResult: (result) => monitor.setProbe(result) });
  }
  try {
    if (config.bridge.leaderLock) return await runWithLeaderLock();
    monitor.setRole('active');
    const outcome = await runTerm(firstBridge);
    return outcome === 'lost' ? exitCodes.failed : outcome;
  } finally {
    monitor.setRole('stopping');
    await probe?.stop();
    await server?.close();
  }
}

/** The replication slots the WAL rules stream from (the bridge's naming: see createBridge). */
function walSlots(config: DaemonConfig): string[] {
  const plugins = new Set(config.upstreams.flatMap((upstream) => upstream.rules.map((rule) => rule.sourceType)).filter((type) => type !== 'channel'));
  const slot = config.database.replicationSlot;
  return [...plugins].map((plugin) => (plugin === 'pgoutput' && plugins.size > 1 ? `${slot}_pgoutput` : slot));
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host) || /^::ffff:127\./i.test(host);
}

function codeOf(error: unknown): string | undefined {
  return BridgeError.isInstance(error) ? error.code : undefined;
}

