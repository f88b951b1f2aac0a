import { BridgeError } from '@pg-event-bridge/core';

// A file of 100,000 bad keys is reported by its first problems, not by megabytes of stderr.
const maxShownProblems = 50;
const maxProblemLength = 2_000;

/**
 * The configuration is invalid. `problems` lists every problem found, each naming the key as the
 * user wrote it, the offending value (redacted) and what to do; the message joins the first 50,
 * control characters escaped (a binary file must not drive the terminal).
 */
export class ConfigError extends BridgeError {
  readonly problems: readonly string[];
  /** Values to redact from anything printed about this error. */
  readonly secrets: readonly string[];

  constructor(problems: readonly string[], secrets: readonly string[] = []) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    const shown = problems.slice(0, maxShownProblems).map((problem) => `  - ${printable(problem)}`);
    if (problems.length > maxShownProblems) shown.push(`  - and ${problems.length - maxShownProblems} more; fix these first.`);
    super('ERR_BRIDGE_CONFIG', `[cli] Invalid configuration, ${count}:\n${shown.join('\n')}`);
    this.problems = problems;
    this.secrets = secrets;
  }
}

function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  const escaped = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return escaped.length <= maxProblemLength ? escaped : `${escaped.slice(0, maxProblemLength)}… (cut)`;
}
