/** The machine a run is recorded with: cores, CPU model, Node, Postgres and broker versions. */
import { cpus, totalmem } from 'node:os';

export interface Machine {
  readonly cores: number;
  readonly cpu: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly postgres: string;
}

export function describeMachine(postgres: string): Machine {
  return { cores: cpus().length, cpu: cpus()[0]?.model.trim() ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, postgres };
}
