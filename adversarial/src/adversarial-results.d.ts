/** What one class of hostile inputs did to the daemon. */
export interface AdversarialResult {
    /** `hostile HTTP`, `hostile SQL roles`, ... */
    readonly inputClass: string;
    /** What the inputs were, in a few words. */
    readonly inputs: readonly string[];
    /** Times the daemon process exited on its own. Must be 0. */
    readonly daemonExits: number;
    /** Canary events (sent after every input, through every source) that never arrived. Must be 0. */
    readonly eventsLost: number;
    /** Attacks that worked: an escalation, a forged event delivered, a secret printed. Must be 0. */
    readonly breaches: number;
    readonly seconds: number;
}
/**
 * Collects what a test file's cases did and writes it to adversarial/results/<file>.json, which
 * `pnpm test:faults`' report renders into docs/reliability.md.
 */
export declare class AdversarialResults {
    #private;
    constructor(file: string);
    add(result: AdversarialResult): void;
    write(): Promise<void>;
}
//# sourceMappingURL=adversarial-results.d.ts.map