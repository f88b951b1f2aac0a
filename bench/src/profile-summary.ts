/**
 * Top self-time functions of a V8 `.cpuprofile` (what `node --cpu-prof` writes): the share of
 * busy (non-idle) samples spent in each function itself.
 */
import { readFile } from 'node:fs/promises';

interface CpuProfile {
  readonly nodes: ReadonlyArray<{ readonly id: number; readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number } }>;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileSummary {
  readonly scenario: string;
  readonly file: string;
  readonly busyMs: number;
  readonly idleMs: number;
  readonly top: ReadonlyArray<{ readonly fn: string; readonly where: string; readonly selfMs: number; readonly percent: number }>;
}

export async function summariseProfile(file: string, scenario: string, limit = 15): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const selfUs = new Map<string, number>();
  let idle = 0;
  let busy = 0;
  profile.samples.forEach((id, index) => {
    const frame = frames.get(id)!;
    const delta = profile.timeDeltas[index] ?? 0;
    if (frame.functionName === '(idle)') {
      idle += delta;
      return;
    }
    busy += delta;
    const key = `${frame.functionName || '(anonymous)'}\t${shorten(frame.url)}:${frame.lineNumber + 1}`;
    selfUs.set(key, (selfUs.get(key) ?? 0) + delta);
  });
  const top = [...selfUs.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([key, us]) => {
      const [fn, where] = key.split('\t') as [string, string];
      return { fn, where, selfMs: Math.round(us / 1000), percent: Math.round((us / busy) * 1000) / 10 };
    });
  return { scenario, file, busyMs: Math.round(busy / 1000), idleMs: Math.round(idle / 1000), top };
}

/** `file:///…/node_modules/.pnpm/amqplib@0.10.9/node_modules/amqplib/lib/x.js` → `amqplib/lib/x.js`. */
function shorten(url: string): string {
  if (!url) return '(native)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules !== -1) return url.slice(modules + 'node_modules/'.length);
  const packages = url.indexOf('/packages/');
  if (packages !== -1) return url.slice(packages + 1);
  return url.replace(/^file:\/\/.*\/bench\//, 'bench/');
}
