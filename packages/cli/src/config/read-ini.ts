import { decode } from 'ini';
import { bridgeKeys, databaseKeys, type KeySpec, type SectionKind } from './config-keys.js';
import { didYouMean } from './did-you-mean.js';
import { emptyRawConfig, rawUpstream, type RawValue } from './raw-config.js';
import type { ReadResult } from './read-env.js';

const sectionKeys: Record<SectionKind, readonly KeySpec[]> = { database: databaseKeys, bridge: bridgeKeys };

/**
 * Reads a pg-event-proxy generation-2 ini file: `[database]`, `[upstream.NAME]` sections, plus
 * our `[bridge]`. Section and key names are matched case-insensitively. Unknown sections and
 * `[database]` / `[bridge]` keys are problems; upstream keys are checked later against the kind.
 *
 * As in any ini file read by the `ini` package, an unescaped `;` or `#` starts a comment, also
 * mid-line: percent-encode them in URIs (`%23`) or escape them (`\#`).
 */
export function readIni(text: string, fileName: string): ReadResult {
  const raw = emptyRawConfig();
  const problems: string[] = [];
  const where = (section: string, key: string) => `${fileName} [${section}] ${key}`;

  const readValues = (section: string, body: Record<string, unknown>, into: Map<string, RawValue>, specs?: readonly KeySpec[]) => {
    for (const [key, value] of Object.entries(body)) {
      const origin = where(section, key);
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        problems.push(`${fileName}: section [${section}.${key}] is not part of the scheme: use [database], [upstream.NAME] (NAME without dots) or [bridge].`);
      } else if (Array.isArray(value)) {
        problems.push(`${origin}[] is a list; give ${key} one value.`);
      } else if (specs && !specs.some((spec) => spec.key === key.toLowerCase())) {
        const keys = specs.map((spec) => spec.key);
        problems.push(`${origin} is not a known key${didYouMean(key, keys)}; [${section}] accepts: ${keys.join(', ')}.`);
      } else {
        // The ini package turns true/false/null into JSON values and a line without `=` into true.
        into.set(key.toLowerCase(), { value: String(value), origin });
      }
    }
  };

  for (const [section, body] of Object.entries(decode(text) as Record<string, unknown>)) {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      problems.push(`${fileName}: "${section}" is outside any section; put it under [database], [upstream.NAME] or [bridge].`);
      continue;
    }
    const record = body as Record<string, unknown>;
    const id = section.toLowerCase();
    if (id === 'database' || id === 'bridge') {
      readValues(section, record, raw[id], sectionKeys[id]);
    } else if (id === 'upstream') {
      for (const [name, upstream] of Object.entries(record)) {
        if (typeof upstream === 'object' && upstream !== null && !Array.isArray(upstream)) {
          readValues(`${section}.${name}`, upstream as Record<string, unknown>, rawUpstream(raw, name).values);
        } else {
          problems.push(`${where(section, name)}: an upstream needs a name; write the section as [upstream.NAME].`);
        }
      }
    } else {
      problems.push(`${fileName}: unknown section [${section}]${didYouMean(section, ['database', 'upstream', 'bridge'])}; use [database], [upstream.NAME] or [bridge].`);
    }
  }
  return { raw, problems };
}
