/**
 * Sends benchmark events through Postgres NOTIFY: as fast as Postgres takes them (throughput) or
 * at a fixed rate (latency). Every statement is its own transaction, so notifications leave at
 * each commit; bodies are distinct, so Postgres never folds duplicates.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { burstKey, paddingFor, probeKey, sqlBody } from './payload.js';

/** Notifications per statement in a burst: large enough that round trips do not dominate. */
const burstStatementRows = 1000;

export class NotifySender {
  readonly #client: pg.Client;

  private constructor(client: pg.Client) {
    this.#client = client;
  }

  static async connect(url: string): Promise<NotifySender> {
    const client = new pg.Client({ connectionString: url, application_name: 'pg-event-bridge-bench-sender' });
    await client.connect();
    return new NotifySender(client);
  }

  /** Sends `count` events of `size` bytes on `channel` as fast as Postgres accepts them. */
  async burst(channel: string, count: number, size: number): Promise<void> {
    for (let from = 1; from <= count; from += burstStatementRows) {
      await this.#send(channel, burstKey, from, Math.min(count, from + burstStatementRows - 1), size);
    }
  }

  /** Sends `rate` events per second for `seconds`, each stamped when Postgres notifies it. */
  async paced(channel: string, rate: number, seconds: number, size: number): Promise<number> {
    const total = Math.round(rate * seconds);
    const started = performance.now();
    let sent = 0;
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - started) * rate) / 1000) + 1);
      if (due > sent) {
        await this.#send(channel, probeKey, sent + 1, due, size);
        sent = due;
      } else {
        await sleep(Math.max(0, started + (sent * 1000) / rate - performance.now()));
      }
    }
    return total;
  }

  #send(channel: string, key: string, from: number, to: number, size: number) {
    return this.#client.query(
      `SELECT pg_notify($1, $2 || ${sqlBody('i')} || $3) FROM generate_series($4::int, $5::int) AS i`,
      [channel, `${key}|`, paddingFor(size), from, to],
    );
  }

  async serverVersion(): Promise<string> {
    return (await this.#client.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
  }

  close(): Promise<void> {
    return this.#client.end();
  }
}
