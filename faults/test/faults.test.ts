import { mkdir, writeFile } from 'node:fs/promises';
import { startPrivatePostgres, type PrivatePostgres } from '@pg-event-bridge/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mosquittoBroker, natsBroker, rabbitBroker, redisBroker, type FaultBroker } from '../src/fault-brokers.js';
import { faultKinds, runFaultScenario, type FaultResult, type SourceKind } from '../src/run-fault-scenario.js';

// The fault suite: for each source, each broker and each kind of fault, a steady stream through
// the daemon with three faults in it. WAL and the outbox must lose nothing; plain NOTIFY is
// at-most-once by nature and is measured, not held to zero.
const sources = (process.env.FAULT_SOURCES ?? 'notify,wal,outbox').split(',') as SourceKind[];
let postgres: PrivatePostgres;
const brokers: FaultBroker[] = [];
const results: FaultResult[] = [];

beforeAll(async () => {
  postgres = await startPrivatePostgres();
  brokers.push(await rabbitBroker(), await mosquittoBroker(), await redisBroker(), await natsBroker());
}, 60_000);
afterAll(async () => {
  await Promise.all(brokers.map((broker) => broker.stop()));
  await postgres?.destroy();
  await mkdir(new URL('../results/', import.meta.url), { recursive: true });
  await writeFile(new URL(`../results/${sources.join('-')}.json`, import.meta.url), `${JSON.stringify({ date: new Date().toISOString(), results }, null, 2)}\n`);
});

describe.each(sources)('%s source', (source) => {
  describe.each(['amqp', 'mqtt', 'redis', 'nats'] as const)('to %s', (kind) => {
    it.each(faultKinds)('survives %s', async (fault) => {
      const broker = brokers.find((b) => b.kind === kind)!;
      const result = await runFaultScenario({ postgres, broker, source, fault });
      results.push(result);
      console.info(`[measured] ${JSON.stringify(result)}`);
      if (source === 'notify') {
        // Connection faults on the broker side must not lose what Postgres handed over.
        if (fault !== 'postgres-restart' && fault !== 'bridge-kill') expect(result.lost).toBe(0);
      } else {
        expect(result.lost).toBe(0);
      }
    }, 120_000);
  });
});
