import type { RawConfig } from './raw-config.js';

// `secret_keys` names secrets, it holds none; a `*_file` key holds a path to one.
const secretKey = /pass|secret|token|credential|private|auth|api_?key|access_?key(?!_id)|signing/i;
const notSecret = /^secret_keys$|_file$/i;
// Query parameters named like this hold secrets whatever their length.
const secretParameter = /pass|secret|token|key|sig|auth|credential|code|session|jwt/i;
const embeddedPassword = /[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:([^\s@/]+)@/gi;
const uriText = /[a-z][a-z0-9+.-]*:\/\/[^\s,]+/gi;
// Shorter values would turn ordinary words of the logs into `***`; they are no secret anyway.
const minLength = 3;
// A query value this long is treated as a secret whatever its parameter is called.
const longQueryValue = 8;

/**
 * True for keys whose whole value is a secret: names containing pass, secret, token, credential,
 * private, auth, api_key, access_key (not access_key_id) or signing, and any key the user lists in
 * `[bridge] secret_keys`. Keys ending in `_file` name a file holding a secret, and are not one.
 */
export function isSecretKey(key: string, marked: readonly string[] = []): boolean {
  const name = key.toLowerCase();
  return marked.includes(name) || (secretKey.test(name) && !notSecret.test(name));
}

/** True for keys holding a JSON object of HTTP headers, every value of which is secret. */
export function isHeadersKey(key: string): boolean {
  return /(^|_)headers$/i.test(key);
}

/** The key names listed in `[bridge] secret_keys` (comma or space separated, lower-cased). */
export function markedSecretKeys(...raws: readonly RawConfig[]): string[] {
  return raws.flatMap((raw) => (raw.bridge.get('secret_keys')?.value ?? '').split(/[\s,]+/).filter((key) => key !== '').map((key) => key.toLowerCase()));
}

/**
 * Every value of the raw configuration that must never be printed: URI passwords (as written and
 * percent-decoded), secret query parameters of any URI (named like a token, or long), whole values
 * of secret keys (see {@link isSecretKey}; `marked` adds to them), every value of a `headers`
 * object, and, from `env`, values of 8 characters or more of variables named like secrets
 * (AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, PGPASSWORD...).
 * Works on unvalidated input, so even the error report of a broken configuration can be redacted.
 */
export function collectSecrets(raw: RawConfig, marked: readonly string[] = [], env: Readonly<Record<string, string | undefined>> = {}): string[] {
  const found = new Set<string>();
  const add = (secret: string) => {
    for (const form of [secret, secret.trim(), safeDecode(secret)]) if (form.length >= minLength) found.add(form);
  };
  const sections = [raw.database, raw.bridge, ...[...raw.upstreams.values()].map((upstream) => upstream.values)];
  for (const values of sections) {
    for (const [key, { value }] of values) {
      if (isSecretKey(key, marked)) add(value);
      if (isHeadersKey(key)) for (const secret of headerSecrets(value)) add(secret);
      for (const match of value.matchAll(embeddedPassword)) add(match[1]!);
      for (const [uri] of value.matchAll(uriText)) for (const secret of querySecrets(uri)) add(secret);
      if (key === 'uri') {
        // A URI too broken to parse (`#` in the password) still has its password up to the last `@`.
        const userinfo = /^[a-z][a-z0-9+.-]*:\/\/(.*)@/i.exec(value)?.[1];
        const colon = userinfo?.indexOf(':') ?? -1;
        if (userinfo && colon !== -1) add(userinfo.slice(colon + 1));
      }
    }
  }
  for (const [name, value] of Object.entries(env)) {
    // Only long values: `SOME_AUTH_ENABLED=true` must not turn every `true` of the logs into `***`.
    if (value && value.length >= longQueryValue && !name.startsWith('PGPROXY_') && isSecretKey(name)) add(value);
  }
  return [...found].sort((a, b) => b.length - a.length);
}

/** Each value of a JSON headers object, and its last word (the token after `Bearer`); all of it when unreadable. */
function headerSecrets(text: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [text];
  }
  if (typeof parsed !== 'object' || parsed === null) return [text];
  return Object.values(parsed).flatMap((value) => {
    const shown = typeof value === 'string' ? value : JSON.stringify(value) ?? '';
    const last = shown.trim().split(/\s+/).at(-1) ?? '';
    return last.length >= longQueryValue ? [shown, last] : [shown];
  });
}

function querySecrets(uri: string): string[] {
  const start = uri.indexOf('?');
  if (start === -1) return [];
  return uri
    .slice(start + 1)
    .split(/[&#]/)
    .flatMap((pair) => {
      const equals = pair.indexOf('=');
      const [name, value] = equals === -1 ? ['', pair] : [pair.slice(0, equals), pair.slice(equals + 1)];
      return secretParameter.test(name) || value.length >= longQueryValue ? [value] : [];
    });
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
