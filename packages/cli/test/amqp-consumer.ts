import amqp, { type ConsumeMessage } from 'amqplib';

export const rabbitUrl = 'amqp://guest:guest@127.0.0.1:5672';

/** A queue bound to `exchange` with `bindingKey`, collecting what arrives. */
export interface AmqpConsumer {
  /** Resolves with the first message (already received or still to come) matching `predicate`. */
  next(predicate: (message: ConsumeMessage) => boolean, timeoutMs?: number): Promise<ConsumeMessage>;
  /** Stops consuming; deletes the exchange if this consumer declared it. */
  close(): Promise<void>;
}

/**
 * Binds a fresh exclusive queue to `exchange` (declared as a throw-away topic exchange unless it
 * is one of RabbitMQ's `amq.*`) and consumes from it.
 */
export async function consumeFrom(exchange: string, bindingKey: string): Promise<AmqpConsumer> {
  const connection = await amqp.connect(rabbitUrl);
  const channel = await connection.createChannel();
  const ownExchange = !exchange.startsWith('amq.');
  if (ownExchange) await channel.assertExchange(exchange, 'topic', { durable: false, autoDelete: false });
  const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
  await channel.bindQueue(queue, exchange, bindingKey);
  const received: ConsumeMessage[] = [];
  const waiters = new Set<() => void>();
  await channel.consume(
    queue,
    (message) => {
      if (!message) return;
      received.push(message);
      for (const waiter of [...waiters]) waiter();
    },
    { noAck: true },
  );
  return {
    next(predicate, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = received.find(predicate);
          if (!found) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching message on ${exchange} (${bindingKey}) within ${timeoutMs} ms; got ${received.length}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      if (ownExchange) await channel.deleteExchange(exchange);
      await connection.close();
    },
  };
}
