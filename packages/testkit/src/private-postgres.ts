import { execFile } from 'node:child_process';
import { access, chown, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findFreePort } from './find-free-port.js';

const exec = promisify(execFile);

/** Options of {@link startPrivatePostgres}. */
export interface PrivatePostgresOptions {
  /** `wal_level` of the cluster. @default 'logical' */
  readonly walLevel?: 'logical' | 'replica';
  /** More server settings, each passed as `-c key=value`. */
  readonly settings?: Readonly<Record<string, string>>;
  /**
   * Where `initdb` and `pg_ctl` are.
   * @default `pg_config --bindir` when it holds initdb, else the newest /usr/lib/postgresql/N/bin
   */
  readonly binDir?: string;
}

/** A throwaway PostgreSQL cluster owned by one test file. */
export interface PrivatePostgres {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:PORT/postgres` (trust authentication, no password). */
  readonly url: string;
  /** The cluster's data directory (also its Unix socket directory). */
  readonly dataDir: string;
  /** Starts the server again after {@link PrivatePostgres.stop}, on the same port. */
  start(): Promise<void>;
  /**
   * Stops the server and waits until it is down. `immediate` skips the shutdown checkpoint, as a
   * crash would (recovery replays WAL on the next start). No-op when already stopped.
   * @default 'fast'
   */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** `stop('fast')` then `start()`. */
  restart(): Promise<void>;
  /** Stops the server and deletes its files. */
  destroy(): Promise<void>;
}

/**
 * Creates and starts a private PostgreSQL cluster on a free port, from the Debian server
 * binaries, with `wal_level=logical` and room for 20 replication slots and WAL senders. When
 * running as root, the cluster runs as the `postgres` OS user. Tests may stop, crash and restart
 * it without touching the shared server on 5432.
 *
 * @example
 * ```ts
 * const pg = await startPrivatePostgres();
 * const client = new pg.Client({ connectionString: pg.url });
 * // ...
 * await pg.destroy();
 * ```
 */
export async function startPrivatePostgres(options: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
  const binDir = options.binDir ?? (await findBinDir());
  const asRoot = process.getuid?.() === 0;
  const baseDir = await mkdtemp(join(tmpdir(), 'pg-event-bridge-pg-'));
  const dataDir = join(baseDir, 'data');
  const logFile = join(baseDir, 'postgres.log');
  // As root the server must run as an unprivileged user, who must own the directory.
  const runAs = async (command: string, args: string[]) => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(binDir, command), ...args]] : [join(binDir, command), args];
    return exec(file, argv, { cwd: baseDir });
  };

  try {
    if (asRoot) {
      const [uid, gid] = await Promise.all([exec('id', ['-u', 'postgres']), exec('id', ['-g', 'postgres'])]);
      await chown(baseDir, Number(uid.stdout.trim()), Number(gid.stdout.trim()));
    }
    await runAs('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync']);
  } catch (error) {
    await rm(baseDir, { recursive: true, force: true });
    throw new Error(`initdb in ${dataDir} failed: ${errorText(error)}`, { cause: error });
  }

  const port = await findFreePort();
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: dataDir,
    wal_level: options.walLevel ?? 'logical',
    max_replication_slots: '20',
    max_wal_senders: '20',
    ...(await pluginAllowList(binDir)),
    ...options.settings,
  };
  // pg_ctl hands -o to a shell, so each value is single-quoted.
  const serverOptions = [`-p ${port}`, ...Object.entries(settings).map(([key, value]) => `-c ${shellQuote(`${key}=${value}`)}`)].join(' ');

  let running = false;
  const start = async () => {
    if (running) return;
    try {
      await runAs('pg_ctl', ['-D', dataDir, '-l', logFile, '-w', '-t', '30', 'start', '-o', serverOptions]);
    } catch (error) {
      const log = await readFile(logFile, 'utf8').catch(() => '');
      throw new Error(`pg_ctl start on port ${port} failed: ${errorText(error)}\n${log.slice(-2000)}`, { cause: error });
    }
    running = true;
  };
  const stop = async (mode: 'fast' | 'immediate' = 'fast') => {
    if (!running) return;
    await runAs('pg_ctl', ['-D', dataDir, '-w', '-t', '30', '-m', mode, 'stop']);
    running = false;
  };

  try {
    await start();
  } catch (error) {
    await rm(baseDir, { recursive: true, force: true });
    throw error;
  }

  return {
    host: '127.0.0.1',
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    dataDir,
    start,
    stop,
    async restart() {
      await stop('fast');
      await start();
    },
    async destroy() {
      try {
        await stop('immediate');
      } finally {
        await rm(baseDir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Some PostgreSQL builds (this project's machines among them) load only the logical decoding
 * plugins listed in `output_plugin_libraries`; on those, allow wal2json too. Stock builds do not
 * know the setting, and would refuse to start if it were passed.
 */
async function pluginAllowList(binDir: string): Promise<Record<string, string>> {
  const { stdout } = await exec(join(binDir, 'postgres'), ['--describe-config'], { maxBuffer: 16 * 1024 * 1024 }).catch(() => ({ stdout: '' }));
  return /^output_plugin_libraries\t/m.test(stdout) ? { output_plugin_libraries: 'pgoutput,test_decoding,wal2json' } : {};
}

async function findBinDir(): Promise<string> {
  const candidates: string[] = [];
  try {
    candidates.push((await exec('pg_config', ['--bindir'])).stdout.trim());
  } catch {
    // pg_config is optional: the Debian layout below is searched too.
  }
  try {
    const versions = (await readdir('/usr/lib/postgresql')).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => `/usr/lib/postgresql/${v}/bin`));
  } catch {
    // No Debian layout.
  }
  for (const dir of candidates) {
    if (await access(join(dir, 'initdb')).then(() => true, () => false)) return dir;
  }
  throw new Error(
    `PostgreSQL server binaries (initdb, pg_ctl) not found in ${candidates.join(', ') || 'pg_config --bindir or /usr/lib/postgresql/*/bin'}; install postgresql-15 or pass binDir`,
  );
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

function errorText(error: unknown): string {
  const { stderr, message } = error as { stderr?: string; message?: string };
  return (stderr?.trim() || message) ?? String(error);
}
