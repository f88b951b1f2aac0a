/**
 * Runs a service entry (fauxqs-service.ts, receiver-service.ts) in a child process of its own, so
 * that the emulator's CPU never shares an event loop with the client or bridge being measured.
 * The child sends `{ ready: <url> }` over IPC once it listens.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface RunningService {
  readonly url: string;
  stop(): Promise<void>;
}

export async function spawnService(entry: string, env: Record<string, string> = {}): Promise<RunningService> {
  const child = fork(fileURLToPath(new URL(entry, import.meta.url)), [], {
    execArgv: ['--import', import.meta.resolve('tsx')],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (message: { ready: string }) => resolve(message.ready));
    void exited.then(() => reject(new Error(`${entry} exited before it was ready`)));
  });
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
