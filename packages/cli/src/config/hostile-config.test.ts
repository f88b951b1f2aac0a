import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDaemon } from '../daemon.js';
import { upstreams } from '../upstreams.js';
import { ConfigError } from './config-error.js';
import { loadConfig } from './load-config.js';

const base = {
  'PGPROXY_DATABASE-URI': 'postgres://u@h/d',
  'PGPROXY_UPSTREAM-X-KIND': 'webhook',
  'PGPROXY_UPSTREAM-X-URI': 'http://x/',
  'PGPROXY_UPSTREAM-X-BRIDGE_CHANNELS': 'c->url:in',
};
const hostileNumbers = ['NaN', '-1', '1.5', '1e3', '1e400', '99999999999999999999999', '0x10', 'Infinity', '10 000', '٣', '+5', ' '];
const dir = mkdtempSync(join(tmpdir(), 'pgeb-hostile-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ env: { ...base, ...env }, definitions: upstreams });
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

async function run(argv: string[], env: Record<string, string> = {}) {
  let out = '';
  let err = '';
  const started = Date.now();
  const code = await runDaemon({ argv, env, stdout: { write: (text: string) => (out += text) }, stderr: { write: (text: string) => (err += text) } });
  return { code, out, err, ms: Date.now() - started };
}

describe('hostile configuration values', () => {
  const numeric = ['MAX_IN_FLIGHT', 'MAX_IN_FLIGHT_BYTES', 'METRICS_PORT', 'SHUTDOWN_TIMEOUT', 'LEADER_POLL_INTERVAL', 'LEADER_LOCK_KEY'];
  it.each(numeric)('[bridge] %s refuses NaN, negative, fractional, exponent, huge and non-ASCII numbers, naming the key and what to write', (key) => {
    for (const value of hostileNumbers) {
      if ((key === 'SHUTDOWN_TIMEOUT' || key === 'LEADER_POLL_INTERVAL') && value === '1.5') continue; // 1.5 s is a duration
      if (key === 'LEADER_LOCK_KEY' && value === '-1') continue; // the key is a signed bigint
      const problems = problemsOf({ [`PGPROXY_BRIDGE-${key}`]: value });
      expect(problems, `${key}=${JSON.stringify(value)}`).toHaveLength(1);
      expect(problems[0]).toContain(`PGPROXY_BRIDGE-${key}`);
      expect(problems[0]).toMatch(/write/);
    }
  });

  it('refuses values that would overflow a timer or hold unbounded memory', () => {
    expect(problemsOf({ 'PGPROXY_BRIDGE-SHUTDOWN_TIMEOUT': '999999999s' })[0]).toMatch(/from 0 to 1h/);
    expect(problemsOf({ 'PGPROXY_BRIDGE-LEADER_POLL_INTERVAL': '30d' })[0]).toMatch(/from 10ms to 10m/);
    expect(problemsOf({ 'PGPROXY_BRIDGE-MAX_IN_FLIGHT': '1000000000' })[0]).toMatch(/from 1 to 1000000/);
    expect(problemsOf({ 'PGPROXY_BRIDGE-MAX_IN_FLIGHT_BYTES': String(2 ** 40) })[0]).toMatch(/1 GiB/);
    expect(problemsOf({ 'PGPROXY_BRIDGE-METRICS_PORT': '65536' })[0]).toMatch(/1 to 65535/);
    expect(problemsOf({ 'PGPROXY_BRIDGE-SHUTDOWN_TIMEOUT': '1h', 'PGPROXY_BRIDGE-MAX_IN_FLIGHT': '1000000' })).toEqual([]);
  });

  it('shows at most 100 characters of a huge bad value', () => {
    const [problem] = problemsOf({ 'PGPROXY_BRIDGE-MAX_IN_FLIGHT': '9'.repeat(1_000_000) });
    expect(problem!.length).toBeLessThan(400);
    expect(problem).toMatch(/1000000 characters/);
  });

  it('upstream numeric keys refuse the same values, naming the key', () => {
    for (const key of ['TIMEOUT_MS', 'MAX_CONCURRENCY', 'MAX_PAYLOAD_BYTES', 'MAX_RETRY_AFTER_MS']) {
      for (const value of hostileNumbers.filter((candidate) => candidate.trim() !== '')) {
        const problems = problemsOf({ [`PGPROXY_UPSTREAM-X-${key}`]: value });
        expect(problems.join('\n'), `${key}=${value}`).toContain(key.toLowerCase());
      }
    }
  });
});

describe('hostile configuration files and environments', () => {
  it('a file of 100,000 keys is refused within seconds with a bounded report', async () => {
    const file = join(dir, 'many-keys.ini');
    writeFileSync(file, `[bridge]\n${Array.from({ length: 100_000 }, (_, i) => `key_${i} = ${i}`).join('\n')}\n`);
    const result = await run(['check-config', file]);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/10000[0-9] problems/);
    expect(result.err).toMatch(/and 999[5-9][0-9] more/);
    expect(result.err.length).toBeLessThan(50_000);
    expect(result.ms).toBeLessThan(10_000);
  }, 30_000);

  it('a file of 100,000 upstream sections is refused within seconds', async () => {
    const file = join(dir, 'many-sections.ini');
    writeFileSync(file, Array.from({ length: 100_000 }, (_, i) => `[upstream.u${i}]\nkind = nope\n`).join(''));
    const result = await run(['check-config', file]);
    expect(result.code).toBe(2);
    expect(result.err.length).toBeLessThan(100_000);
    expect(result.ms).toBeLessThan(15_000);
  }, 30_000);

  it('a binary file is refused without writing control characters to the terminal', async () => {
    const file = join(dir, 'binary.ini');
    writeFileSync(file, Buffer.concat([Buffer.from('[bridge]\n\u001b[2Jx = 1\n'), randomBytes(64 * 1024)]));
    const result = await run(['check-config', file]);
    expect(result.code).toBe(2);
    // eslint-disable-next-line no-control-regex
    expect(result.err.replace(/\n/g, '')).not.toMatch(/[\u0000-\u001f\u007f]/);
  });

  it('a huge file, or a device that never ends, is refused without reading it whole', async () => {
    const file = join(dir, 'huge.ini');
    writeFileSync(file, `[database]\n; ${'x'.repeat(11 * 1024 * 1024)}\n`);
    for (const path of [file, '/dev/zero']) {
      const result = await run(['check-config', path]);
      expect(result.code, path).toBe(2);
      expect(result.err).toMatch(/larger than 10485760 bytes/);
    }
  });

  it('100,000 unknown PGPROXY_ variables are refused within seconds with a bounded report', async () => {
    const env: Record<string, string> = { ...base };
    for (let i = 0; i < 100_000; i++) env[`PGPROXY_BRIDGE-NOPE_${i}`] = '1';
    const result = await run(['check-config'], env);
    expect(result.code).toBe(2);
    expect(result.err.length).toBeLessThan(100_000);
    expect(result.ms).toBeLessThan(15_000);
  }, 30_000);
});
