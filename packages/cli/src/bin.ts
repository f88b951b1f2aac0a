#!/usr/bin/env node
import { redactSecrets } from './redact-secrets.js';
import { exitCodes, runDaemon } from './daemon.js';

// The only place that touches the process: signals, exit code, last-resort error handling.
const controller = new AbortController();
let signals = 0;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    signals += 1;
    if (signals > 1) {
      process.stderr.write(`pg-event-bridge: second ${signal}, exiting without draining\n`);
      process.exit(exitCodes.failed);
    }
    controller.abort();
  });
}

const crash = (error: unknown) => {
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(redactSecrets(`pg-event-bridge: unexpected failure: ${text}\n`, []));
  process.exit(exitCodes.failed);
};
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);

runDaemon({ argv: process.argv.slice(2), env: process.env, stdout: process.stdout, stderr: process.stderr, signal: controller.signal }).then(
  (code) => process.exit(code),
  crash,
);
