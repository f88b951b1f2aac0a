import amqp from 'amqplib';

/** Options of {@link listenAmqp}. */
export interface ListenAmqpOptions {
  readonly amqpUrl: string;
  /** @default 'amq.topic' */
  readonly exchange?: string;
  /** @default '#' (everything) */
  readonly bindingKey?: string;
  /** Called with `routing_key | body` for every message. */
  readonly onLine: (line: string) => void;
}

/**
 * Binds a throw-away queue to an exchange and reports every message as `routing_key | body`, as
 * the amqptools container of pg-event-proxy-example's listen_events.sh does. Resolves once
 * consuming, with a handle that closes the connection.
 */
export async function listenAmqp(options: ListenAmqpOptions): Promise<{ close(): Promise<void> }> {
  const connection = await amqp.connect(options.amqpUrl);
  const channel = await connection.createChannel();
  const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
  await channel.bindQueue(queue, options.exchange ?? 'amq.topic', options.bindingKey ?? '#');
  await channel.consume(queue, (message) => {
    if (message) options.onLine(`${message.fields.routingKey} | ${message.content.toString()}`);
  }, { noAck: true });
  return { close: () => connection.close() };
}
