/** A NOTIFY payload split into routing key and body. */
export interface SplitPayload {
    readonly routingKey: string;
    readonly body: string;
}
/**
 * Splits a NOTIFY payload of the form `routing|body` at its first `|`, but only when the text before
 * it is empty or a plausible routing key (at most 255 bytes, no whitespace, quotes or braces).
 * Otherwise the key is empty and the whole payload is the body, so a JSON document containing `|`
 * is never cut. The body is returned unchanged (not trimmed).
 *
 * @example
 * ```ts
 * splitRouting('signup|A new user signup'); // { routingKey: 'signup', body: 'A new user signup' }
 * splitRouting('{"a":"x|y"}');              // { routingKey: '', body: '{"a":"x|y"}' }
 * ```
 */
export declare function splitRouting(payload: string): SplitPayload;
//# sourceMappingURL=split-routing.d.ts.map