/** Renders a run into bench/results/benchmarks.svg and docs/benchmarks.md. */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { BenchRun } from './bench-run.js';
import { renderMarkdown } from './render-markdown.js';
import { renderSvg } from './render-svg.js';
import { docsFile, resultsDir } from './write-results.js';

/** Hand-written reading of the figures, included in the generated page. */
const notesFile = fileURLToPath(new URL('../../benchmark-notes.md', import.meta.url));

export async function writeReport(run: BenchRun): Promise<string> {
  await writeFile(`${resultsDir}benchmarks.svg`, renderSvg(run));
  const notes = await readFile(notesFile, 'utf8').catch(() => '');
  await writeFile(docsFile, renderMarkdown(run, '../bench/results/benchmarks.svg', notes));
  return docsFile;
}
