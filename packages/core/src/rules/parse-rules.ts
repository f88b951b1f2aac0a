import { BridgeError } from '../errors.js';
import type { Target } from '../publisher.js';

/** Source names that mean "logical replication", never a NOTIFY channel. */
export const walSources = ['wal2json', 'pgoutput'] as const;

/** Every target kind any upstream accepts. */
export const allTargetKinds = ['exchange', 'queue', 'topic', 'stream', 'function', 'url', 'subject'] as const;

/** One `src->kind:name` item of BRIDGE_CHANNELS. */
export interface Rule {
  /** A NOTIFY / outbox channel, or `wal2json` / `pgoutput`. */
  readonly source: string;
  readonly sourceType: 'channel' | 'wal2json' | 'pgoutput';
  readonly target: Target;
  /** The item as written, for error messages. */
  readonly text: string;
}

/** Options of {@link parseRules}. */
export interface ParseRulesOptions {
  /** The upstream the rules belong to, named in errors. @default 'core' */
  readonly upstream?: string;
  /** The kinds the upstream accepts. @default every kind in {@link allTargetKinds} */
  readonly targetKinds?: readonly string[];
}

// Postgres truncates identifiers to NAMEDATALEN - 1 bytes; a longer channel would LISTEN on a
// different name than the one written.
const maxChannelBytes = 63;

/**
 * Parses pg-event-proxy's `BRIDGE_CHANNELS`: `src->kind:name, src->kind:name`. The target is split
 * at its first `:`, so `topic:arn:aws:sns:eu-west-2:123:t` names the whole ARN. Errors quote the
 * rule and give its offset in `text`.
 *
 * @example
 * ```ts
 * parseRules('events->exchange:amq.topic, wal2json->queue:changes', { targetKinds: ['exchange', 'queue'] });
 * ```
 */
export function parseRules(text: string, options: ParseRulesOptions = {}): Rule[] {
  const upstream = options.upstream ?? 'core';
  const kinds = options.targetKinds ?? allTargetKinds;
  const rules: Rule[] = [];
  const seen = new Set<string>();
  let offset = 0;

  for (const raw of text.split(',')) {
    const itemStart = offset + (raw.length - raw.trimStart().length);
    offset += raw.length + 1;
    const item = raw.trim();
    // A trailing comma or doubled separator is tolerated, as pg-amqp-bridge did.
    if (item === '') continue;

    const fail = (code: 'ERR_BRIDGE_RULE_SYNTAX' | 'ERR_BRIDGE_RULE_KIND' | 'ERR_BRIDGE_RULE_DUPLICATE', at: number, why: string): never => {
      throw new BridgeError(code, `[${upstream}] Invalid rule "${item}" at ${itemStart + at}: ${why}`);
    };

    const arrow = item.indexOf('->');
    if (arrow === -1) {
      const legacy = item.indexOf(':');
      const hint = legacy > 0 ? ` (write "${item.slice(0, legacy).trim()}->exchange:${item.slice(legacy + 1).trim()}" or "->queue:")` : '';
      fail('ERR_BRIDGE_RULE_SYNTAX', 0, `expected "source->kind:name"${hint}`);
    }
    const source = item.slice(0, arrow).trim();
    if (source === '') fail('ERR_BRIDGE_RULE_SYNTAX', 0, 'the source channel before "->" is empty');
    if (Buffer.byteLength(source) > maxChannelBytes) {
      fail('ERR_BRIDGE_RULE_SYNTAX', 0, `channel "${source}" is longer than ${maxChannelBytes} bytes, which Postgres would truncate`);
    }

    const targetText = item.slice(arrow + 2);
    const targetAt = arrow + 2 + (targetText.length - targetText.trimStart().length);
    const target = targetText.trim();
    const colon = target.indexOf(':');
    if (colon === -1) fail('ERR_BRIDGE_RULE_SYNTAX', targetAt, `expected "kind:name" after "->", got "${target}"`);
    const kind = target.slice(0, colon).trim();
    const name = target.slice(colon + 1).trim();
    if (kind === '') fail('ERR_BRIDGE_RULE_SYNTAX', targetAt, 'the target kind before ":" is empty');
    if (!kinds.includes(kind)) {
      fail('ERR_BRIDGE_RULE_KIND', targetAt, `unknown target kind "${kind}" (${upstream} accepts: ${kinds.join(', ')})`);
    }
    if (name === '') fail('ERR_BRIDGE_RULE_SYNTAX', targetAt + colon + 1, `the ${kind} name after ":" is empty`);

    const key = `${source}\u0000${kind}\u0000${name}`;
    if (seen.has(key)) fail('ERR_BRIDGE_RULE_DUPLICATE', 0, 'the same source and target appear earlier; remove one');
    seen.add(key);

    const sourceType = (walSources as readonly string[]).includes(source) ? (source as Rule['sourceType']) : 'channel';
    rules.push({ source, sourceType, target: { kind, name }, text: item });
  }

  if (rules.length === 0) {
    throw new BridgeError(
      'ERR_BRIDGE_RULE_SYNTAX',
      `[${upstream}] No rules in "${text}": write at least one "channel->kind:name", e.g. "events->${kinds[0] ?? 'exchange'}:events"`,
    );
  }
  return rules;
}
