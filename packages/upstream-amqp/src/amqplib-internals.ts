/**
 * The few parts of amqplib 0.10 below its public API that the publisher relies on, each checked
 * before use so that another amqplib version falls back to the public API instead of breaking.
 */
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import type { Socket } from 'node:net';

/** amqplib keeps the socket as `connection.stream`; needed to drop a connection that will not close. */
export function socketOf(model: ChannelModel): Socket | undefined {
  return (model.connection as unknown as { stream?: Socket }).stream;
}

interface Muxer {
  _readIncoming(): void;
}
const coalesced = new WeakSet<Muxer>();

/**
 * amqplib writes every frame it has queued to the socket one `write()` at a time, each a system
 * call. Corking the socket while its muxer drains the channels' buffers (once per event-loop turn)
 * turns those into one `writev`: the same bytes in the same order, far fewer calls.
 */
export function coalesceWrites(model: ChannelModel): void {
  const { muxer, stream } = model.connection as unknown as { muxer?: Muxer; stream?: Socket };
  if (!muxer || !stream || typeof muxer._readIncoming !== 'function' || typeof stream.cork !== 'function' || coalesced.has(muxer)) return;
  coalesced.add(muxer);
  const readIncoming = muxer._readIncoming;
  muxer._readIncoming = function corked(this: Muxer) {
    stream.cork();
    try {
      readIncoming.call(this);
    } finally {
      stream.uncork();
    }
  };
}

/** Writes an encoded basic.publish on the channel; returns false when its buffer is full. */
export type RawPublish = (frames: Buffer, confirmed: (error: unknown) => void) => boolean;

interface ChannelInternals {
  readonly ch: number;
  readonly connection: {
    readonly frameMax: number;
    sentSinceLastCheck: boolean;
    readonly channels: ReadonlyArray<{ readonly buffer: { write(chunk: Buffer): boolean } } | null | undefined>;
  };
  pushConfirmCallback(callback: (error: unknown) => void): void;
}

/**
 * What `ConfirmChannel.publish` does once its arguments are encoded: queue the confirm callback,
 * then hand the frames to the channel's write buffer. Like amqplib, it throws once the channel is
 * closing or closed (amqplib then replaces the channel's own `sendMessage` with one that throws).
 * Undefined when this amqplib does not have that shape.
 */
export function rawPublisher(channel: ConfirmChannel): { readonly frameMax: number; readonly channel: number; readonly publish: RawPublish } | undefined {
  const internals = channel as unknown as Partial<ChannelInternals>;
  const { ch, connection } = internals;
  if (typeof ch !== 'number' || typeof internals.pushConfirmCallback !== 'function' || typeof connection?.frameMax !== 'number' || !Array.isArray(connection.channels)) return undefined;
  if (!connection.channels[ch]?.buffer || Object.hasOwn(channel, 'sendMessage')) return undefined;
  return {
    frameMax: connection.frameMax,
    channel: ch,
    publish(frames, confirmed) {
      // amqplib's own check: a closing or closed channel has an own, throwing sendMessage.
      if (Object.hasOwn(channel, 'sendMessage')) (channel as unknown as { sendMessage(): never }).sendMessage();
      const slot = connection.channels![ch];
      if (!slot) throw new Error('Channel closed');
      internals.pushConfirmCallback!(confirmed);
      connection.sentSinceLastCheck = true;
      return slot.buffer.write(frames);
    },
  };
}

/** The connection's negotiated frame_max, when this amqplib exposes it. */
export function frameMaxOf(channel: ConfirmChannel): number | undefined {
  const frameMax = (channel as unknown as { connection?: { frameMax?: unknown } }).connection?.frameMax;
  return typeof frameMax === 'number' && frameMax > 0 ? frameMax : undefined;
}
