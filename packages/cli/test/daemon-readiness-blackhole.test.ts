import { randomUUID } from 'node:crypto';
import { findFreePort, startFaultProxy, waitFor, type FaultProxy } from '@pg-event-bridge/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { get } from './metrics-http.js';
import { killAllDaemons, spawnDaemon } from './spawn-daemon.js';

const ready = /"msg":"\[cli\] Ready"/;
const proxies: FaultProxy[] = [];

afterEach(async () => {
  await killAllDaemons();
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
});

async function proxyToPostgres() {
  const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: 5432 } });
  proxies.push(proxy);
  return proxy;
}

function daemonEnv(postgresPort: number, metricsPort: number, extra: Record<string, string> = {}) {
  return {
    'PGPROXY_DATABASE-URI': `postgres://postgres@127.0.0.1:${postgresPort}/postgres`,
    'PGPROXY_UPSTREAM-HOOKS-KIND': 'webhook',
    'PGPROXY_UPSTREAM-HOOKS-URI': 'http://127.0.0.1:9/',
    'PGPROXY_UPSTREAM-HOOKS-BRIDGE_CHANNELS': `blackhole_${randomUUID().slice(0, 8)}->url:in`,
    'PGPROXY_BRIDGE-METRICS_PORT': String(metricsPort),
    'PGPROXY_BRIDGE-SHUTDOWN_TIMEOUT': '2s',
    'PGPROXY_BRIDGE-LEADER_POLL_INTERVAL': '200ms',
    ...extra,
  };
}

/** Sends SIGTERM and resolves with how long the daemon took to exit. */
async function stopTimed(daemon: ReturnType<typeof spawnDaemon>): Promise<number> {
  const started = Date.now();
  daemon.child.kill('SIGTERM');
  const exit = await Promise.race([daemon.exited, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 20_000))]);
  expect(exit, `the daemon did not exit on SIGTERM:\n${daemon.output().slice(-2000)}`).not.toBe('hung');
  return Date.now() - started;
}

// Shutdown may take shutdown_timeout (2 s) plus the 5 s the daemon grants connections to close.
const stopBoundMs = 2_000 + 5_000 + 2_000;

describe('a blackholed Postgres', () => {
  it('a leader: the probe reports it, SIGTERM still exits within the stop timeout', async () => {
    const proxy = await proxyToPostgres();
    const port = await findFreePort();
    const daemon = spawnDaemon(daemonEnv(proxy.port, port));
    await daemon.waitForLine(ready);
    proxy.blackhole(true);
    await waitFor(async () => ((await get(`http://127.0.0.1:${port}/status.json`)).json() as { postgresProbeError: string | null }).postgresProbeError !== null, {
      timeoutMs: 15_000,
      what: 'the probe to report the blackholed Postgres',
    });
    expect(((await get(`http://127.0.0.1:${port}/status.json`)).json() as { postgresProbeError: string }).postgresProbeError).toMatch(/did not settle within 5000 ms/);
    expect(await stopTimed(daemon)).toBeLessThan(stopBoundMs);
  }, 60_000);

  it('a standby waiting for the lock: SIGTERM exits at once although its lock query never returns', async () => {
    const port = await findFreePort();
    const env = daemonEnv(5432, port);
    const leader = spawnDaemon(env);
    await leader.waitForLine(ready);
    const proxy = await proxyToPostgres();
    const standby = spawnDaemon({ ...env, 'PGPROXY_DATABASE-URI': `postgres://postgres@127.0.0.1:${proxy.port}/postgres`, 'PGPROXY_BRIDGE-METRICS_PORT': String(await findFreePort()) });
    await standby.waitForLine(/\[cli\] Standby/);
    proxy.blackhole(true);
    // Let the standby's next pg_try_advisory_lock go out into the void.
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Closing the dead lock connection may take its 2 s bound before it is destroyed.
    expect(await stopTimed(standby)).toBeLessThan(4_000);
  }, 60_000);

  it('at start: SIGTERM gets through while the connection is still opening', async () => {
    const proxy = await proxyToPostgres();
    proxy.blackhole(true);
    const daemon = spawnDaemon(daemonEnv(proxy.port, await findFreePort()));
    await daemon.waitForLine(/\[cli\] Serving/);
    expect(await stopTimed(daemon)).toBeLessThan(stopBoundMs);
  }, 60_000);
});
