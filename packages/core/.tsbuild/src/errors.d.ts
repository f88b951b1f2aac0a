declare const marker: unique symbol;
/**
 * Every error code the bridge can raise. `docs/errors.md` documents each one; a test keeps the
 * two lists identical.
 */
export declare const errorCodes: {
    readonly ERR_BRIDGE_CONFIG: "Invalid configuration value or combination of options.";
    readonly ERR_BRIDGE_RULE_SYNTAX: "A BRIDGE_CHANNELS rule could not be parsed.";
    readonly ERR_BRIDGE_RULE_KIND: "A rule names a target kind the upstream does not accept.";
    readonly ERR_BRIDGE_RULE_DUPLICATE: "The same source and target appear twice in the rules.";
    readonly ERR_BRIDGE_PAYLOAD_TOO_LARGE: "A message is larger than the upstream accepts.";
    readonly ERR_BRIDGE_UPSTREAM_UNAVAILABLE: "The upstream broker could not be reached or the connection was lost.";
    readonly ERR_BRIDGE_UPSTREAM_REJECTED: "The upstream broker refused the message (negative acknowledgement).";
    readonly ERR_BRIDGE_UNROUTABLE: "The broker accepted the connection but no queue received the message.";
    readonly ERR_BRIDGE_TARGET_MISSING: "The exchange, queue, topic or function named by a rule does not exist.";
    readonly ERR_BRIDGE_POSTGRES: "PostgreSQL could not be reached or refused a command.";
    readonly ERR_BRIDGE_ABORTED: "The operation was cancelled because the bridge is stopping.";
    readonly ERR_BRIDGE_STATE: "A method was called in the wrong lifecycle state (for example start() twice).";
};
/** A documented error code. */
export type BridgeErrorCode = keyof typeof errorCodes;
/** Options of {@link BridgeError}. */
export interface BridgeErrorOptions {
    /** True when trying the same operation again later may succeed. @default false */
    retryable?: boolean;
    /** The underlying error. */
    cause?: unknown;
}
/**
 * The one error class of pg-event-bridge. `code` is stable and documented, `retryable` tells the
 * delivery engine whether to back off and retry or to dead-letter.
 *
 * Use {@link BridgeError.isInstance} rather than `instanceof`: it also recognises errors created
 * by another copy of the package.
 *
 * @example
 * ```ts
 * throw new BridgeError('ERR_BRIDGE_PAYLOAD_TOO_LARGE', '[amqp] Message of 200 bytes exceeds 100', { retryable: false });
 * ```
 */
export declare class BridgeError extends Error {
    readonly [marker] = true;
    readonly name = "BridgeError";
    readonly code: BridgeErrorCode;
    readonly retryable: boolean;
    constructor(code: BridgeErrorCode, message: string, options?: BridgeErrorOptions);
    /** True for any BridgeError, whichever copy of the package created it. */
    static isInstance(value: unknown): value is BridgeError;
}
/**
 * Turns anything thrown into a BridgeError. Errors that are not BridgeErrors are treated as
 * retryable with the given code: an unknown failure of a broker client is most often transient.
 */
export declare function toBridgeError(error: unknown, code: BridgeErrorCode, message: string): BridgeError;
export {};
//# sourceMappingURL=errors.d.ts.map