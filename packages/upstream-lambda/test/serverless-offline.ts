import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { LambdaEnvelope } from '@pg-event-bridge/upstream-lambda';
import { MessageInbox, findFreePort, type ReceivedMessage, type TestTarget } from '@pg-event-bridge/testkit';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const serverlessBin = createRequire(import.meta.url).resolve('serverless/bin/serverless.js');

/** What a test handler reported: the payload it was invoked with and whether it threw. */
export interface HandlerCall {
  readonly functionName: string;
  readonly outcome: 'ok' | 'threw';
  readonly payload: LambdaEnvelope | LambdaEnvelope[];
}

/** One envelope as the function got it, in the testkit's shape. */
export interface ReceivedEnvelope extends ReceivedMessage {
  readonly envelope: LambdaEnvelope;
}

export const functionPrefix = 'bridge-test-test-';

/**
 * Starts serverless-offline 13 (serverless 3, telemetry off) on free loopback ports, running the
 * real handlers of test/fixtures, plus the HTTP endpoint those handlers report to.
 */
export async function startServerlessOffline() {
  const calls = new Map<string, MessageInbox<ReceivedEnvelope>>();
  const rawCalls: HandlerCall[] = [];
  const inboxOf = (functionName: string) => {
    let inbox = calls.get(functionName);
    if (!inbox) calls.set(functionName, (inbox = new MessageInbox<ReceivedEnvelope>()));
    return inbox;
  };
  const recorder = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const call = JSON.parse(Buffer.concat(chunks).toString('utf8')) as HandlerCall;
      rawCalls.push(call);
      if (call.outcome === 'ok') {
        for (const envelope of Array.isArray(call.payload) ? call.payload : [call.payload]) {
          inboxOf(call.functionName).push({
            envelope,
            body: Buffer.from(envelope.body, envelope.bodyEncoding === 'base64' ? 'base64' : 'utf8'),
            routingKey: envelope.routingKey,
            headers: { id: envelope.id, channel: envelope.channel, routingKey: envelope.routingKey, ...envelope.headers },
          });
        }
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
  const recordUrl = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}/`;

  // Free ports are picked before serverless-offline binds them, and another test file may take
  // one meanwhile: start again on fresh ports when that happens (EADDRINUSE).
  const launch = async () => {
    const [lambdaPort, httpPort, websocketPort] = [await findFreePort(), await findFreePort(), await findFreePort()];
    const child = spawn(process.execPath, [serverlessBin, 'offline', 'start', '--host', '127.0.0.1', '--lambdaPort', String(lambdaPort), '--httpPort', String(httpPort), '--websocketPort', String(websocketPort)], {
      cwd: fixtures,
      env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', SLS_DEPRECATION_DISABLE: '*', RECORD_URL: recordUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serverless-offline did not start within 30 s:\n${output}`)), 30_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes(`listening on http://127.0.0.1:${lambdaPort}`)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`serverless-offline exited (${code}) before listening:\n${output}`));
      });
    });
    return { child, exited, lambdaPort, output: () => output };
  };
  let launched: Awaited<ReturnType<typeof launch>> | undefined;
  for (let attempt = 1; !launched; attempt++) {
    try {
      launched = await launch();
    } catch (error) {
      if (attempt >= 3 || !String(error).includes('EADDRINUSE')) throw error;
    }
  }
  const { child, exited, lambdaPort, output } = launched;

  let pool = 0;
  return {
    endpoint: `http://127.0.0.1:${lambdaPort}`,
    /** Every report of every handler, in arrival order. */
    calls: rawCalls,
    /** The envelopes a function processed successfully. */
    inboxOf: (name: string) => inboxOf(name.startsWith(functionPrefix) ? name : `${functionPrefix}${name}`),
    /** The serverless-offline log so far, for failure messages. */
    output,
    /** A recorder function (record01..record64) no other test used, with its inbox. */
    provision(): TestTarget<ReceivedEnvelope> {
      pool += 1;
      if (pool > 64) throw new Error('test/fixtures/serverless.js defines 64 recorder functions; add more');
      const name = `${functionPrefix}record${String(pool).padStart(2, '0')}`;
      return { target: { kind: 'function', name }, inbox: inboxOf(name), dispose: async () => undefined };
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      recorder.closeAllConnections();
      await new Promise<void>((resolve) => recorder.close(() => resolve()));
    },
  };
}
export type ServerlessOffline = Awaited<ReturnType<typeof startServerlessOffline>>;
