import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect as connectNats } from '@nats-io/transport-node';
import { findFreePort, waitFor } from '@pg-event-bridge/testkit';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import mqtt from 'mqtt';

/** What arrived at the broker, body by body, in arrival order. */
export interface Collector {
  /** Bodies received so far (for brokers that store, everything stored once `collect` resolved). */
  collect(): Promise<Buffer[]>;
  close(): Promise<void>;
}

/** A broker the fault suite can send to, cut off, and (where it is private) restart. */
export interface FaultBroker {
  readonly kind: 'amqp' | 'mqtt' | 'redis' | 'nats';
  /** The broker's own port: the fault proxy forwards to it. */
  readonly port: number;
  /** `[upstream.NAME]` lines for the daemon, reaching the broker at `port` (the proxy). */
  upstream(port: number, source: string, target: string): string[];
  /** Creates the target and starts collecting what reaches it. */
  provision(target: string): Promise<Collector>;
  /** Restarts the broker process, or undefined when it is shared and must not be restarted. */
  readonly restart?: () => Promise<void>;
  stop(): Promise<void>;
}

const host = '127.0.0.1';

async function portAnswers(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const socket = connect(port, host, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/** A broker process of our own, so it can be stopped and started without touching shared services. */
async function privateProcess(command: string, args: (port: number, dir: string) => Promise<string[]>) {
  const dir = await mkdtemp(join(tmpdir(), `faults-${command}-`));
  const port = await findFreePort();
  const argv = await args(port, dir);
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(command, argv, { stdio: 'ignore' });
    await waitFor(() => portAnswers(port), { timeoutMs: 15_000, what: `${command} on ${port}` });
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    port,
    restart: async () => {
      await stop();
      await start();
    },
    stop: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The machine's RabbitMQ, shared with other tests: cut and blackholed through the proxy only. */
export async function rabbitBroker(): Promise<FaultBroker> {
  const url = 'amqp://guest:guest@127.0.0.1:5672';
  return {
    kind: 'amqp',
    port: 5672,
    upstream: (port, source, target) => ['kind=amqp', `uri=amqp://guest:guest@${host}:${port}//`, `bridge_channels=${source}->exchange:${target}`],
    async provision(target) {
      const connection = await amqp.connect(url);
      const channel = await connection.createChannel();
      await channel.assertExchange(target, 'topic', { durable: false });
      const { queue } = await channel.assertQueue('', { exclusive: true });
      await channel.bindQueue(queue, target, '#');
      const bodies: Buffer[] = [];
      await channel.consume(queue, (message) => message && bodies.push(message.content), { noAck: true });
      return {
        collect: async () => bodies,
        close: async () => {
          await channel.deleteExchange(target);
          await connection.close();
        },
      };
    },
    stop: async () => undefined,
  };
}

/**
 * A private Mosquitto read by a subscriber with a persistent session. It is cut and blackholed
 * but not restarted: in our checks Mosquitto 2.0.11 did not bring back a persistent session's
 * queued QoS 1 messages after a restart, so any loss there would be the broker's, after its PUBACK.
 */
export async function mosquittoBroker(): Promise<FaultBroker> {
  const broker = await privateProcess('mosquitto', async (port, dir) => {
    const config = join(dir, 'mosquitto.conf');
    await writeFile(config, [`listener ${port} ${host}`, 'allow_anonymous true', 'max_queued_messages 0', ''].join('\n'));
    return ['-c', config];
  });
  return {
    kind: 'mqtt',
    port: broker.port,
    upstream: (port, source, target) => ['kind=mqtt', `uri=mqtt://${host}:${port}`, 'separator=/', `bridge_channels=${source}->topic:${target}`],
    async provision(target) {
      const bodies: Buffer[] = [];
      const client = await mqtt.connectAsync(`mqtt://${host}:${broker.port}`, { clientId: `faults-${target}`, clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 3600 } });
      client.on('message', (_topic, payload) => bodies.push(payload));
      await client.subscribeAsync(`${target}/#`, { qos: 1 });
      return { collect: async () => bodies, close: () => client.endAsync() };
    },
    stop: broker.stop,
  };
}

/** A private Redis writing every command to its append-only file; the bridge XADDs to a stream. */
export async function redisBroker(): Promise<FaultBroker> {
  const broker = await privateProcess('redis-server', async (port, dir) => ['--port', String(port), '--bind', host, '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always']);
  return {
    kind: 'redis',
    port: broker.port,
    upstream: (port, source, target) => ['kind=redis', `uri=redis://${host}:${port}`, `bridge_channels=${source}->stream:${target}`],
    async provision(target) {
      return {
        async collect() {
          const client = new Redis({ host, port: broker.port, lazyConnect: true });
          await client.connect();
          const entries = await client.xrange(target, '-', '+');
          client.disconnect();
          return entries.map(([, fields]) => Buffer.from(fields[fields.indexOf('body') + 1] ?? ''));
        },
        close: async () => undefined,
      };
    },
    restart: broker.restart,
    stop: broker.stop,
  };
}

/** A private NATS with JetStream on disk; the bridge publishes into a stream. */
export async function natsBroker(): Promise<FaultBroker> {
  const broker = await privateProcess('nats-server', async (port, dir) => ['-a', host, '-p', String(port), '-js', '-sd', dir]);
  return {
    kind: 'nats',
    port: broker.port,
    upstream: (port, source, target) => ['kind=nats', `uri=nats://${host}:${port}`, `bridge_channels=${source}->subject:${target}`],
    async provision(target) {
      const setup = await connectNats({ servers: `${host}:${broker.port}` });
      await (await jetstreamManager(setup)).streams.add({ name: target, subjects: [`${target}.>`, target] });
      await setup.close();
      return {
        async collect() {
          const nc = await connectNats({ servers: `${host}:${broker.port}` });
          const consumer = await jetstream(nc).consumers.get(target);
          const bodies: Buffer[] = [];
          for (;;) {
            const batch = await consumer.fetch({ max_messages: 1000, expires: 1000 });
            let count = 0;
            for await (const message of batch) {
              bodies.push(Buffer.from(message.data));
              count += 1;
            }
            if (count === 0) break;
          }
          await nc.close();
          return bodies;
        },
        close: async () => undefined,
      };
    },
    restart: broker.restart,
    stop: broker.stop,
  };
}
