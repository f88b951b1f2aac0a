import type { RawConfig } from './raw-config.js';

const secretKey = /pass|secret|token|credential|private/i;

/** True for keys whose whole value is a secret (`password`, `api_token`...). */
export function isSecretKey(key: string): boolean {
  return secretKey.test(key);
}
const embeddedPassword = /[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:([^\s@/]+)@/gi;
// Shorter values would turn ordinary words of the logs into `***`; they are no secret anyway.
const minLength = 3;

/**
 * Every value of the raw configuration that must never be printed: URI passwords (as written and
 * percent-decoded), and whole values of keys named like `password`, `secret` or `token`. Works on
 * unvalidated input, so even the error report of a broken configuration can be redacted.
 */
export function collectSecrets(raw: RawConfig): string[] {
  const found = new Set<string>();
  const add = (secret: string) => {
    for (const form of [secret, safeDecode(secret)]) if (form.length >= minLength) found.add(form);
  };
  const sections = [raw.database, raw.bridge, ...[...raw.upstreams.values()].map((upstream) => upstream.values)];
  for (const values of sections) {
    for (const [key, { value }] of values) {
      if (isSecretKey(key)) add(value);
      for (const match of value.matchAll(embeddedPassword)) add(match[1]!);
      if (key === 'uri') {
        // A URI too broken to parse (`#` in the password) still has its password up to the last `@`.
        const userinfo = /^[a-z][a-z0-9+.-]*:\/\/(.*)@/i.exec(value)?.[1];
        const colon = userinfo?.indexOf(':') ?? -1;
        if (userinfo && colon !== -1) add(userinfo.slice(colon + 1));
      }
    }
  }
  return [...found].sort((a, b) => b.length - a.length);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
