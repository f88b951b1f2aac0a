/**
 * WAL → RabbitMQ alone, with its own sizes:
 *   pnpm --filter @pg-event-bridge/bench wal-amqp -- --rows 1000000 --tx-rows 1000000 --plugin wal2json
 * Writes bench/results/wal-amqp-<plugin>-<rows>.json.
 */
import { parseArgs } from 'node:util';
import { writeResult } from './report/write-results.js';
import { runWalAmqp } from './wal-amqp.js';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: { rows: { type: 'string', default: '200000' }, 'tx-rows': { type: 'string', default: '1000' }, plugin: { type: 'string', default: 'pgoutput' } },
});
const plugin = values.plugin as 'pgoutput' | 'wal2json';
const result = await runWalAmqp({ rows: Number(values.rows), txRows: Number(values['tx-rows']), plugin });
console.log(JSON.stringify(result, null, 2));
console.log(`written to ${await writeResult(`wal-amqp-${plugin}-${result.rows}.json`, { benchmark: 'wal-amqp', date: new Date().toISOString(), ...result })}`);
