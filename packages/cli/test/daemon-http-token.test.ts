import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from '@pg-event-bridge/testkit';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { killAllDaemons, spawnDaemon } from './spawn-daemon.js';

const postgresUrl = 'postgres://postgres@127.0.0.1:5432/postgres';
const ready = /"msg":"\[cli\] Ready"/;
const dir = mkdtempSync(join(tmpdir(), 'pgeb-token-'));
const token = `tok-${randomUUID()}`;

afterEach(() => killAllDaemons());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function env(port: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'PGPROXY_DATABASE-URI': postgresUrl,
    'PGPROXY_UPSTREAM-HOOKS-KIND': 'webhook',
    'PGPROXY_UPSTREAM-HOOKS-URI': 'http://127.0.0.1:9/',
    'PGPROXY_UPSTREAM-HOOKS-BRIDGE_CHANNELS': `token_${randomUUID().slice(0, 8)}->url:in`,
    'PGPROXY_BRIDGE-METRICS_PORT': String(port),
    'PGPROXY_BRIDGE-LEADER_LOCK': 'off',
    ...extra,
  };
}

const call = async (url: string, headers: Record<string, string> = {}) => {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(5_000) });
  return { status: response.status, challenge: response.headers.get('www-authenticate'), text: await response.text() };
};

describe('the metrics token', () => {
  it('guards /metrics, /status.json, the status page and unknown paths; /healthz and /readyz stay open and say nothing more', async () => {
    const file = join(dir, 'token');
    writeFileSync(file, `${token}\n`);
    const port = await findFreePort();
    const daemon = spawnDaemon(env(port, { 'PGPROXY_BRIDGE-METRICS_TOKEN_FILE': file }));
    await daemon.waitForLine(ready);
    const base = `http://127.0.0.1:${port}`;

    for (const path of ['/metrics', '/status.json', '/', '/index.html', '/no-such-page', '/metrics?token=x']) {
      const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer wrong' }, { authorization: `Bearer ${token}x` }, { authorization: `Bearer ${token.slice(0, -1)}` }, { authorization: `Token ${token}` }, { authorization: `Basic ${Buffer.from('x:wrong').toString('base64')}` }];
      for (const headers of attempts) {
        const answer = await call(`${base}${path}`, headers);
        expect(answer.status, `${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(answer.challenge).toMatch(/^Bearer realm="pg-event-bridge", Basic realm="pg-event-bridge"/);
        expect(answer.text).not.toMatch(/pg_event_bridge_|notify|hooks/);
      }
    }
    for (const headers of [{ authorization: `Bearer ${token}` }, { authorization: `bearer ${token}` }, { authorization: `Basic ${Buffer.from(`anyone:${token}`).toString('base64')}` }]) {
      expect((await call(`${base}/metrics`, headers)).text).toMatch(/pg_event_bridge_ready 1/);
      expect((await call(`${base}/status.json`, headers)).status).toBe(200);
      expect((await call(`${base}/`, headers)).text).toMatch(/pg-event-bridge status/);
    }
    expect(JSON.parse((await call(`${base}/healthz`)).text)).toEqual({ status: 'ok', role: 'active' });
    expect(JSON.parse((await call(`${base}/readyz`)).text)).toEqual({ status: 'ready', role: 'active' });
    expect(daemon.output()).not.toContain(token);
    expect(daemon.output()).not.toMatch(/listens beyond loopback without a token/);
  });

  it('warns at start when the server listens beyond loopback without a token', async () => {
    const port = await findFreePort();
    const daemon = spawnDaemon(env(port, { 'PGPROXY_BRIDGE-METRICS_HOST': '0.0.0.0' }));
    await daemon.waitForLine(/listens beyond loopback without a token.*metrics_token/);
    await daemon.waitForLine(ready);
  });

  it('refuses to start on a token that is short, unreadable, or set twice, naming the key and not the value', async () => {
    const short = join(dir, 'short');
    writeFileSync(short, 'tiny-secret\n');
    const cases: [Record<string, string>, RegExp][] = [
      [{ 'PGPROXY_BRIDGE-METRICS_TOKEN': 'tiny-secret' }, /PGPROXY_BRIDGE-METRICS_TOKEN is 11 characters long: use at least 16/],
      [{ 'PGPROXY_BRIDGE-METRICS_TOKEN': `with space ${token}` }, /PGPROXY_BRIDGE-METRICS_TOKEN holds characters a bearer token cannot carry/],
      [{ 'PGPROXY_BRIDGE-METRICS_TOKEN_FILE': short }, /PGPROXY_BRIDGE-METRICS_TOKEN_FILE: the token in .* is 11 characters long/],
      [{ 'PGPROXY_BRIDGE-METRICS_TOKEN_FILE': join(dir, 'missing') }, /PGPROXY_BRIDGE-METRICS_TOKEN_FILE: cannot read .*missing/],
      [{ 'PGPROXY_BRIDGE-METRICS_TOKEN_FILE': short, 'PGPROXY_BRIDGE-METRICS_TOKEN': token }, /METRICS_TOKEN and PGPROXY_BRIDGE-METRICS_TOKEN_FILE are both set/],
    ];
    for (const [extra, message] of cases) {
      const daemon = spawnDaemon(env(await findFreePort(), extra));
      expect((await daemon.exited).code, JSON.stringify(extra)).toBe(2);
      expect(daemon.stderr()).toMatch(message);
      expect(daemon.output()).not.toContain('tiny-secret');
      expect(daemon.output()).not.toContain(token);
    }
  });
});
