/**
 * serverless-offline 13 (serverless 3, telemetry off) on free loopback ports, running the real
 * handlers of lambda-fixture/. The same approach as packages/upstream-lambda/test/serverless-offline.ts;
 * a shared starter in testkit would remove the readiness logic both keep.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { findFreePort } from '@pg-event-bridge/testkit';
import type { RunningService } from './spawn-service.js';

/** serverless-offline's name for function `fn` of lambda-fixture/serverless.js. */
export const lambdaFunctionName = (fn: 'sink' | 'probe') => `bench-bench-${fn}`;

/** Starts serverless-offline; on `lambdaPort` when given (a restart keeps its URL), else on a free port. */
export async function startServerlessOffline(recordUrl: string, lambdaPort?: number): Promise<RunningService> {
  const bin = createRequire(import.meta.url).resolve('serverless/bin/serverless.js');
  lambdaPort ??= await findFreePort();
  const [httpPort, websocketPort] = [await findFreePort(), await findFreePort()];
  const child = spawn(process.execPath, [bin, 'offline', 'start', '--host', '127.0.0.1', '--lambdaPort', String(lambdaPort), '--httpPort', String(httpPort), '--websocketPort', String(websocketPort)], {
    cwd: fileURLToPath(new URL('./lambda-fixture/', import.meta.url)),
    env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', SLS_DEPRECATION_DISABLE: '*', RECORD_URL: recordUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serverless-offline did not start within 30 s:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      // Keep only the tail: serverless-offline logs every invocation.
      output = (output + chunk.toString()).slice(-4000);
      if (output.includes(`listening on http://127.0.0.1:${lambdaPort}`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(() => reject(new Error(`serverless-offline exited before listening:\n${output}`)));
  });
  return {
    url: `http://127.0.0.1:${lambdaPort}`,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
