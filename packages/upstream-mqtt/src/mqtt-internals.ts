/**
 * The few parts of mqtt.js 5 below `client.publish` that the publisher relies on, each checked
 * before use so that another mqtt.js version falls back to `client.publish` instead of breaking.
 */
import { Store, type MqttClient } from 'mqtt';
import { setPacketId, type PublishPacket } from './publish-packet.js';

/** Called as mqtt.js calls a publish callback: on PUBACK or PUBCOMP (QoS 1, 2), once written (QoS 0), or with the error. */
export type PublishCallback = (error?: Error | null) => void;

/** Sends an encoded PUBLISH; false when it cannot be sent this way now, and `client.publish` must send it. */
export type DirectPublish = (packet: PublishPacket, bytes: Buffer, callback: PublishCallback) => boolean;

interface ClientInternals {
  connected: boolean;
  disconnecting: boolean;
  options: { readonly autoUseTopicAlias?: boolean; readonly autoAssignTopicAlias?: boolean };
  outgoing: Record<number, { volatile: boolean; cmd: 'publish'; cb: PublishCallback }>;
  outgoingStore: { put(packet: object, callback: () => void): unknown };
  messageIdProvider: { allocate(): number | null };
  stream: { write(chunk: Buffer): boolean; once(event: 'drain', listener: () => void): unknown };
  // True, or queued publishes, while mqtt.js re-sends its store after a CONNACK: new publishes wait.
  _storeProcessing: boolean;
  _storeProcessingQueue: unknown[];
}

function ignore(): void {}

/**
 * What `client.publish` does for one packet once mqtt.js has built it, with our encoded bytes
 * written to the socket in one piece: allocate the packet id from the client's provider, register
 * the callback in `client.outgoing` (where mqtt.js's PUBACK, PUBREC and PUBCOMP handling finds
 * it, sends the PUBREL, maps reason codes to errors and frees the id), keep the packet in the
 * client's outgoing store (the acknowledgement removes it from there, and fails the publish if it is
 * missing), then write. Undefined when this mqtt.js does not have that shape, when the client
 * uses another store (it may persist packets, and store them asynchronously) or rewrites topics
 * into aliases.
 *
 * Left out, on purpose: the `packetsend` event (nothing of ours listens), and keep-alive: mqtt.js
 * 5.16 reschedules its ping on packets received (acknowledgements, PINGRESP), not on packets sent,
 * so writing past `_sendPacket` changes nothing there.
 */
export function directPublisher(client: MqttClient): DirectPublish | undefined {
  const internals = client as unknown as Partial<ClientInternals>;
  const { options, outgoing, outgoingStore, messageIdProvider, stream } = internals;
  if (typeof internals.connected !== 'boolean' || typeof internals.disconnecting !== 'boolean' || typeof internals._storeProcessing !== 'boolean' || !Array.isArray(internals._storeProcessingQueue)) return undefined;
  if (typeof outgoing !== 'object' || outgoing === null || !(outgoingStore instanceof Store) || typeof messageIdProvider?.allocate !== 'function') return undefined;
  if (typeof stream?.write !== 'function' || typeof stream.once !== 'function' || options?.autoUseTopicAlias || options?.autoAssignTopicAlias) return undefined;
  const c = internals as ClientInternals;
  return (packet, bytes, callback) => {
    if (!c.connected || c.disconnecting || c._storeProcessing || c._storeProcessingQueue.length > 0) return false;
    if (packet.qos === 0) {
      if (c.stream.write(bytes)) callback();
      else c.stream.once('drain', () => callback());
      return true;
    }
    const messageId = c.messageIdProvider.allocate();
    if (messageId === null) return false;
    setPacketId(bytes, messageId);
    c.outgoing[messageId] = { volatile: false, cmd: 'publish', cb: callback };
    const { topic, payload, qos, retain, properties } = packet;
    c.outgoingStore.put({ cmd: 'publish', topic, payload, qos, retain, messageId, dup: false, properties }, ignore);
    c.stream.write(bytes);
    return true;
  };
}
