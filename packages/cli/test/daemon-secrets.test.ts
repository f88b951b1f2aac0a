import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort, waitFor } from '@pg-event-bridge/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAllDaemons, spawnDaemon } from './spawn-daemon.js';

const postgresUrl = 'postgres://postgres@127.0.0.1:5432/postgres';
const ready = /"msg":"\[cli\] Ready"/;

// Each secret is unique and greppable; the Postgres password is ignored by trust auth.
const secrets = {
  postgresPassword: 'pgpass-Secret-1x',
  baseQuery: 'basequery-Secret-2x',
  signing: `whsec_${randomBytes(24).toString('base64')}`,
  bearer: 'header-Secret-3x',
  apiKey: 'header-Secret-4x',
  marked: 'useragent-Secret-5x',
  targetQuery: 'query-Secret-6x',
  targetSig: 'sig-Secret-7x',
  metricsToken: 'metrics-Token-Secret-8x',
  aws: 'aws-Secret-Access-Key-9x',
  // Slack-style hook URLs carry their secret in the path; some APIs take a token as the user name.
  pathToken: 'PathSecret10xAbCdEfGhIj',
  userToken: 'userToken-Secret-11x',
};

let db: pg.Client;
let hook: Server;
let hookPort: number;
let dir: string;
const bodies: string[] = [];
let failuresLeft = 0;

beforeAll(async () => {
  db = new pg.Client(postgresUrl);
  await db.connect();
  hook = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      // Fail the first attempts so retries, errors and /readyz reasons are printed and served.
      if (failuresLeft > 0) {
        failuresLeft -= 1;
        response.writeHead(503, { 'content-type': 'text/plain' }).end(`try later, ${request.url}`);
        return;
      }
      bodies.push(body);
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  hookPort = (hook.address() as { port: number }).port;
  dir = mkdtempSync(join(tmpdir(), 'pgeb-secrets-'));
});

afterAll(async () => {
  await killAllDaemons();
  await db.end();
  await new Promise((resolve) => hook.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

/** An ini file full of secrets, and the environment adding more. */
function secretConfig(channel: string, metricsPort: number, extra = '') {
  const file = join(dir, `${channel}.ini`);
  writeFileSync(
    file,
    [
      '[database]',
      `uri = postgres://postgres:${secrets.postgresPassword}@127.0.0.1:5432/postgres`,
      '',
      '[upstream.hooks]',
      'kind = webhook',
      `uri = http://${secrets.userToken}@127.0.0.1:${hookPort}/hooks/${secrets.pathToken}/?api_key=${secrets.baseQuery}`,
      `secret = ${secrets.signing}`,
      `headers = {"Authorization": "Bearer ${secrets.bearer}", "X-Api-Key": "${secrets.apiKey}"}`,
      `user_agent = ${secrets.marked}`,
      `bridge_channels = ${channel}->url:http://127.0.0.1:${hookPort}/in?token=${secrets.targetQuery}&sig=${secrets.targetSig}&v=1`,
      extra,
      '',
      '[bridge]',
      `metrics_port = ${metricsPort}`,
      `metrics_token = ${secrets.metricsToken}`,
      'secret_keys = user_agent',
      'leader_lock = off',
      'shutdown_timeout = 2s',
    ].join('\n'),
  );
  return { file, env: { AWS_SECRET_ACCESS_KEY: secrets.aws, LOG_LEVEL: 'debug' } };
}

function leaked(text: string): string[] {
  return Object.entries(secrets)
    .filter(([, secret]) => text.includes(secret) || text.includes(encodeURIComponent(secret)))
    .map(([name]) => name);
}

describe('secrets never leave the daemon', () => {
  it('check-config shows every secret as ***: header values, query tokens, passwords, marked keys, the metrics token', async () => {
    const { file, env } = secretConfig(`secrets_${randomUUID().slice(0, 8)}`, await findFreePort());
    const run = spawnDaemon(env, ['check-config', file]);
    expect((await run.exited).code).toBe(0);
    const text = run.output();
    expect(leaked(text)).toEqual([]);
    expect(text).toContain('headers = {"Authorization":"***","X-Api-Key":"***"}');
    expect(text).toContain('user_agent = ***');
    expect(text).toContain('metrics_token = ***');
    expect(text).toMatch(/in\?token=\*\*\*&sig=\*\*\*&v=\*\*\*/);
  });

  it('a configuration error names the bad secret key without echoing it, nor any other secret', async () => {
    const channel = `secrets_${randomUUID().slice(0, 8)}`;
    const { file, env } = secretConfig(channel, await findFreePort(), 'timeout_ms = soon');
    const bad = file.replace('.ini', '-bad.ini');
    writeFileSync(bad, readFileSync(file, 'utf8').replace(`metrics_token = ${secrets.metricsToken}`, 'metrics_token = short secret'));
    const run = spawnDaemon(env, ['check-config', bad]);
    expect((await run.exited).code).toBe(2);
    const text = run.output();
    expect(text).toMatch(/metrics_token/);
    expect(text).toMatch(/timeout_ms/);
    expect(text).not.toContain('short secret');
    expect(leaked(text)).toEqual([]);
  });

  it('logs, /metrics, /status.json, /readyz and the status page show none, while the webhook fails and recovers', async () => {
    const channel = `secrets_${randomUUID().slice(0, 8)}`;
    const port = await findFreePort();
    const { file, env } = secretConfig(channel, port);
    const daemon = spawnDaemon(env, [file]);
    await daemon.waitForLine(ready);
    const base = `http://127.0.0.1:${port}`;
    const auth = { authorization: `Bearer ${secrets.metricsToken}` };
    const fetchText = async (path: string) => (await fetch(`${base}${path}`, { headers: auth, signal: AbortSignal.timeout(5_000) })).text();

    failuresLeft = 3;
    await db.query('select pg_notify($1, $2)', [channel, 'k|first']);
    await waitFor(async () => (await fetch(`${base}/readyz`, { headers: auth })).status === 503, { timeoutMs: 10_000, what: '/readyz 503 while the webhook fails' });
    const whileFailing = [await fetchText('/readyz'), await fetchText('/status.json'), await fetchText('/metrics'), await fetchText('/')];
    await waitFor(() => bodies.includes('first'), { timeoutMs: 20_000, what: 'the event delivered after the retries' });
    await db.query('select pg_notify($1, $2)', [channel, 'k|second']);
    await waitFor(() => bodies.includes('second'), { timeoutMs: 10_000, what: 'the second event' });
    const metrics = await fetchText('/metrics');
    const status = await fetchText('/status.json');
    daemon.child.kill('SIGTERM');
    await daemon.exited;

    const everything = [...whileFailing, metrics, status, daemon.output()].join('\n');
    expect(daemon.output()).toMatch(/Publish failed; retrying/);
    expect(daemon.output()).toMatch(/\[cli\] Forwarded/);
    expect(whileFailing[0]).toMatch(/failing to publish/);
    // Target labels carry the URL, its query values hidden.
    expect(metrics).toMatch(/target="url:http:\/\/127\.0\.0\.1:\d+\/in\?token=\*\*\*&sig=\*\*\*&v=\*\*\*"/);
    expect(leaked(everything)).toEqual([]);
  }, 60_000);
});
