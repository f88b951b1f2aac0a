/** Where results go: bench/results/ (JSON, the chart) and docs/benchmarks.md. */
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const resultsDir = fileURLToPath(new URL('../../results/', import.meta.url));
export const docsFile = fileURLToPath(new URL('../../../docs/benchmarks.md', import.meta.url));

/** Writes `value` as JSON under bench/results/ and returns the path. */
export async function writeResult(name: string, value: unknown): Promise<string> {
  await mkdir(resultsDir, { recursive: true });
  const file = `${resultsDir}${name}`;
  await writeFile(file, `${JSON.stringify(value, null, 2)}\n`);
  return file;
}
