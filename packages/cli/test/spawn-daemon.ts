import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The built CLI: integration tests run what users run. */
export const binPath = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

/** A `pg-event-bridge` child process and what it printed. */
export interface DaemonProcess {
  readonly child: ChildProcess;
  /** stdout and stderr so far, interleaved as received. */
  output(): string;
  stderr(): string;
  /** Resolves with the first output line matching `pattern`; rejects on timeout or exit. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves when the process exits. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();

/**
 * Starts the built daemon with exactly `env` (plus PATH), so nothing leaks in from the test
 * runner's environment.
 */
export function spawnDaemon(env: Record<string, string>, args: string[] = []): DaemonProcess {
  if (!existsSync(binPath)) throw new Error(`${binPath} is missing: run "pnpm -r build" first`);
  const child = spawn(process.execPath, [binPath, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let all = '';
  let errors = '';
  const listeners = new Set<() => void>();
  child.stdout!.on('data', (chunk: Buffer) => {
    all += chunk.toString();
    for (const listener of [...listeners]) listener();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    all += chunk.toString();
    errors += chunk.toString();
    for (const listener of [...listeners]) listener();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      // Let the pipes deliver what is left before anyone reads output().
      setImmediate(() => {
        resolve({ code, signal });
        for (const listener of [...listeners]) listener();
      });
    });
  });
  let done = false;
  void exited.then(() => (done = true));

  return {
    child,
    output: () => all,
    stderr: () => errors,
    exited,
    waitForLine(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const lines = all.split('\n');
          // The last piece is a line still being written, unless the process is gone.
          if (!done) lines.pop();
          const line = lines.find((candidate) => pattern.test(candidate));
          if (line !== undefined || done) {
            clearTimeout(timer);
            listeners.delete(check);
            if (line !== undefined) resolve(line);
            else reject(new Error(`daemon exited before printing ${pattern}:\n${all}`));
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${all}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
  };
}

/** Kills daemons a failed test left behind. */
export async function killAllDaemons(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}
