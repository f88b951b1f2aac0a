import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { findFreePort, startFaultProxy, waitFor } from '@pg-event-bridge/testkit';
import pg from 'pg';
import { chromium } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { consumeFrom, type AmqpConsumer } from './amqp-consumer.js';
import { get, prometheusProblems, sample } from './metrics-http.js';
import { killAllDaemons, spawnDaemon } from './spawn-daemon.js';

const postgresUrl = 'postgres://postgres@127.0.0.1:5432/postgres';
const ready = /"msg":"\[cli\] Ready"/;
const chromiumPath = '/usr/bin/chromium';
const artifacts = fileURLToPath(new URL('./artifacts/', import.meta.url));

let db: pg.Client;
const consumers: AmqpConsumer[] = [];
beforeAll(async () => {
  db = new pg.Client(postgresUrl);
  await db.connect();
});
afterEach(async () => {
  await killAllDaemons();
  await Promise.all(consumers.splice(0).map((consumer) => consumer.close()));
});
afterAll(async () => {
  await db.end();
});

const notify = (channel: string, payload: string) => db.query('select pg_notify($1, $2)', [channel, payload]);

/** A daemon forwarding `channel` to a fresh exchange (with a queue bound), metrics on a free port. */
async function startDaemon(extra: Record<string, string> = {}) {
  const id = randomUUID().slice(0, 8);
  const channel = `metrics_${id}`;
  const exchange = `pgeb-metrics-${id}`;
  const inbox = await consumeFrom(exchange, '#');
  consumers.push(inbox);
  const port = await findFreePort();
  const daemon = spawnDaemon({
    'PGPROXY_DATABASE-URI': postgresUrl,
    'PGPROXY_UPSTREAM-RABBIT-KIND': 'amqp',
    'PGPROXY_UPSTREAM-RABBIT-URI': 'amqp://guest:guest@127.0.0.1:5672//',
    'PGPROXY_UPSTREAM-RABBIT-BRIDGE_CHANNELS': `${channel}->exchange:${exchange}`,
    'PGPROXY_BRIDGE-METRICS_PORT': String(port),
    'PGPROXY_BRIDGE-SHUTDOWN_TIMEOUT': '2s',
    ...extra,
  });
  await daemon.waitForLine(ready);
  return { daemon, channel, exchange, inbox, base: `http://127.0.0.1:${port}` };
}

describe('the metrics server', () => {
  it('serves every metric the Grafana dashboard in examples/grafana queries', async () => {
    const { base } = await startDaemon();
    const dashboard = readFileSync(new URL('../../../examples/grafana/dashboard.json', import.meta.url), 'utf8');
    const queried = new Set([...dashboard.matchAll(/pg_event_bridge_[a-z_]+/g)].map(([name]) => name.replace(/_(bucket|sum|count)$/, '')));
    const { text } = await get(`${base}/metrics`);
    const served = new Set([...text.matchAll(/^# TYPE (\S+)/gm)].map((match) => match[1]));
    expect([...queried].filter((name) => !served.has(name))).toEqual([]);
    expect(queried.size).toBeGreaterThan(10);
  });

  it('serves the expected series as valid Prometheus text after some NOTIFYs, and /healthz, /readyz', async () => {
    const { channel, exchange, inbox, base } = await startDaemon();
    const rule = { source: channel, upstream: 'rabbit', target: `exchange:${exchange}` };

    const before = await get(`${base}/metrics`);
    expect(before.status).toBe(200);
    // Every rule's series exist from the start, at 0, so rate() works from the first scrape.
    expect(sample(before.text, 'pg_event_bridge_events_published_total', rule)).toBe(0);

    for (let i = 0; i < 5; i++) await notify(channel, `order.created|{"n":${i}}`);
    await inbox.next((message) => message.content.toString() === '{"n":4}');
    await waitFor(async () => sample((await get(`${base}/metrics`)).text, 'pg_event_bridge_events_published_total', rule) === 5, { what: '5 published in /metrics' });

    const { text, status } = await get(`${base}/metrics`);
    expect(status).toBe(200);
    expect(prometheusProblems(text)).toEqual([]);
    expect(sample(text, 'pg_event_bridge_events_received_total', { source: channel })).toBe(5);
    expect(sample(text, 'pg_event_bridge_publish_retries_total', rule)).toBe(0);
    expect(sample(text, 'pg_event_bridge_publish_failures_total', rule)).toBe(0);
    expect(sample(text, 'pg_event_bridge_events_dead_lettered_total', rule)).toBe(0);
    expect(sample(text, 'pg_event_bridge_publish_latency_seconds_count', rule)).toBe(5);
    expect(sample(text, 'pg_event_bridge_publish_latency_seconds_bucket', { ...rule, le: '+Inf' })).toBe(5);
    expect(sample(text, 'pg_event_bridge_in_flight')).toBe(0);
    expect(sample(text, 'pg_event_bridge_notify_gaps_total')).toBe(0);
    expect(sample(text, 'pg_event_bridge_source_connected', { source: 'notify' })).toBe(1);
    expect(sample(text, 'pg_event_bridge_upstream_up', { upstream: 'rabbit' })).toBe(1);
    expect(sample(text, 'pg_event_bridge_leader')).toBe(1);
    expect(sample(text, 'pg_event_bridge_ready')).toBe(1);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(text).not.toContain('guest@');

    expect((await get(`${base}/healthz`)).status).toBe(200);
    const readyz = await get(`${base}/readyz`);
    expect(readyz.status).toBe(200);
    expect(readyz.json()).toEqual({ status: 'ready', role: 'leader' });
    const statusJson = (await get(`${base}/status.json`)).json() as { rules: { published: number }[]; upstreams: { uri: string }[] };
    expect(statusJson.rules[0]!.published).toBe(5);
    expect(statusJson.upstreams[0]!.uri).not.toContain('guest@');
  });

  it('/readyz turns 503 naming the upstream while the broker is unreachable, and 200 again after', async () => {
    const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: 5672 } });
    try {
      const { channel, inbox, base } = await startDaemon({
        'PGPROXY_UPSTREAM-RABBIT-URI': `amqp://guest:guest@127.0.0.1:${proxy.port}//`,
        'PGPROXY_BRIDGE-LEADER_LOCK': 'off',
      });
      expect((await get(`${base}/readyz`)).status).toBe(200);

      proxy.refuse(true);
      proxy.cut();
      await notify(channel, 'k|while the broker is away');
      await waitFor(async () => (await get(`${base}/readyz`)).status === 503, { timeoutMs: 15_000, what: '/readyz 503' });
      const down = (await get(`${base}/readyz`)).json() as { status: string; missing: string[] };
      expect(down.status).toBe('not ready');
      expect(down.missing.join('\n')).toMatch(/upstream rabbit failing to publish/);
      expect((await get(`${base}/healthz`)).status).toBe(200);
      const metrics = (await get(`${base}/metrics`)).text;
      expect(sample(metrics, 'pg_event_bridge_upstream_up', { upstream: 'rabbit' })).toBe(0);
      expect(sample(metrics, 'pg_event_bridge_publish_retries_total', { source: channel })).toBeGreaterThan(0);

      proxy.refuse(false);
      await inbox.next((message) => message.content.toString() === 'while the broker is away', 30_000);
      await waitFor(async () => (await get(`${base}/readyz`)).status === 200, { timeoutMs: 15_000, what: '/readyz 200 again' });
    } finally {
      await killAllDaemons();
      await proxy.close();
    }
  });
});

