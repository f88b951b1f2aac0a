/** Re-renders docs/benchmarks.md and the chart from a run's JSON (default bench/results/latest.json). */
import { readFile } from 'node:fs/promises';
import type { BenchRun } from './bench-run.js';
import { resultsDir } from './write-results.js';
import { writeReport } from './write-report.js';

const file = process.argv.slice(2).find((arg) => arg !== '--') ?? `${resultsDir}latest.json`;
const run = JSON.parse(await readFile(file, 'utf8')) as BenchRun;
console.log(`written ${await writeReport(run)}`);
