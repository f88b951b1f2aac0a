import pg from 'pg';
import { pause } from './pause.js';

/** Options of {@link notifyEvents}. */
export interface NotifyEventsOptions {
  readonly databaseUrl: string;
  /** NOTIFY channels; each message goes to every one of them. */
  readonly channels: readonly string[];
  /** Routing key before the `|` (`signup|message 1`); empty sends `|message 1`. @default 'signup' */
  readonly routingKey?: string;
  /** Messages per channel. @default 10 */
  readonly count?: number;
  /** Pause between rounds, as pg-event-proxy-example's generate_events.sh (1 s). @default 1000 */
  readonly intervalMs?: number;
  /** Appended to every message so a run's messages can be told apart. */
  readonly tag?: string;
  /** Called with a line per message sent. @default console.log */
  readonly log?: (line: string) => void;
  readonly signal?: AbortSignal;
}

/**
 * pg-event-proxy-example's generate_events.sh in TypeScript: `pg_notify(channel, 'key|message N')`
 * on each channel, `count` times, one round per `intervalMs`. Resolves with the messages sent.
 */
export async function notifyEvents(options: NotifyEventsOptions): Promise<number> {
  const { count = 10, intervalMs = 1000, routingKey = 'signup', log = console.log } = options;
  const client = new pg.Client({ connectionString: options.databaseUrl, application_name: 'generate_events' });
  await client.connect();
  let sent = 0;
  try {
    for (let i = 1; i <= count && !options.signal?.aborted; i++) {
      const message = options.tag ? `message ${i} (${options.tag})` : `message ${i}`;
      for (const channel of options.channels) {
        await client.query('select pg_notify($1, $2)', [channel, `${routingKey}|${message}`]);
        log(`-> ${channel} ${routingKey}|${message}`);
        sent++;
      }
      if (i < count) await pause(intervalMs, options.signal);
    }
  } finally {
    await client.end();
  }
  return sent;
}
