import { mkdir, writeFile } from 'node:fs/promises';

/** What one class of hostile inputs did to the daemon. */
export interface AdversarialResult {
  /** `hostile HTTP`, `hostile SQL roles`, ... */
  readonly inputClass: string;
  /** What the inputs were, in a few words. */
  readonly inputs: readonly string[];
  /** Times the daemon process exited on its own. Must be 0. */
  readonly daemonExits: number;
  /** Poison events neither delivered nor dead-lettered, and canaries that never arrived. Must be 0. */
  readonly eventsLost: number;
  /** Attacks that worked: an escalation, a forged event delivered, lost precision, memory that followed a hostile size. Must be 0. */
  readonly breaches: number;
  readonly seconds: number;
}

/** What {@link AdversarialResults.write} reads off the daemon under attack. */
export interface AttackedDaemon {
  readonly exits: number;
  readonly canariesLost: number;
}

/**
 * Counts what one test file's hostile inputs did, and writes it to adversarial/results/<file>.json,
 * which `pnpm test:faults`' report renders into docs/reliability.md.
 */
export class AdversarialResults {
  readonly #file: string;
  readonly #inputClass: string;
  readonly #started = performance.now();
  readonly #inputs: string[] = [];
  #lost = 0;
  #breaches = 0;

  constructor(file: string, inputClass: string) {
    this.#file = file;
    this.#inputClass = inputClass;
  }

  /** Records that `name` was tried. */
  input(name: string): void {
    this.#inputs.push(name);
  }

  /** Records events that were neither delivered nor dead-lettered. */
  lost(count = 1): void {
    this.#lost += count;
  }

  /** Records an attack that worked. */
  breach(): void {
    this.#breaches += 1;
  }

  async write(daemon: AttackedDaemon | undefined): Promise<void> {
    if (this.#inputs.length === 0) return;
    const result: AdversarialResult = {
      inputClass: this.#inputClass,
      inputs: this.#inputs,
      daemonExits: daemon ? daemon.exits : -1,
      eventsLost: this.#lost + (daemon?.canariesLost ?? 0),
      breaches: this.#breaches,
      seconds: Math.round((performance.now() - this.#started) / 100) / 10,
    };
    console.info(`[measured] ${JSON.stringify(result)}`);
    const dir = new URL('../results/', import.meta.url);
    await mkdir(dir, { recursive: true });
    await writeFile(new URL(`${this.#file}.json`, dir), `${JSON.stringify({ date: new Date().toISOString(), results: [result] }, null, 2)}\n`);
  }
}
