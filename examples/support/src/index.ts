import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { notifyEvents } from './notify-events.js';

/**
 * Where the examples find their services when they run without Docker: the machine's own
 * Postgres, RabbitMQ, Mosquitto, Redis and NATS on their standard loopback ports, each
 * overridable by one environment variable. In docker-compose the same variables point at the
 * compose services.
 */
export function localServices(env: NodeJS.ProcessEnv = process.env) {
  return {
    databaseUrl: env['DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/postgres',
    amqpUrl: env['AMQP_URL'] || 'amqp://guest:guest@127.0.0.1:5672//',
    mqttUrl: env['MQTT_URL'] || 'mqtt://127.0.0.1:1883',
    redisUrl: env['REDIS_URL'] || 'redis://127.0.0.1:6379',
    natsUrl: env['NATS_URL'] || 'nats://127.0.0.1:4222',
  };
}

/** A whole number from the environment (`COUNT=5`), or `fallback` when unset or empty. */
export function numberFromEnv(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number from 0; got "${text}"`);
  return value;
}

/** True when the module at `moduleUrl` is the script node (or tsx) was started with. */
export function isMain(moduleUrl: string): boolean {
  const script = process.argv[1];
  return script !== undefined && pathToFileURL(resolve(script)).href === moduleUrl;
}

/** A short random tag that makes one run's messages recognisable among other traffic. */
export function runTag(): string {
  return randomUUID().slice(0, 8);
}

/** Runs `main` as a script: a stack-less message and exit 1 on failure, exit 0 on SIGINT/SIGTERM. */
export function runScript(main: (signal: AbortSignal) => Promise<void>): void {
  const stop = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());
  main(stop.signal).then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}

/** Collects the lines a listener reports, so a test can wait for the ones it expects. */
export class Collected {
  readonly lines: string[] = [];
  readonly #waiters = new Set<() => void>();

  /** A callback to hand to a listener. */
  readonly push = (line: string): void => {
    this.lines.push(line);
    for (const waiter of [...this.#waiters]) waiter();
  };

  /** Resolves with the lines containing `text` once there are `count` of them; rejects after `timeoutMs`. */
  waitFor(text: string, count: number, timeoutMs = 15_000): Promise<string[]> {
    return new Promise((done, fail) => {
      const check = () => {
        const matching = this.lines.filter((line) => line.includes(text));
        if (matching.length < count) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        done(matching);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        const seen = this.lines.filter((line) => line.includes(text)).length;
        fail(new Error(`expected ${count} lines containing "${text}" within ${timeoutMs} ms, saw ${seen}:\n${this.lines.join('\n')}`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }
}

/** The `pg-event-bridge` executable of this workspace (the built packages/cli). */
export const daemonBin = join(dirname(createRequire(import.meta.url).resolve('@pg-event-bridge/cli/package.json')), 'dist', 'bin.js');

/** A `pg-event-bridge` child process started by {@link startDaemon}. */
export interface Daemon {
  readonly child: ChildProcess;
  /** Everything it printed so far (JSON log lines on stdout, problems on stderr). */
  output(): string;
  /** SIGTERM, then resolves with the exit code once it drained and exited. */
  stop(): Promise<number | null>;
}

/**
 * Starts the daemon the way a user would (`pg-event-bridge config.ini`), with `env` on top of
 * PATH only, and resolves once it logged `[cli] Ready`. The examples pass their own config file
 * and override its service URIs with `PGPROXY_*` variables (a variable wins over the file, key by
 * key), which is how the same file serves docker-compose and the local services.
 */
export async function startDaemon(options: { args: string[]; env: Record<string, string>; cwd?: string; readyTimeoutMs?: number }): Promise<Daemon> {
  const child = spawn(process.execPath, [daemonBin, ...options.args], {
    cwd: options.cwd ?? process.cwd(),
    env: { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'info', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => setImmediate(() => done(code))));
  await new Promise<void>((done, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`pg-event-bridge was not ready within ${options.readyTimeoutMs ?? 20_000} ms:\n${output}`));
    }, options.readyTimeoutMs ?? 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('[cli] Ready')) {
        clearTimeout(timer);
        done();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      fail(new Error(`pg-event-bridge exited with ${code} before it was ready:\n${output}`));
    });
  });
  return {
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** The folder of the module at `moduleUrl` (`import.meta.url`). */
export function folderOf(moduleUrl: string): string {
  return dirname(fileURLToPath(moduleUrl));
}

export { pause } from './pause.js';
export { notifyEvents, type NotifyEventsOptions } from './notify-events.js';
export { listenAmqp, type ListenAmqpOptions } from './listen-amqp.js';

/**
 * The whole of a NOTIFY example's `generate_events` script, as pg-event-proxy-example's
 * generate_events.sh did it: `signup|message N` on each channel, once a second (`COUNT`,
 * `INTERVAL_MS` override). Runs only when `moduleUrl` is the script being executed.
 */
export function runGenerateEvents(moduleUrl: string, channels: readonly string[]): void {
  if (!isMain(moduleUrl)) return;
  runScript(async (signal) => {
    const sent = await notifyEvents({
      databaseUrl: localServices().databaseUrl,
      channels,
      count: numberFromEnv('COUNT', 10),
      intervalMs: numberFromEnv('INTERVAL_MS', 1000),
      signal,
    });
    console.log(`${sent} events sent`);
  });
}