describe('the status page', () => {
  it('renders live figures in headless Chromium, changing as events flow', async () => {
    if (!existsSync(chromiumPath)) {
      const message = `${chromiumPath} is missing: install Debian's chromium (apt-get install -y chromium) to run the status page test`;
      if (process.env['CI'] === 'true') throw new Error(message);
      console.warn(`[skipped] ${message}`);
      return;
    }
    const { channel, base } = await startDaemon();
    const browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      // The page's Content-Security-Policy forbids eval, so conditions are read through locators
      // (Playwright's utility world) rather than page.waitForFunction; the CSP stays on.
      const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
      await page.goto(`${base}/`);
      const text = async (selector: string) => (await page.locator(selector).textContent()) ?? '';
      const shows = (what: string, check: () => Promise<boolean>) => waitFor(check, { timeoutMs: 15_000, intervalMs: 50, what: `the status page to show ${what}` });
      await shows('ready', async () => (await text('#ready')) === 'ready');
      const published = async () => Number((await text('#published')).replaceAll(',', ''));
      expect(await published()).toBe(0);
      expect(await page.locator('#role').textContent()).toBe('leader');

      // A steady flow for a few seconds: the page must show the count rising and a rate above 0.
      const flow = (async () => {
        for (let i = 0; i < 40; i++) {
          await notify(channel, `tick|${i}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();
      await shows('a rate above 0', async () => Number(await text('#rate')) > 0);
      const midway = await published();
      expect(midway).toBeGreaterThan(0);
      await flow;
      await shows('40 published', async () => (await text('#published')) === '40');
      expect(await published()).toBeGreaterThan(midway - 1);
      const row = page.locator('#rules tbody tr').first();
      expect(await row.locator('td').first().textContent()).toBe(channel);
      expect(await row.locator('td.published').textContent()).toBe('40');
      expect(await page.locator('#conns').textContent()).toMatch(/notify.*connected/);
      expect(await page.content()).not.toContain('guest@');

      // Shown while events still flow, so the rate column is live in the picture.
      const more = (async () => {
        for (let i = 0; i < 30; i++) {
          await notify(channel, `tock|${i}`);
          await new Promise((resolve) => setTimeout(resolve, 40));
        }
      })();
      await shows('more than 50 published', async () => (await published()) > 50);
      await mkdir(artifacts, { recursive: true });
      const screenshot = `${artifacts}status-page.png`;
      await page.screenshot({ path: screenshot, fullPage: true });
      console.info(`[artifact] status page screenshot: ${screenshot}`);
      await more;
    } finally {
      await browser.close();
    }
  });
});
