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
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, headers as natsHeaders, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';

import { natsSubject, resolveNatsOptions, type NatsPublisherOptions, type ResolvedNatsOptions } from './nats-options.js';
import { invalidSubjectReason, natsHeaderEntries } from './nats-headers.js';
import { PublishAcks, type PublishFailure } from './publish-acks.js';

interface Pending {
  fail(error: BridgeError): void;
}

interface Connection {
  nc: NatsConnection | undefined;
  acks: PublishAcks | undefined;
  /** Batches a turn's publishes into one socket write; undefined when the socket is out of reach. */
  cork: TurnCork | undefined;
  readonly owned: boolean;
  ready: Promise<void>;
  /** `ready` resolved (set by whenOpen). */
  open?: boolean;
  closed: boolean;
  readonly pending: Set<Pending>;
}

// JetStream API error code of "message size exceeds maximum allowed" (the stream's max_msg_size).
const JS_MESSAGE_TOO_LARGE = 10054;
// JetStream API error code of "header size exceeds maximum allowed".
const JS_HEADERS_TOO_LARGE = 10097;
// JetStream API status of a stream that cannot take the message right now (no quorum, leader change).
const JS_UNAVAILABLE = 503;

function unavailable(message: string, cause?: unknown): BridgeError {
  const detail = cause instanceof Error && cause.message ? `: ${cause.message}` : '';
  return new BridgeError('ERR_BRIDGE_UPSTREAM_UNAVAILABLE', `[nats] ${message}${detail}`, { retryable: true, cause });
}

/**
 * True when a request found no subscriber: for a JetStream publish, no stream captures the
 * subject. Checked by name, not `instanceof`: @nats-io/jetstream and @nats-io/transport-node may
 * each bring their own copy of nats-core.
 */
function isNoResponders(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth += 1) {
    const probe = e as Error & { isNoResponders?: () => boolean };
    if (e.name === 'NoRespondersError' || (typeof probe.isNoResponders === 'function' && probe.isNoResponders())) return true;
    if (e.name === 'JetStreamNotEnabled') return true;
  }
  return false;
}

class NatsPublisher implements Publisher {
  readonly name = 'nats';
  readonly targetKinds = ['subject'] as const;
  readonly capabilities: PublisherCapabilities;
  readonly #options: ResolvedNatsOptions;
  #logger: Logger = silentLogger;
  #state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  #connection: Connection | undefined;
  readonly #inFlight = new InFlight();
  #stopped: Promise<void> | undefined;

  constructor(options: ResolvedNatsOptions) {
    this.#options = options;
    this.capabilities = Object.freeze({
      headers: true,
      // One connection; the server stores a connection's messages to a stream in the order sent.
      ordered: true,
      maxPayloadBytes: options.maxPayloadBytes,
    });
  }

