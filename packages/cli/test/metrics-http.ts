/** GETs `url`; resolves with the status and the body (parsed when JSON). */
export async function get(url: string): Promise<{ status: number; text: string; json: () => unknown }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  const text = await response.text();
  return { status: response.status, text, json: () => JSON.parse(text) as unknown };
}

/** The value of one sample (`name{labels}`, labels in any order), or undefined when absent. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return undefined;
}

/**
 * Problems with `text` as Prometheus text exposition format 0.0.4: every line a HELP, a TYPE or
 * a sample; names and labels well-formed; values numbers; every sample of a family declared by
 * TYPE before it; histogram buckets cumulative and ending in +Inf equal to _count.
 */
export function prometheusProblems(text: string): string[] {
  const problems: string[] = [];
  const types = new Map<string, string>();
  const buckets = new Map<string, { le: string; value: number }[]>();
  const counts = new Map<string, number>();
  if (!text.endsWith('\n')) problems.push('does not end with a newline');
  for (const [index, line] of text.split('\n').entries()) {
    if (line === '') continue;
    const at = `line ${index + 1} "${line.slice(0, 120)}"`;
    const comment = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (comment) {
      if (comment[1] === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(comment[3]!)) problems.push(`${at}: unknown type`);
        if (types.has(comment[2]!)) problems.push(`${at}: TYPE declared twice`);
        types.set(comment[2]!, comment[3]!);
      }
      continue;
    }
    if (line.startsWith('#')) continue;
    // Values as Prometheus reads them (Go's ParseFloat: NaN and Inf in any case; prom-client writes Nan).
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (-?(?:\d+(?:\.\d+)?(?:e[+-]?\d+)?|[+-]?inf|nan))( -?\d+)?$/i.exec(line);
    if (!match) {
      problems.push(`${at}: not a valid sample`);
      continue;
    }
    const name = match[1]!;
    const family = [name, name.replace(/_(bucket|sum|count|total|created)$/, '')].find((candidate) => types.has(candidate));
    if (!family) problems.push(`${at}: no TYPE for ${name}`);
    if (family && types.get(family) === 'histogram') {
      const labels = [...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)]
        .filter((pair) => pair[1] !== 'le')
        .map((pair) => pair[0])
        .sort()
        .join(',');
      if (name.endsWith('_bucket')) {
        const le = /le="([^"]*)"/.exec(match[2] ?? '')?.[1];
        if (le === undefined) problems.push(`${at}: bucket without le`);
        else buckets.set(`${family}${labels}`, [...(buckets.get(`${family}${labels}`) ?? []), { le, value: Number(match[3]) }]);
      } else if (name.endsWith('_count')) counts.set(`${family}${labels}`, Number(match[3]));
    }
  }
  for (const [series, list] of buckets) {
    for (let i = 1; i < list.length; i++) if (list[i]!.value < list[i - 1]!.value) problems.push(`${series}: buckets not cumulative`);
    if (list.at(-1)?.le !== '+Inf') problems.push(`${series}: last bucket is not +Inf`);
    else if (counts.get(series) !== list.at(-1)!.value) problems.push(`${series}: +Inf bucket ${list.at(-1)!.value} differs from _count ${counts.get(series)}`);
  }
  return problems;
}
