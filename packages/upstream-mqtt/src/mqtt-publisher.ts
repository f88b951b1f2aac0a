import {
  BridgeError,
  abortError,
  silentLogger,
  type BridgeEvent,
  type Logger,
  type Publisher,
  type PublisherCapabilities,
  type PublisherContext,
  type PublishOptions,
  type Target,
  onAbort,
  InFlight,
  TurnCork,
  corkableStream,
  whenOpen,
} from '@pg-event-bridge/core';
import { connect, type MqttClient } from 'mqtt';

import { directPublisher, type DirectPublish } from './mqtt-internals.js';
import { invalidTopicReason, mqttContentType, mqttUserProperties } from './mqtt-strings.js';
import { mqttTopic, resolveMqttOptions, type MqttPublisherOptions, type ResolvedMqttOptions } from './mqtt-options.js';
import { encodePublishPacket, type PublishPacket, type PublishProperties } from './publish-packet.js';

interface Pending {
  fail(error: BridgeError): void;
  /** When a QoS 1/2 publish went out (Date.now()); undefined until then, and for QoS 0. */
  sentAt?: number;
}

interface Queued {
  cancelled: boolean;
  send(): void;
}

interface Connection {
  readonly client: MqttClient;
  /** Writes packets we encoded; undefined when this mqtt.js lacks the internals it needs. */
  readonly direct: DirectPublish | undefined;
  ready: Promise<void>;
  /** `ready` resolved (set by whenOpen). */
  open?: boolean;
  alive: boolean;
  closed: boolean;
  /** MQTT 5 CONNACK "maximum packet size", when the broker announced one. */
  brokerMaxPacket: number | undefined;
  /** MQTT 5 CONNACK "receive maximum": QoS 1/2 publishes the broker takes unacknowledged. */
  receiveMaximum: number;
  /** QoS 1/2 publishes sent and not yet acknowledged. */
  unacknowledged: number;
  /** Publishes waiting, in call order, for the number of unacknowledged ones to drop. */
  readonly queued: Queued[];
  readonly pending: Set<Pending>;
  /** Batches a turn's packets into one socket write; null when the socket is out of reach. */
  cork?: TurnCork | null;
  /** Why the publisher dropped the connection itself (no acknowledgement in time). */
  dropped?: BridgeError;
  /** Checks the oldest unacknowledged publish against ackTimeoutMs. */
  sweeper?: NodeJS.Timeout;
}

// Fixed header (5) + topic length (2) + packet id (2) + properties length (4): a safe upper bound
// of what a PUBLISH adds to the topic, properties and body (when mqtt.js encodes it).
const PUBLISH_OVERHEAD_BYTES = 13;

// MQTT 5 PUBACK/PUBREC reason codes worth retrying: "server busy", "quota exceeded".
const RETRYABLE_REASON_CODES = new Set([0x89, 0x97]);
const TOO_LARGE_REASON_CODE = 0x95;

function unavailable(message: string, cause?: unknown): BridgeError {
  const detail = cause instanceof Error && cause.message ? `: ${cause.message}` : '';
  return new BridgeError('ERR_BRIDGE_UPSTREAM_UNAVAILABLE', `[mqtt] ${message}${detail}`, { retryable: true, cause });
}

/** An upper bound of the packet mqtt.js will write, for the broker's limit when it encodes. */
function estimatedPacketBytes({ topic, payload, properties }: PublishPacket): number {
  let total = payload.length + Buffer.byteLength(topic) + PUBLISH_OVERHEAD_BYTES;
  for (const [key, value] of Object.entries(properties?.userProperties ?? {})) total += Buffer.byteLength(key) + Buffer.byteLength(value) + 5;
  if (properties?.contentType !== undefined) total += Buffer.byteLength(properties.contentType) + 3;
  return total;
}

class MqttPublisher implements Publisher {
  readonly name = 'mqtt';
  readonly targetKinds = ['topic'] as const;
  readonly capabilities: PublisherCapabilities;
  readonly #options: ResolvedMqttOptions;
  #logger: Logger = silentLogger;
  #state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  #connection: Connection | undefined;
  readonly #inFlight = new InFlight();
  #stopped: Promise<void> | undefined;

  constructor(options: ResolvedMqttOptions) {
    this.#options = options;
    this.capabilities = Object.freeze({
      headers: options.protocolVersion === 5,
      // One MQTT connection: the broker forwards a client's QoS 1/2 messages in the order sent.
      ordered: true,
      maxPayloadBytes: options.maxPayloadBytes,
    });
  }

