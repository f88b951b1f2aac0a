import { BridgeError } from '@pg-event-bridge/core';

/**
 * The configuration is invalid. `problems` lists every problem found, each naming the key as the
 * user wrote it, the offending value (redacted) and what to do; the message joins them.
 */
export class ConfigError extends BridgeError {
  readonly problems: readonly string[];
  /** Values to redact from anything printed about this error. */
  readonly secrets: readonly string[];

  constructor(problems: readonly string[], secrets: readonly string[] = []) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super('ERR_BRIDGE_CONFIG', `[cli] Invalid configuration, ${count}:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.problems = problems;
    this.secrets = secrets;
  }
}
