import { randomUUID } from 'node:crypto';
import { connect, type Channel, type ChannelModel, type ConsumeMessage, type MessageProperties } from 'amqplib';
import { MessageInbox, type ReceivedMessage, type TestTarget } from '@pg-event-bridge/testkit';

/** The shared RabbitMQ of the machine, vhost `/` written the pg-event-proxy way. */
export const rabbitUrl = 'amqp://guest:guest@127.0.0.1:5672//';

/** A message as a test consumer received it, with its AMQP properties. */
export interface AmqpReceived extends ReceivedMessage {
  readonly properties: MessageProperties;
}

/** Options of {@link Rabbit.provision}. */
export interface ProvisionOptions {
  /** Queue arguments (`x-max-length`...) for `queue` targets. */
  readonly arguments?: Record<string, unknown>;
}

/** A test-side connection to RabbitMQ that declares uniquely named targets and consumes them. */
export class Rabbit {
  private constructor(readonly connection: ChannelModel) {}

  static async open(): Promise<Rabbit> {
    const connection = await connect(rabbitUrl);
    connection.on('error', () => {});
    return new Rabbit(connection);
  }

  close(): Promise<void> {
    return this.connection.close();
  }

  /** Runs `use` on a fresh channel, since any failed operation closes the channel it ran on. */
  async withChannel<T>(use: (channel: Channel) => Promise<T>): Promise<T> {
    const channel = await this.connection.createChannel();
    channel.on('error', () => {});
    try {
      return await use(channel);
    } finally {
      await channel.close().catch(() => {});
    }
  }

  /**
   * Declares a fresh `exchange` (topic, with a queue bound to `#`) or `queue`, and consumes
   * everything that reaches it.
   */
  async provision(kind: string, options: ProvisionOptions = {}): Promise<TestTarget<AmqpReceived>> {
    const name = uniqueName(kind);
    const channel = await this.connection.createChannel();
    channel.on('error', () => {});
    let queue = name;
    if (kind === 'exchange') {
      await channel.assertExchange(name, 'topic', { durable: false });
      queue = (await channel.assertQueue('', { exclusive: true })).queue;
      await channel.bindQueue(queue, name, '#');
    } else if (kind === 'queue') {
      await channel.assertQueue(name, { durable: false, arguments: options.arguments });
    } else {
      throw new Error(`Rabbit.provision: unknown kind ${kind}`);
    }
    const inbox = new MessageInbox<AmqpReceived>();
    await channel.consume(queue, (message) => message && inbox.push(received(message)), { noAck: true });
    return {
      target: { kind, name },
      inbox,
      dispose: async () => {
        await channel.deleteQueue(queue);
        if (kind === 'exchange') await channel.deleteExchange(name);
        await channel.close();
      },
    };
  }
}

export function uniqueName(prefix: string): string {
  return `pgeb-test-${prefix}-${randomUUID()}`;
}

function received(message: ConsumeMessage): AmqpReceived {
  const headers = Object.fromEntries(Object.entries(message.properties.headers ?? {}).map(([key, value]) => [key, String(value)]));
  return { body: message.content, routingKey: message.fields.routingKey, headers, properties: message.properties };
}
