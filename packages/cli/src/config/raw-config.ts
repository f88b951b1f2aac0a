/** A value as read, before validation, with where it came from for error messages. */
export interface RawValue {
  readonly value: string;
  /** The key as the user wrote it: `PGPROXY_DATABASE-URI` or `app.ini [database] uri`. */
  readonly origin: string;
}

/** The keys of one `[upstream.NAME]` section, by lower-case key. */
export interface RawUpstream {
  /** The name as first written (`MyAmqp` in `[upstream.MyAmqp]`, `myamqp` from a variable). */
  readonly name: string;
  readonly values: Map<string, RawValue>;
}

/** Unvalidated configuration from one source (ini file or environment). */
export interface RawConfig {
  readonly database: Map<string, RawValue>;
  readonly bridge: Map<string, RawValue>;
  /** By lower-case name: `[upstream.MyAmqp]` and `PGPROXY_UPSTREAM-MYAMQP-*` are one upstream. */
  readonly upstreams: Map<string, RawUpstream>;
}

/** A RawConfig with nothing in it. */
export function emptyRawConfig(): RawConfig {
  return { database: new Map(), bridge: new Map(), upstreams: new Map() };
}

/** The section of upstream `name`, created on first use. */
export function rawUpstream(raw: RawConfig, name: string): RawUpstream {
  const id = name.toLowerCase();
  let upstream = raw.upstreams.get(id);
  if (!upstream) {
    upstream = { name, values: new Map() };
    raw.upstreams.set(id, upstream);
  }
  return upstream;
}

/** `base` with every value of `override` replacing the one it names. Neither input changes. */
export function mergeRawConfig(base: RawConfig, override: RawConfig): RawConfig {
  const merged = emptyRawConfig();
  for (const source of [base, override]) {
    for (const [key, value] of source.database) merged.database.set(key, value);
    for (const [key, value] of source.bridge) merged.bridge.set(key, value);
    for (const upstream of source.upstreams.values()) {
      const target = rawUpstream(merged, upstream.name);
      for (const [key, value] of upstream.values) target.values.set(key, value);
    }
  }
  return merged;
}

/** True when no source set anything. */
export function isEmptyRawConfig(raw: RawConfig): boolean {
  return raw.database.size === 0 && raw.bridge.size === 0 && raw.upstreams.size === 0;
}
