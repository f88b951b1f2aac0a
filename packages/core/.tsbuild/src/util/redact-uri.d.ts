/**
 * Hides the password (and any `password=` / `secret=` query parameter) of a connection URI so it
 * can be logged or shown in an error. Unparsable input is replaced wholesale rather than echoed,
 * since it may be a secret.
 *
 * @example
 * ```ts
 * redactUri('amqp://user:s3cret@rabbit//'); // 'amqp://user:***@rabbit//'
 * ```
 */
export declare function redactUri(uri: string): string;
//# sourceMappingURL=redact-uri.d.ts.map