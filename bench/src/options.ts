/** Command-line flags of `pnpm --filter @pg-event-bridge/bench all -- [flags]`. */
import { parseArgs } from 'node:util';
import { upstreamNames } from './upstreams/index.js';

export interface BenchOptions {
  /** Upstreams to run (NOTIFY → each); `wal` selects the WAL → amqp scenarios. */
  readonly only: readonly string[];
  readonly quick: boolean;
  readonly sizes: readonly number[];
  /** Writes V8 CPU profiles of the bridge processes to bench/results/profiles/ and summarises them. */
  readonly profile: boolean;
  /** Rows of each WAL → amqp run. */
  readonly walRows: number;
  /** Regenerate docs/benchmarks.md (default: only for a full run). */
  readonly writeDocs: boolean;
}

export const allScenarios = [...upstreamNames, 'wal'];

export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv.filter((arg) => arg !== '--'),
    options: {
      only: { type: 'string' },
      quick: { type: 'boolean', default: false },
      sizes: { type: 'string', default: '100,4096' },
      profile: { type: 'boolean', default: false },
      'wal-rows': { type: 'string' },
      'write-docs': { type: 'boolean' },
    },
  });
  const only = values.only ? values.only.split(',').map((name) => name.trim()) : allScenarios;
  const unknown = only.filter((name) => !allScenarios.includes(name));
  if (unknown.length > 0) throw new Error(`--only: unknown ${unknown.join(', ')}; known: ${allScenarios.join(', ')}`);
  const quick = values.quick ?? false;
  return {
    only,
    quick,
    sizes: values.sizes!.split(',').map(Number),
    profile: values.profile ?? false,
    walRows: Number(values['wal-rows'] ?? (quick ? 20_000 : 100_000)),
    writeDocs: values['write-docs'] ?? (!values.only && !quick),
  };
}
