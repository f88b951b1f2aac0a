import { randomUUID } from 'node:crypto';
import { createRecordingLogger, waitFor } from '@pg-event-bridge/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireLeadership } from '../src/leader/leader-lock.js';

// Any role can take any advisory lock. A session of another role holding the leader key keeps
// every daemon in standby; the standby must say so, naming the backend, rather than wait silently.
const postgresUrl = 'postgres://postgres@127.0.0.1:5432/postgres';
const role = `squat_${randomUUID().slice(0, 8)}`;
let admin: pg.Client;

beforeAll(async () => {
  admin = new pg.Client(postgresUrl);
  await admin.connect();
  await admin.query(`CREATE ROLE ${role} LOGIN NOSUPERUSER`);
});
afterAll(async () => {
  await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1`, [role]);
  await admin.query(`DROP ROLE IF EXISTS ${role}`);
  await admin.end();
});

async function standbyLog(holder: string, key: bigint): Promise<ReturnType<typeof createRecordingLogger>> {
  const squatter = new pg.Client({ host: '127.0.0.1', port: 5432, database: 'postgres', user: holder });
  await squatter.connect();
  const logger = createRecordingLogger();
  const stop = new AbortController();
  try {
    const { rows } = await squatter.query<{ pid: number }>('SELECT pg_backend_pid() AS pid, pg_advisory_lock($1::bigint)', [key.toString()]);
    const waiting = acquireLeadership({ postgres: postgresUrl, key, pollIntervalMs: 50, slots: [], logger, signal: stop.signal });
    await waitFor(() => logger.records.some((r) => /leader lock is held by backend/.test(r.message)), { timeoutMs: 10_000, what: 'the standby to name the lock holder' });
    stop.abort();
    expect(await waiting).toBeUndefined();
    expect(logger.text()).toContain(`backend ${rows[0]!.pid} of role ${holder}`);
    return logger;
  } finally {
    await squatter.end();
  }
}

describe('a standby waiting for the leader lock', () => {
  it('logs an error naming the backend when a role that is no daemon holds the key', async () => {
    // A negative key checks that both halves of the 64-bit key are matched in pg_locks.
    const logger = await standbyLog(role, -(BigInt(Date.now()) * 7919n));
    const record = logger.records.find((r) => /leader lock is held by backend/.test(r.message))!;
    expect(record.level).toBe('error');
    expect(record.message).toMatch(/which is no daemon of this group.*pg_terminate_backend/);
  });

  it('only informs when a session of its own role holds it (another daemon)', async () => {
    const logger = await standbyLog('postgres', BigInt(Date.now()) * 104729n);
    const record = logger.records.find((r) => /leader lock is held by backend/.test(r.message))!;
    expect(record.level).toBe('info');
  });
});
