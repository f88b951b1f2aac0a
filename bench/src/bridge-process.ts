/**
 * Starts the bridge under test in a child process (see bridge-child.ts) and talks to it: wait
 * until it published a number of events, stop it and read its peak RSS.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WalSourceOptions } from '@pg-event-bridge/core';

export interface BridgeChildConfig {
  /** A name of upstreams/index.ts. */
  readonly upstream: string;
  readonly publisherOptions: unknown;
  readonly rules: string;
  readonly postgres: string;
  readonly wal?: Omit<WalSourceOptions, 'postgres' | 'plugin'>;
}

/** Event-loop time in ms, as `performance.eventLoopUtilization()` counts it. */
export interface LoopTime {
  readonly active: number;
  readonly idle: number;
}

/** The bridge process's resource use so far. */
export interface BridgeUsage {
  readonly cpuUs: number;
  readonly loop: LoopTime;
}

/** Share of the time between two readings that the event loop was busy. */
export function loopBusy(from: BridgeUsage, to: BridgeUsage): number {
  const active = to.loop.active - from.loop.active;
  const idle = to.loop.idle - from.loop.idle;
  return Math.round((active / (active + idle)) * 100) / 100;
}

export interface BridgeProcessOptions {
  /** Writes a V8 CPU profile of the bridge's process into this folder. */
  readonly cpuProfileDir?: string;
}

type Reply = { type: 'started' } | { type: 'reached'; published: number; cpuUs: number; loop: LoopTime } | { type: 'stopped'; peakRssMiB: number } | { type: 'failed'; message: string };

export class BridgeProcess {
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  #waiting: { type: Reply['type']; resolve: (reply: Reply) => void; reject: (error: Error) => void } | undefined;
  #failure: Error | undefined;

  private constructor(child: ChildProcess) {
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.on('message', (reply: Reply) => {
      if (reply.type === 'failed') {
        this.#failure = new Error(`bridge process: ${reply.message}`);
        this.#waiting?.reject(this.#failure);
      } else if (this.#waiting?.type === reply.type) {
        this.#waiting.resolve(reply);
      }
    });
    child.once('exit', (code) => this.#waiting?.reject(new Error(`bridge process exited (${code}) unexpectedly`)));
  }

  static async start(config: BridgeChildConfig, options: BridgeProcessOptions = {}): Promise<BridgeProcess> {
    const execArgv = ['--import', import.meta.resolve('tsx')];
    if (options.cpuProfileDir) execArgv.push('--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir);
    const child = fork(fileURLToPath(new URL('./bridge-child.ts', import.meta.url)), [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const bridge = new BridgeProcess(child);
    await bridge.#request({ type: 'start', config }, 'started');
    return bridge;
  }

  /**
   * Resolves once the bridge has published `count` events since it started, with the CPU time
   * (user + system, in µs) its process had used by then and its event loop's busy and idle time.
   */
  async published(count: number): Promise<BridgeUsage> {
    const reply = (await this.#request({ type: 'await', published: count }, 'reached')) as Extract<Reply, { type: 'reached' }>;
    return { cpuUs: reply.cpuUs, loop: reply.loop };
  }

  /** Stops the bridge (draining) and returns the process's peak RSS in MiB. */
  async stop(): Promise<number> {
    const reply = (await this.#request({ type: 'stop' }, 'stopped')) as Extract<Reply, { type: 'stopped' }>;
    await this.#exited;
    return reply.peakRssMiB;
  }

  kill(): void {
    if (this.#child.exitCode === null) this.#child.kill('SIGKILL');
  }

  #request(message: unknown, expect: Reply['type']): Promise<Reply> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise<Reply>((resolve, reject) => {
      this.#waiting = { type: expect, resolve, reject };
      this.#child.send(message as object);
    }).finally(() => (this.#waiting = undefined));
  }
}
