/** The JSON of one `pnpm bench` run, which the Markdown table and the chart are rendered from. */
import type { Machine } from '../machine.js';
import type { PairResult } from '../notify-pair.js';
import type { ProfileSummary } from '../profile-summary.js';
import type { WalAmqpResult } from '../wal-amqp.js';

export interface BenchRun {
  readonly benchmark: 'pnpm bench';
  readonly date: string;
  readonly machine: Machine;
  readonly settings: { readonly quick: boolean; readonly latencySeconds: number; readonly latencyRate: number; readonly command: string };
  readonly durationSeconds: number;
  /** Events per second one LISTENing pg client receives, per payload size. */
  readonly notifyCeilings: Readonly<Record<string, number>>;
  readonly notify: readonly PairResult[];
  readonly wal: readonly WalAmqpResult[];
  readonly profiles: readonly ProfileSummary[];
}
