import type { Target } from '../publisher.js';
/** Source names that mean "logical replication", never a NOTIFY channel. */
export declare const walSources: readonly ["wal2json", "pgoutput"];
/** Every target kind any upstream accepts. */
export declare const allTargetKinds: readonly ["exchange", "queue", "topic", "stream", "function", "url", "subject"];
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
export declare function parseRules(text: string, options?: ParseRulesOptions): Rule[];
//# sourceMappingURL=parse-rules.d.ts.map