  async start(context: PublisherContext): Promise<void> {
    if (this.#state !== 'new') {
      throw new BridgeError('ERR_BRIDGE_STATE', `[nats] start() called while ${this.#state}; create a new publisher instead`);
    }
    const problems: string[] = [];
    for (const target of context.targets) {
      const reason = target.kind === 'subject' ? invalidSubjectReason(target.name) : undefined;
      if (target.kind !== 'subject') problems.push(`kind "${target.kind}" of "${target.kind}:${target.name}" (nats accepts: subject)`);
      else if (reason) problems.push(`subject "${target.name}": ${reason}`);
    }
    if (problems.length > 0) throw new BridgeError('ERR_BRIDGE_CONFIG', `[nats] Invalid targets: ${problems.join('; ')}`);
    this.#logger = context.logger;
    this.#state = 'starting';
    try {
      const connection = await this.#connect(context.signal);
      if (this.#options.checkTargets && context.targets.length > 0) await this.#checkTargets(connection.nc!, context.targets);
      this.#state = 'running';
      this.#logger.info({ url: this.#options.redactedUrl }, '[nats] Connected');
    } catch (error) {
      this.#state = 'new';
      await this.#close();
      if (BridgeError.isInstance(error)) throw error;
      throw unavailable(`Could not start on ${this.#options.redactedUrl}`, error);
    }
  }

  async #checkTargets(nc: NatsConnection, targets: readonly Target[]): Promise<void> {
    let jsm;
    try {
      jsm = await jetstreamManager(nc, { timeout: this.#options.publishTimeoutMs });
    } catch (error) {
      if (isNoResponders(error)) {
        throw new BridgeError('ERR_BRIDGE_CONFIG', `[nats] JetStream is not enabled on ${this.#options.redactedUrl}; start nats-server with -js (or enable JetStream for the account)`, { cause: error });
      }
      throw unavailable(`Could not reach the JetStream API on ${this.#options.redactedUrl}`, error);
    }
    const missing: string[] = [];
    for (const target of targets) {
      // A stream capturing "<name>" serves empty keys, one capturing "<name>.>" (or a part of it)
      // serves the others; either is enough to know the rule was meant for JetStream.
      let found = false;
      for (const subject of [target.name, `${target.name}.>`]) {
        found = await jsm.streams.find(subject).then(
          () => true,
          (error: unknown) => {
            if (error instanceof Error && /no stream matches subject/i.test(error.message)) return false;
            throw unavailable(`Could not look up the stream of subject "${subject}"`, error);
          },
        );
        if (found) break;
      }
      if (!found) missing.push(target.name);
    }
    if (missing.length > 0) {
      throw new BridgeError(
        'ERR_BRIDGE_TARGET_MISSING',
        `[nats] No JetStream stream captures ${missing.map((m) => `"${m}" or "${m}.>"`).join(', ')}; create one, e.g. \`nats stream add EVENTS --subjects "${missing[0]}" --subjects "${missing[0]}.>"\``,
      );
    }
  }

  publish(target: Target, event: BridgeEvent, options: PublishOptions = {}): Promise<void> {
    return this.#inFlight.track(this.#publish(target, event, options.signal));
  }

  async #publish(target: Target, event: BridgeEvent, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) throw abortError();
    if (this.#state !== 'running') {
      throw new BridgeError('ERR_BRIDGE_STATE', `[nats] publish() called while ${this.#state}; call start() first`);
    }
    if (target.kind !== 'subject') {
      throw new BridgeError('ERR_BRIDGE_RULE_KIND', `[nats] Target kind "${target.kind}" is not supported (nats accepts: subject)`);
    }
    const subject = natsSubject(target.name, event.routingKey);
    const reason = invalidSubjectReason(subject);
    if (reason) {
      throw new BridgeError('ERR_BRIDGE_ENCODE', `[nats] Cannot publish event ${event.id} to subject ${JSON.stringify(subject.slice(0, 200))}: ${reason}; change the routing key at its source`);
    }
    if (event.body.length > this.#options.maxPayloadBytes) {
      throw new BridgeError('ERR_BRIDGE_PAYLOAD_TOO_LARGE', `[nats] Message ${event.id} of ${event.body.length} bytes exceeds maxPayloadBytes ${this.#options.maxPayloadBytes}`);
    }
    // Checked and encoded before anything is written: a refusal here is ERR_BRIDGE_ENCODE.
    const entries = natsHeaderEntries(event);
    const h = natsHeaders();
    for (const [key, value] of entries) h.append(key, value);

    const connection = await this.#connect(signal);
    if (signal?.aborted) throw abortError();
    if (connection.closed) throw unavailable(`Connection to ${this.#options.redactedUrl} lost before publishing`);

    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let unregister: (() => void) | undefined;
      const finish = (error?: BridgeError) => {
        if (settled) return;
        settled = true;
        connection.pending.delete(pending);
        unregister?.();
        if (error) reject(error);
        else resolve();
      };
      const pending: Pending = { fail: finish };
      connection.pending.add(pending);
      if (signal) unregister = onAbort(signal, () => finish(abortError()));
      try {
        // nats.js writes what was published at each microtask checkpoint: a system call for
        // nearly every message without this.
        connection.cork?.hold();
        connection.acks!.publish(subject, event.body, h, (failure) => finish(failure && this.#publishError(failure, subject, connection)));
      } catch (error) {
        finish(this.#sendError(error, event, h, subject, connection));
      }
    });
  }

  /** What `nc.publish` threw, before sending anything. */
  #sendError(error: unknown, event: BridgeEvent, headers: MsgHdrs, subject: string, connection: Connection): BridgeError {
    const serverMax = connection.nc?.info?.max_payload;
    // nats.js checks the body and the encoded headers against the server's max_payload.
    if (serverMax !== undefined && error instanceof Error && /max_payload/i.test(error.message)) {
      const headerBytes = Buffer.byteLength(headers.toString());
      return new BridgeError('ERR_BRIDGE_PAYLOAD_TOO_LARGE', `[nats] Message ${event.id} needs ${event.body.length + headerBytes} bytes with its ${headerBytes} bytes of headers; the server's max_payload is ${serverMax}`, { cause: error });
    }
    if (connection.closed || connection.nc?.isClosed()) return unavailable(`Connection to ${this.#options.redactedUrl} lost`, error);
    return unavailable(`Publish on "${subject}" failed`, error);
  }

  #publishError(failure: PublishFailure, subject: string, connection: Connection): BridgeError {
    switch (failure.kind) {
      case 'no-responders':
        // Retryable: right after a server restart JetStream answers "no responders" until its
        // streams are loaded, and a stream deleted mid-stream should hold the line, not
        // dead-letter everything (start() already refused subjects that no stream captures).
        return new BridgeError('ERR_BRIDGE_TARGET_MISSING', `[nats] No JetStream stream captures subject "${subject}" right now; add it to a stream's subjects`, { retryable: true });
      case 'api':
        if (failure.errCode === JS_HEADERS_TOO_LARGE) {
          return new BridgeError('ERR_BRIDGE_ENCODE', `[nats] The stream refused the headers of a message on "${subject}" as too large: ${failure.description}`);
        }
        if (failure.errCode === JS_MESSAGE_TOO_LARGE || /message size exceeds/i.test(failure.description)) {
          return new BridgeError('ERR_BRIDGE_PAYLOAD_TOO_LARGE', `[nats] The stream refused a message on "${subject}" as too large: ${failure.description}`);
        }
        return new BridgeError('ERR_BRIDGE_UPSTREAM_REJECTED', `[nats] The stream refused a message on "${subject}" (${failure.status}/${failure.errCode}): ${failure.description}`, {
          retryable: failure.status === JS_UNAVAILABLE,
        });
      case 'denied':
        // Like MQTT's "not authorized" or a webhook's 403: dead-lettered, the stream continues.
        return new BridgeError('ERR_BRIDGE_UPSTREAM_REJECTED', `[nats] The server refused a message on "${subject}" (${failure.detail}); allow the connection's user to publish to it`);
      case 'invalid':
        return unavailable(`Publish on "${subject}" got an answer that is not a JetStream PubAck (${failure.detail})`);
      case 'timeout':
        return connection.closed
          ? unavailable(`Connection to ${this.#options.redactedUrl} lost`)
          : unavailable(`No PubAck for a message on "${subject}" within ${failure.afterMs} ms`);
      case 'subscription':
        // The next publish opens a new connection (or, on one passed in, a new subscription).
        connection.closed = true;
        if (this.#connection === connection) this.#connection = undefined;
        if (connection.owned) void connection.nc?.close().catch(() => undefined);
        return unavailable(`The PubAck subscription on ${this.#options.redactedUrl} failed`, failure.cause);
    }
  }

  /** The live connection, opening a new one when there is none (first use, or after a loss). */
  #connect(signal: AbortSignal | undefined): Connection | Promise<Connection> {
    const connection = this.#connection;
    return whenOpen(connection && !connection.closed ? connection : this.#open(), signal);
  }

  #open(): Connection {
    const o = this.#options;
    const connection: Connection = { nc: o.connection, acks: undefined, cork: undefined, owned: !o.connection, ready: Promise.resolve(), closed: false, pending: new Set() };
    this.#connection = connection;
    const opened: Promise<NatsConnection> = o.connection
      ? Promise.resolve(o.connection)
      : // The publisher owns reconnection (reconnect: false): nats.js would otherwise buffer
        // publishes made while disconnected and send them after reconnecting, ahead of the
        // earlier in-flight ones the delivery engine re-sends, so a stream could store them out
        // of order. A lost connection instead fails every unacknowledged publish (retryable) and
        // the engine re-sends them in order on a fresh connection; Nats-Msg-Id drops the copies
        // the stream already stored.
        connect({
          name: 'pg-event-bridge',
          // nats.js otherwise builds an Error (stack trace included) for every request, in case
          // it fails; publishes no longer go through requests, the stream checks at start do.
          noAsyncTraces: true,
          ...o.connectionOptions,
          servers: o.servers,
          ...(o.user !== undefined && o.connectionOptions.user === undefined ? { user: o.user } : {}),
          ...(o.pass !== undefined && o.connectionOptions.pass === undefined ? { pass: o.pass } : {}),
          ...(o.tls && o.connectionOptions.tls === undefined ? { tls: {} } : {}),
          reconnect: false,
          timeout: o.connectTimeoutMs,
        });
    connection.ready = opened.then(
      (nc) => {
        connection.nc = nc;
        connection.acks = new PublishAcks(nc, o.publishTimeoutMs, o.connectionOptions.inboxPrefix);
        const socket = corkableStream((nc as unknown as { protocol?: { transport?: { socket?: unknown } } }).protocol?.transport?.socket);
        connection.cork = socket && new TurnCork(socket);
        void nc.closed().then((error) => {
          connection.closed = true;
          connection.acks?.close();
          if (this.#connection === connection) this.#connection = undefined;
          const failure = unavailable(`Connection to ${o.redactedUrl} lost`, error ?? undefined);
          for (const pending of [...connection.pending]) pending.fail(failure);
          if (this.#state === 'running' && connection.owned) this.#logger.warn({ err: failure, url: o.redactedUrl }, '[nats] Connection lost; reconnecting on the next publish');
        });
      },
      (error: unknown) => {
        connection.closed = true;
        if (this.#connection === connection) this.#connection = undefined;
        return Promise.reject(unavailable(`Could not connect to ${o.redactedUrl}`, error));
      },
    );
    connection.ready.catch(() => undefined);
    return connection;
  }

  async #close(): Promise<void> {
    const connection = this.#connection;
    this.#connection = undefined;
    if (!connection) return;
    await connection.ready.catch(() => undefined);
    // A connection passed in stays open for its owner; only the PubAck subscription goes.
    connection.acks?.close();
    if (!connection.owned || !connection.nc || connection.nc.isClosed()) return;
    await connection.nc.close().catch(() => undefined);
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
      const error = new BridgeError('ERR_BRIDGE_ABORTED', '[nats] Publisher stopped before the stream acknowledged the message', { retryable: false });
      for (const pending of [...connection.pending]) pending.fail(error);
    }
    await this.#close();
    this.#state = 'stopped';
    if (wasRunning) this.#logger.info({ url: this.#options.redactedUrl }, '[nats] Stopped');
  }
}

/**
 * Creates a publisher to NATS JetStream: `subject:<name>` publishes to `<name>.<key>` and resolves
 * on the stream's PubAck, with `Nats-Msg-Id` = the event id so the stream drops re-sent
 * duplicates. Validates the options synchronously and does no I/O until `start()`.
 *
 * @example
 * ```ts
 * import { createBridge } from '@pg-event-bridge/core';
 * import { createNatsPublisher } from '@pg-event-bridge/upstream-nats';
 *
 * // A stream must capture the subjects: nats stream add EVENTS --subjects "events" --subjects "events.>"
 * const publisher = createNatsPublisher({ url: 'nats://localhost:4222' });
 * const bridge = createBridge({ postgres: process.env.DATABASE_URL!, upstreams: [{ publisher, rules: 'events->subject:events' }] });
 * await bridge.start(); // NOTIFY events, 'signup|hello' is stored as events.signup
 * ```
 */
export function createNatsPublisher(options: NatsPublisherOptions = {}): Publisher {
  return new NatsPublisher(resolveNatsOptions(options));
}
