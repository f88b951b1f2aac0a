/**
 * The logging interface the library writes to. pino's logger satisfies it, and so does
 * `console`-like adapters. The library never logs secrets: URIs pass through {@link redactUri}.
 */
export interface Logger {
    debug(fields: Record<string, unknown>, message: string): void;
    info(fields: Record<string, unknown>, message: string): void;
    warn(fields: Record<string, unknown>, message: string): void;
    error(fields: Record<string, unknown>, message: string): void;
}
/** A logger that drops everything: the default when none is given. */
export declare const silentLogger: Logger;
//# sourceMappingURL=logger.d.ts.map