  async start(context: PublisherContext): Promise<void> {
    if (this.#state !== 'new') {
      throw new BridgeError('ERR_BRIDGE_STATE', `[mqtt] start() called while ${this.#state}; create a new publisher instead`);
    }
    const problems: string[] = [];
    for (const target of context.targets) {
      if (target.kind !== 'topic') problems.push(`kind "${target.kind}" of "${target.kind}:${target.name}" (mqtt accepts: topic)`);
      else if (target.name === '' || /[+#\u0000]/.test(target.name)) {
        problems.push(`topic "${target.name}" (must be non-empty, without the wildcards "+" and "#")`);
      }
    }
    if (problems.length > 0) throw new BridgeError('ERR_BRIDGE_CONFIG', `[mqtt] Invalid targets: ${problems.join('; ')}`);
    this.#logger = context.logger;
    this.#state = 'starting';
    try {
      await this.#connect(context.signal);
      this.#state = 'running';
      // directPublish false: this mqtt.js lacks the internals of mqtt-internals.ts, client.publish sends.
      this.#logger.info({ url: this.#options.redactedUrl, protocolVersion: this.#options.protocolVersion, directPublish: this.#connection?.direct !== undefined }, '[mqtt] Connected');
    } catch (error) {
      this.#state = 'new';
      this.#closeConnection(true);
      throw error;
    }
  }

  publish(target: Target, event: BridgeEvent, options: PublishOptions = {}): Promise<void> {
    return this.#inFlight.track(this.#publish(target, event, options.signal));
  }

  async #publish(target: Target, event: BridgeEvent, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) throw abortError();
    if (this.#state !== 'running') {
      throw new BridgeError('ERR_BRIDGE_STATE', `[mqtt] publish() called while ${this.#state}; call start() first`);
    }
    if (target.kind !== 'topic') {
      throw new BridgeError('ERR_BRIDGE_RULE_KIND', `[mqtt] Target kind "${target.kind}" is not supported (mqtt accepts: topic)`);
    }
    const topic = mqttTopic(target.name, event.routingKey, this.#options.separator);
    const reason = invalidTopicReason(topic);
    if (reason) {
      throw new BridgeError('ERR_BRIDGE_ENCODE', `[mqtt] Cannot publish event ${event.id} to topic ${JSON.stringify(topic.slice(0, 200))}: ${reason}; change the routing key at its source`);
    }
    const size = event.body.length;
    if (size > this.#options.maxPayloadBytes) {
      throw new BridgeError('ERR_BRIDGE_PAYLOAD_TOO_LARGE', `[mqtt] Message ${event.id} of ${size} bytes exceeds maxPayloadBytes ${this.#options.maxPayloadBytes}`);
    }
    const { qos, retain, protocolVersion } = this.#options;
    let properties: PublishProperties | undefined;
    if (protocolVersion === 5) {
      const userProperties = mqttUserProperties(event);
      const contentType = mqttContentType(event);
      properties = contentType ? { userProperties, contentType } : { userProperties };
    }
    const packet: PublishPacket = { topic, payload: event.body, qos, retain, messageId: 0, properties };
    // Encoded (or, for mqtt.js's own writer, checked) before the connection is touched: a string
    // over MQTT's limits is ERR_BRIDGE_ENCODE, never half a packet on the socket.
    const encoded = encodePublishPacket(packet, protocolVersion);

    const connection = await this.#connect(signal);
    const direct = connection.direct;
    // Encoded once, here: a publish that waits in `queued` keeps its bytes, its packet id is set when sent.
    const bytes = direct ? encoded : undefined;
    const packetBytes = bytes ? bytes.length : estimatedPacketBytes(packet);
    if (connection.brokerMaxPacket !== undefined && packetBytes > connection.brokerMaxPacket) {
      throw new BridgeError('ERR_BRIDGE_PAYLOAD_TOO_LARGE', `[mqtt] Message ${event.id} needs a ${packetBytes}-byte packet; the broker accepts at most ${connection.brokerMaxPacket}`);
    }
    if (!connection.alive) throw unavailable(`Connection to ${this.#options.redactedUrl} lost before publishing`);
    if (signal?.aborted) throw abortError();

    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let sent = false;
      let unregister: (() => void) | undefined;
      const acknowledged = qos > 0;
      // A connection the publisher dropped (ackTimeoutMs) fails its publishes with that reason.
      const done = (error?: Error | null) => finish(error ? (connection.dropped ?? this.#publishError(error, topic)) : undefined);
      const queued: Queued = {
        cancelled: false,
        send: () => {
          sent = true;
          if (acknowledged) {
            connection.unacknowledged += 1;
            pending.sentAt = Date.now();
          }
          const cork = turnCork(connection);
          cork?.hold();
          if (!bytes || !direct!(packet, bytes, done)) connection.client.publish(topic, event.body, { qos, retain, properties }, done);
          cork?.flushIfFull();
        },
      };
      const finish = (error?: BridgeError) => {
        if (settled) return;
        settled = true;
        connection.pending.delete(pending);
        unregister?.();
        if (!sent) queued.cancelled = true;
        else if (acknowledged) {
          connection.unacknowledged -= 1;
          this.#sendQueued(connection);
        }
        if (error) reject(error);
        else resolve();
      };
      const pending: Pending = { fail: finish, sentAt: undefined };
      connection.pending.add(pending);
      if (signal) unregister = onAbort(signal, () => finish(abortError()));
      // MQTT 5 forbids more unacknowledged QoS 1/2 publishes than the broker's receive maximum
      // (Mosquitto announces 20). A broker may let it pass (Mosquitto did with 40), answer "quota
      // exceeded" (0x97) or disconnect (0x93), so publishes past it wait here, in call order.
      if (!acknowledged || (connection.queued.length === 0 && connection.unacknowledged < connection.receiveMaximum)) queued.send();
      else connection.queued.push(queued);
    });
  }

  /**
   * Publishes are acknowledged in the order sent, so only the oldest unacknowledged one is
   * checked: past ackTimeoutMs the connection is dropped, failing it and every later one.
   */
  #sweep(connection: Connection): void {
    let oldest: Pending | undefined;
    for (const pending of connection.pending) {
      if (pending.sentAt !== undefined) oldest = pending;
      break;
    }
    if (!oldest || Date.now() - oldest.sentAt! <= this.#options.ackTimeoutMs || connection.dropped) return;
    connection.dropped = unavailable(`No acknowledgement from ${this.#options.redactedUrl} within ${this.#options.ackTimeoutMs} ms (ackTimeoutMs); reconnecting`);
    this.#logger.warn({ url: this.#options.redactedUrl, ackTimeoutMs: this.#options.ackTimeoutMs }, '[mqtt] Broker stopped acknowledging; dropping the connection');
    // The next publish opens a new connection, even before this one reports 'close'.
    if (this.#connection === connection) this.#connection = undefined;
    connection.client.end(true);
  }

  #sendQueued(connection: Connection): void {
    while (connection.alive && connection.queued.length > 0 && connection.unacknowledged < connection.receiveMaximum) {
      const next = connection.queued.shift()!;
      if (!next.cancelled) next.send();
    }
  }

  #publishError(error: Error, topic: string): BridgeError {
    const reasonCode = (error as { code?: unknown }).code;
    if (typeof reasonCode === 'number' && reasonCode >= 0x80) {
      if (reasonCode === TOO_LARGE_REASON_CODE) {
        return new BridgeError('ERR_BRIDGE_PAYLOAD_TOO_LARGE', `[mqtt] The broker refused a message on "${topic}" as too large (reason code 0x95)`, { cause: error });
      }
      return new BridgeError('ERR_BRIDGE_UPSTREAM_REJECTED', `[mqtt] The broker refused a message on "${topic}" (reason code 0x${reasonCode.toString(16)}): ${error.message}`, {
        retryable: RETRYABLE_REASON_CODES.has(reasonCode),
        cause: error,
      });
    }
    return unavailable(`Publish on "${topic}" failed`, error);
  }

