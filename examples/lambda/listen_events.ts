import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { isMain, numberFromEnv, runScript } from '@pg-event-bridge/example-support';

const functions = fileURLToPath(new URL('./functions/', import.meta.url));
const serverless = createRequire(import.meta.url).resolve('serverless/bin/serverless.js');

/**
 * Runs the function under serverless-offline (the local Lambda endpoint the bridge invokes) and
 * reports every line the handler prints (`[lambda] channel routing-key | body`). Resolves once the
 * Lambda port listens.
 */
export async function listenEvents(options: { lambdaPort: number; httpPort: number; websocketPort: number; host?: string; onLine: (line: string) => void }) {
  const host = options.host ?? '0.0.0.0';
  const child = spawn(
    process.execPath,
    [serverless, 'offline', 'start', '--host', host, '--lambdaPort', String(options.lambdaPort), '--httpPort', String(options.httpPort), '--websocketPort', String(options.websocketPort)],
    { cwd: functions, env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', SLS_DEPRECATION_DISABLE: '*' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  let pending = '';
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  await new Promise<void>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`serverless-offline did not start within 30 s:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) if (line.includes('[lambda] ')) options.onLine(line.slice(line.indexOf('[lambda] ') + 9));
      if (output.includes(`listening on http://${host}:${options.lambdaPort}`)) {
        clearTimeout(timer);
        done();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      fail(new Error(`serverless-offline exited (${code}) before listening:\n${output}`));
    });
  });
  return {
    close: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

if (isMain(import.meta.url)) {
  runScript(async (signal) => {
    const lambdaPort = numberFromEnv('LAMBDA_PORT', 3002);
    const listener = await listenEvents({ lambdaPort, httpPort: numberFromEnv('HTTP_PORT', 3000), websocketPort: numberFromEnv('WEBSOCKET_PORT', 3001), onLine: (line) => console.log(`[lambda] ${line}`) });
    console.log(`[lambda] pg-events-dev-hello is served on port ${lambdaPort}; Ctrl-C to stop`);
    await new Promise((done) => signal.addEventListener('abort', done, { once: true }));
    await listener.close();
  });
}
