import {
  bridgeKeys,
  databaseKeys,
  envPrefix,
  gen1UpstreamName,
  gen1UpstreamPrefix,
  sectionEnvName,
  upstreamKeys,
  type KeySpec,
  type SectionKind,
} from './config-keys.js';
import { didYouMean } from './did-you-mean.js';
import { emptyRawConfig, rawUpstream, type RawConfig, type RawValue } from './raw-config.js';

/** What a reader found, and what it could not understand. */
export interface ReadResult {
  readonly raw: RawConfig;
  readonly problems: readonly string[];
}

const gen1Fixed = new Map<string, { section: 'database' | 'upstream'; key: string }>([
  ...databaseKeys.filter((spec) => spec.gen1).map((spec) => [spec.gen1!, { section: 'database', key: spec.key }] as const),
  [upstreamKeys.find((spec) => spec.key === 'kind')!.gen1!, { section: 'upstream', key: 'kind' }],
]);

const sectionKeys: Record<SectionKind, readonly KeySpec[]> = { database: databaseKeys, bridge: bridgeKeys };

const knownNames = [
  ...gen1Fixed.keys(),
  ...upstreamKeys.flatMap((spec) => (spec.gen1 ? [spec.gen1] : [])),
  ...databaseKeys.map((spec) => sectionEnvName('database', spec.key)),
  ...bridgeKeys.map((spec) => sectionEnvName('bridge', spec.key)),
];

/**
 * Reads both generations of pg-event-proxy variables: `PGPROXY_LOCAL-*` (one upstream named
 * `local`) and `PGPROXY_DATABASE-*`, `PGPROXY_UPSTREAM-<NAME>-<KEY>`, plus our `PGPROXY_BRIDGE-*`.
 * Names are matched case-insensitively after the `PGPROXY_` prefix; empty values count as unset.
 * Any other `PGPROXY_` variable is a problem (a typo silently ignored would be worse), and so are
 * two variables giving one key different values.
 */
export function readEnv(env: Readonly<Record<string, string | undefined>>): ReadResult {
  const raw = emptyRawConfig();
  const problems: string[] = [];
  const set = (values: Map<string, RawValue>, key: string, value: string, origin: string, where: string) => {
    const previous = values.get(key);
    if (previous && previous.value !== value) {
      problems.push(`${previous.origin} and ${origin} both set ${where}, to different values: remove one of them.`);
    }
    values.set(key, { value, origin });
  };

  for (const origin of Object.keys(env).sort()) {
    const value = env[origin];
    if (!origin.startsWith(envPrefix) || value === undefined || value === '') continue;
    const name = envPrefix + origin.slice(envPrefix.length).toUpperCase();

    const fixed = gen1Fixed.get(name);
    if (fixed?.section === 'database') {
      set(raw.database, fixed.key, value, origin, `[database] ${fixed.key}`);
    } else if (fixed?.section === 'upstream') {
      set(rawUpstream(raw, gen1UpstreamName).values, fixed.key, value, origin, `[upstream.${gen1UpstreamName}] ${fixed.key}`);
    } else if (name.startsWith(gen1UpstreamPrefix) && name.length > gen1UpstreamPrefix.length) {
      const key = name.slice(gen1UpstreamPrefix.length).toLowerCase();
      set(rawUpstream(raw, gen1UpstreamName).values, key, value, origin, `[upstream.${gen1UpstreamName}] ${key}`);
    } else if (sectionOf(name)) {
      const section = sectionOf(name)!;
      const key = name.slice(`${envPrefix}${section}-`.length).toLowerCase();
      const specs = sectionKeys[section];
      if (specs.some((spec) => spec.key === key)) {
        set(raw[section], key, value, origin, `[${section}] ${key}`);
      } else {
        const keys = specs.map((spec) => spec.key);
        const suggestion = didYouMean(key, keys, (candidate) => sectionEnvName(section, candidate));
        problems.push(`${origin} is not a known variable${suggestion}; [${section}] accepts: ${keys.map((k) => sectionEnvName(section, k)).join(', ')}.`);
      }
    } else if (name.startsWith(`${envPrefix}UPSTREAM-`)) {
      const tail = name.slice(`${envPrefix}UPSTREAM-`.length);
      const dash = tail.lastIndexOf('-');
      if (dash <= 0 || dash === tail.length - 1) {
        problems.push(`${origin} does not name an upstream and a key: write PGPROXY_UPSTREAM-<NAME>-<KEY>, e.g. PGPROXY_UPSTREAM-MYAMQP-URI.`);
        continue;
      }
      const upstream = tail.slice(0, dash).toLowerCase();
      const key = tail.slice(dash + 1).toLowerCase();
      set(rawUpstream(raw, upstream).values, key, value, origin, `[upstream.${upstream}] ${key}`);
    } else {
      problems.push(`${origin} is not a known variable${didYouMean(name, [...knownNames, ...guesses(name)])}; see pg-event-bridge --help.`);
    }
  }
  return { raw, problems };
}

function sectionOf(name: string): SectionKind | undefined {
  if (name.startsWith(`${envPrefix}DATABASE-`)) return 'database';
  if (name.startsWith(`${envPrefix}BRIDGE-`)) return 'bridge';
  return undefined;
}

// `PGPROXY_UPSTREM-X-URI` is closest to the name with the section spelled right, which no fixed
// list contains: build those candidates from the variable itself.
function guesses(name: string): string[] {
  const first = name.indexOf('-');
  if (first === -1) return [];
  return [`${envPrefix}UPSTREAM-${name.slice(first + 1)}`, `${gen1UpstreamPrefix}${name.slice(name.lastIndexOf('-') + 1)}`];
}