  /** The live connection, opening a new one when there is none (first use, or after a loss). */
  #connect(signal: AbortSignal | undefined): Connection | Promise<Connection> {
    const connection = this.#connection;
    return whenOpen(connection && !connection.closed ? connection : this.#open(), signal);
  }

  #open(): Connection {
    const o = this.#options;
    // The publisher owns reconnection (reconnectPeriod 0): mqtt.js would otherwise re-send its
    // in-flight packets on the new connection while the delivery engine re-sends the same
    // messages, so a lost connection fails its in-flight publishes (retryable) and the engine
    // re-sends them in order on a fresh connection.
    const client = connect(o.url, {
      ...o.clientOptions,
      protocolVersion: o.protocolVersion,
      clientId: o.clientId,
      username: o.username,
      password: o.password,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: o.connectTimeoutMs,
      keepalive: o.keepaliveSeconds,
      queueQoSZero: false,
      resubscribe: false,
    });
    const connection: Connection = { client, direct: directPublisher(client), ready: Promise.resolve(), alive: false, closed: false, brokerMaxPacket: undefined, receiveMaximum: 65_535, unacknowledged: 0, queued: [], pending: new Set() };
    let lastError: Error | undefined;
    // mqtt.js emits 'error' for refused connections and protocol errors; without a listener Node
    // would throw it. It is reported through the failing publishes instead.
    client.on('error', (error) => {
      lastError = error;
      this.#logger.debug({ err: error, url: o.redactedUrl }, '[mqtt] Client error');
    });
    connection.ready = new Promise<void>((resolve, reject) => {
      client.once('connect', (connack) => {
        connection.alive = true;
        // mqtt.js leaves Nagle's algorithm on: a PUBLISH then waits for the ACK of the previous
        // segment (40 ms with delayed ACKs), which held 4 KiB messages to about 2,000/s.
        (client as unknown as { stream?: { setNoDelay?: (noDelay: boolean) => void } }).stream?.setNoDelay?.(true);
        connection.brokerMaxPacket = connack.properties?.maximumPacketSize;
        // MQTT 3.1.1 has no receive maximum: Mosquitto then keeps only 20 unacknowledged QoS 2
        // messages per client (its max_inflight_messages) and drops the rest, so stay within it.
        // A broker's 0 (which the spec forbids) would hold every publish back forever: at least 1.
        connection.receiveMaximum = Math.max(1, connack.properties?.receiveMaximum ?? (o.protocolVersion === 5 ? 65_535 : 20));
        connection.sweeper = setInterval(() => this.#sweep(connection), Math.min(1_000, Math.max(20, o.ackTimeoutMs / 10)));
        connection.sweeper.unref();
        resolve();
      });
      client.once('close', () => {
        const wasAlive = connection.alive;
        connection.alive = false;
        connection.closed = true;
        clearInterval(connection.sweeper);
        if (this.#connection === connection) this.#connection = undefined;
        const error =
          connection.dropped ??
          (wasAlive
            ? unavailable(`Connection to ${o.redactedUrl} lost`, lastError)
            : unavailable(`Could not connect to ${o.redactedUrl}${lastError ? '' : ' (connection closed or timed out)'}`, lastError));
        reject(error);
        for (const pending of [...connection.pending]) pending.fail(error);
        if (wasAlive && this.#state === 'running') this.#logger.warn({ err: error, url: o.redactedUrl }, '[mqtt] Connection lost; reconnecting on the next publish');
        client.end(true);
      });
    });
    connection.ready.catch(() => undefined);
    this.#connection = connection;
    return connection;
  }

  #closeConnection(force: boolean): Promise<void> {
    const connection = this.#connection;
    this.#connection = undefined;
    if (!connection || connection.closed) return Promise.resolve();
    connection.closed = true;
    return new Promise<void>((resolve) => {
      // A graceful end waits for the socket to flush and the DISCONNECT to go out: a broker that
      // stopped answering gets a second, then the connection is dropped.
      const timer = force ? undefined : setTimeout(() => connection.client.end(true, {}, () => resolve()), 1_000);
      connection.client.end(force, {}, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    const wasRunning = this.#state === 'running';
    this.#state = 'stopping';
    await this.#inFlight.settle(this.#options.stopTimeoutMs);
    const connection = this.#connection;
    if (connection) {
      const error = new BridgeError('ERR_BRIDGE_ABORTED', '[mqtt] Publisher stopped before the broker acknowledged the message', { retryable: false });
      for (const pending of [...connection.pending]) pending.fail(error);
    }
    await this.#closeConnection(false);
    this.#state = 'stopped';
    if (wasRunning) this.#logger.info({ url: this.#options.redactedUrl }, '[mqtt] Stopped');
  }
}

/**
 * Creates a publisher to an MQTT 3.1.1 or 5 broker. Validates the options synchronously and does
 * no I/O until `start()`. Targets are `topic:<name>`; a message goes to `<name><separator><key>`.
 *
 * @example
 * ```ts
 * import { createBridge } from '@pg-event-bridge/core';
 * import { createMqttPublisher } from '@pg-event-bridge/upstream-mqtt';
 *
 * const publisher = createMqttPublisher({ url: 'mqtt://user:pass@localhost:1883', qos: 1, separator: '/' });
 * const bridge = createBridge({ postgres: process.env.DATABASE_URL!, upstreams: [{ publisher, rules: 'events->topic:events' }] });
 * await bridge.start(); // NOTIFY events, 'signup|hello' arrives on MQTT topic events/signup
 * ```
 */
export function createMqttPublisher(options: MqttPublisherOptions = {}): Publisher {
  return new MqttPublisher(resolveMqttOptions(options));
}

/**
 * The connection's {@link TurnCork}, made on first use (the client has its socket by then). Each
 * packet is one socket write, one system call per message without it; mqtt.js's own cork/uncork
 * pairs nest inside.
 */
function turnCork(connection: Connection): TurnCork | undefined {
  if (connection.cork === undefined) {
    const socket = corkableStream((connection.client as unknown as { stream?: unknown }).stream);
    connection.cork = socket ? new TurnCork(socket) : null;
  }
  return connection.cork ?? undefined;
}
