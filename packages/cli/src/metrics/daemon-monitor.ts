import type { Bridge, Rule } from '@pg-event-bridge/core';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * What the daemon is doing: `leader` holds the leader lock and runs the bridge, `standby` waits
 * for it, `active` runs the bridge with leader_lock off.
 */
export type DaemonRole = 'starting' | 'standby' | 'leader' | 'active' | 'stopping';

/** One rule as the monitor knows it: `events->exchange:amq.topic` of upstream `rabbit`. */
export interface MonitoredRule {
  readonly source: string;
  readonly upstream: string;
  /** `kind:name`, already redacted. */
  readonly target: string;
}

/** Inputs of {@link DaemonMonitor}. */
export interface DaemonMonitorOptions {
  readonly upstreams: readonly { readonly name: string; readonly kind: string; readonly uri: string; readonly rules: readonly Rule[] }[];
  /** Hides secrets in anything shown: target names, error messages. */
  readonly redact: (text: string) => string;
  /** Whether leadership is in play (leader_lock on). */
  readonly leaderLock: boolean;
}

interface RuleFigures extends MonitoredRule {
  published: number;
  retries: number;
  deadLettered: number;
  lastLatencyMs?: number;
  lastError?: string;
}

/** A replication slot's lag as last measured. */
export interface SlotLag {
  readonly slot: string;
  readonly active: boolean;
  /** Bytes of WAL the slot still pins: `pg_current_wal_lsn() - confirmed_flush_lsn`. */
  readonly lagBytes: number;
}

/** The body of `/status.json`: everything the status page shows. */
export interface DaemonStatus {
  readonly role: DaemonRole;
  readonly ready: boolean;
  /** Why the daemon is not ready; empty when it is. */
  readonly notReady: readonly string[];
  readonly stopping: boolean;
  readonly leaderLock: boolean;
  readonly uptimeSeconds: number;
  readonly time: string;
  readonly inFlight: number;
  readonly gaps: number;
  readonly received: Readonly<Record<string, number>>;
  readonly rules: readonly (MonitoredRule & { published: number; retries: number; deadLettered: number; received: number; lastLatencyMs: number | null; lastError: string | null })[];
  readonly sources: readonly { name: string; connected: boolean; since: string | null; error: string | null }[];
  readonly upstreams: readonly { name: string; kind: string; uri: string; started: boolean; failing: boolean; error: string | null }[];
  readonly slots: readonly SlotLag[];
  /** Rows waiting in `events.outbox`; null when the table does not exist or was not measured. */
  readonly outboxDepth: number | null;
  readonly postgresProbeError: string | null;
}

const prefix = 'pg_event_bridge_';
// Series per metric and entries per map: rules come from the configuration, so this bound is
// never reached in practice; it stops anything unexpected from growing /metrics without end.
const maxSeries = 1_000;
const otherLabel = 'other';
const outboxMetric = `${prefix}outbox_depth`;

/**
 * The daemon's live figures: Prometheus series in {@link DaemonMonitor.registry} and the same
 * numbers as JSON for the status page, fed from bridge events (a new bridge per leadership term
 * is attached with {@link DaemonMonitor.attach}; counters carry on across terms), plus readiness.
 */
export class DaemonMonitor {
  readonly registry = new Registry();
  readonly #redact: (text: string) => string;
  readonly #leaderLock: boolean;
  readonly #started = Date.now();
  readonly #rules = new Map<string, RuleFigures>();
  readonly #received = new Map<string, number>();
  readonly #sources = new Map<string, { connected: boolean; since: Date | null; error: string | null }>();
  readonly #upstreams = new Map<string, { kind: string; uri: string; started: boolean; failingTargets: Map<string, string> }>();
  #role: DaemonRole = 'starting';
  #stopping = false;
  #bridge: Bridge | undefined;
  #bridgeRunning = false;
  #gaps = 0;
  #slots: SlotLag[] = [];
  #outboxDepth: number | null = null;
  #probeError: string | null = null;

  readonly #receivedTotal: Counter<'source'>;
  readonly #publishedTotal: Counter<'source' | 'upstream' | 'target'>;
  readonly #failuresTotal: Counter<'source' | 'upstream' | 'target'>;
  readonly #retriesTotal: Counter<'source' | 'upstream' | 'target'>;
  readonly #deadLetteredTotal: Counter<'source' | 'upstream' | 'target'>;
  readonly #latency: Histogram<'source' | 'upstream' | 'target'>;
  readonly #gapsTotal: Counter;
  readonly #deadLetterFailuresTotal: Counter<'upstream' | 'target'>;
  /** Targets whose latest dead letter could not be stored, with the error and since when. */
  readonly #deadLetterFailing = new Map<string, { upstream: string; target: string; error: string; attempts: number; since: Date }>();
  readonly #slotLag: Gauge<'slot'>;
  readonly #outbox: Gauge;

  constructor(options: DaemonMonitorOptions) {
    this.#redact = options.redact;
    this.#leaderLock = options.leaderLock;
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    const ruleLabels = ['source', 'upstream', 'target'] as const;
    this.#receivedTotal = new Counter({ name: `${prefix}events_received_total`, help: 'Events read from Postgres, per rule source (NOTIFY channel, wal2json, pgoutput)', labelNames: ['source'], registers });
    this.#publishedTotal = new Counter({ name: `${prefix}events_published_total`, help: 'Events the broker accepted, per rule', labelNames: ruleLabels, registers });
    this.#failuresTotal = new Counter({ name: `${prefix}publish_failures_total`, help: 'Failed publish attempts (retried or dead-lettered), per rule', labelNames: ruleLabels, registers });
    this.#retriesTotal = new Counter({ name: `${prefix}publish_retries_total`, help: 'Failed publish attempts that were retried, per rule', labelNames: ruleLabels, registers });
    this.#deadLetteredTotal = new Counter({ name: `${prefix}events_dead_lettered_total`, help: 'Events that failed permanently and went to the dead-letter store, per rule', labelNames: ruleLabels, registers });
    this.#latency = new Histogram({
      name: `${prefix}publish_latency_seconds`,
      help: 'From receipt to broker acceptance, retries included, per rule',
      labelNames: ruleLabels,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.#gapsTotal = new Counter({ name: `${prefix}notify_gaps_total`, help: 'NOTIFY reconnections after which notifications sent meanwhile were lost', registers });
    this.#deadLetterFailuresTotal = new Counter({
      name: `${prefix}dead_letter_failures_total`,
      help: 'Failed attempts to store a dead letter (the target waits while it is retried), per upstream and target',
      labelNames: ['upstream', 'target'],
      registers,
    });
    this.#slotLag = new Gauge({ name: `${prefix}replication_slot_lag_bytes`, help: 'WAL bytes between pg_current_wal_lsn() and the slot confirmed_flush_lsn', labelNames: ['slot'], registers });
    // Registered only while events.outbox exists: an unlabelled gauge would otherwise read 0.
    this.#outbox = new Gauge({ name: outboxMetric, help: 'Messages waiting in events.outbox (absent when the table does not exist)', registers: [] });
    const self = this;
    new Gauge({
      name: `${prefix}in_flight`,
      help: 'Messages handed to the delivery engine and not yet accepted by every target',
      registers,
      collect() {
        this.set(self.#bridgeRunning ? (self.#bridge?.stats().inFlight ?? 0) : 0);
      },
    });
    new Gauge({
      name: `${prefix}source_connected`,
      help: '1 while the Postgres source (notify, wal2json, pgoutput, outbox) is connected',
      labelNames: ['source'],
      registers,
      collect() {
        this.reset();
        for (const [name, source] of self.#sources) this.set({ source: name }, source.connected ? 1 : 0);
      },
    });
    new Gauge({
      name: `${prefix}upstream_up`,
      help: '1 while the upstream is started and its last publish attempts succeeded',
      labelNames: ['upstream'],
      registers,
      collect() {
        for (const [name, upstream] of self.#upstreams) this.set({ upstream: name }, upstream.started && upstream.failingTargets.size === 0 ? 1 : 0);
      },
    });
    new Gauge({
      name: `${prefix}leader`,
      help: '1 while this daemon holds the leader lock and runs the bridge (always 1 when running without leader_lock)',
      registers,
      collect() {
        this.set(self.#role === 'leader' || self.#role === 'active' ? 1 : 0);
      },
    });
    new Gauge({
      name: `${prefix}ready`,
      help: '1 when /readyz answers 200',
      registers,
      collect() {
        this.set(self.notReady().length === 0 ? 1 : 0);
      },
    });

    for (const upstream of options.upstreams) {
      this.#upstreams.set(upstream.name, { kind: upstream.kind, uri: this.#redact(upstream.uri), started: false, failingTargets: new Map() });
      for (const rule of upstream.rules) {
        const figures = this.#rule(rule.source, upstream.name, `${rule.target.kind}:${rule.target.name}`);
        // Zero-valued series from the start, so rate() works from the first scrape.
        const labels = { source: figures.source, upstream: figures.upstream, target: figures.target };
        this.#publishedTotal.inc(labels, 0);
        this.#failuresTotal.inc(labels, 0);
        this.#retriesTotal.inc(labels, 0);
        this.#deadLetteredTotal.inc(labels, 0);
        this.#receivedTotal.inc({ source: rule.source }, 0);
        this.#received.set(rule.source, 0);
        const component = rule.sourceType === 'channel' ? 'notify' : rule.sourceType;
        if (!this.#sources.has(component)) this.#sources.set(component, { connected: false, since: null, error: null });
      }
    }
  }

  /** Feeds the monitor from a bridge; returns a function that detaches it. */
  attach(bridge: Bridge): () => void {
    this.#bridge = bridge;
    this.#bridgeRunning = false;
    const listeners: { [E in 'received' | 'published' | 'retrying' | 'dead-lettered' | 'dead-letter-failed' | 'dead-letter-recovered' | 'connected' | 'disconnected' | 'gap' | 'failed' | 'started' | 'stopped']: (...args: never[]) => void } = {
      received: (event: { source: string }) => {
        // Sources are the configured ones; anything else is counted under one bounded label.
        const source = this.#received.has(event.source) || this.#received.size < maxSeries ? event.source : otherLabel;
        this.#receivedTotal.inc({ source });
        this.#received.set(source, (this.#received.get(source) ?? 0) + 1);
      },
      published: (info: { event: { source: string }; upstream: string; target: { kind: string; name: string }; latencyMs: number }) => {
        const rule = this.#rule(info.event.source, info.upstream, `${info.target.kind}:${info.target.name}`);
        const labels = this.#labels(rule);
        rule.published += 1;
        rule.lastLatencyMs = info.latencyMs;
        this.#publishedTotal.inc(labels);
        this.#latency.observe(labels, info.latencyMs / 1000);
        this.#upstreams.get(info.upstream)?.failingTargets.delete(rule.target);
      },
      retrying: (info: { event: { source: string }; upstream: string; target: { kind: string; name: string }; error: Error }) => {
        const rule = this.#rule(info.event.source, info.upstream, `${info.target.kind}:${info.target.name}`);
        const labels = this.#labels(rule);
        rule.retries += 1;
        rule.lastError = clip(this.#redact(info.error.message));
        this.#failuresTotal.inc(labels);
        this.#retriesTotal.inc(labels);
        this.#upstreams.get(info.upstream)?.failingTargets.set(rule.target, rule.lastError);
      },
      'dead-lettered': (letter: { event: { source: string }; upstream: string; target: { kind: string; name: string }; error: Error }) => {
        const rule = this.#rule(letter.event.source, letter.upstream, `${letter.target.kind}:${letter.target.name}`);
        const labels = this.#labels(rule);
        rule.deadLettered += 1;
        rule.lastError = clip(this.#redact(letter.error.message));
        this.#failuresTotal.inc(labels);
        this.#deadLetteredTotal.inc(labels);
        // A permanent failure is about the message, not the broker: the stream goes on.
        this.#upstreams.get(letter.upstream)?.failingTargets.delete(rule.target);
        // Stored: whatever failed to store before is stored too (one line per target).
        this.#deadLetterFailing.delete(`${letter.upstream}\u0000${rule.target}`);
      },
      'dead-letter-failed': (info: { letter: { upstream: string; target: { kind: string; name: string } }; error: Error; attempt: number }) => {
        let upstream = info.letter.upstream;
        let target = this.#redact(`${info.letter.target.kind}:${info.letter.target.name}`);
        if (!this.#deadLetterFailing.has(`${upstream}\u0000${target}`) && this.#deadLetterFailing.size >= maxSeries) upstream = target = otherLabel;
        const key = `${upstream}\u0000${target}`;
        this.#deadLetterFailuresTotal.inc({ upstream, target });
        const previous = this.#deadLetterFailing.get(key);
        this.#deadLetterFailing.set(key, {
          upstream,
          target,
          error: clip(this.#redact(info.error.message)),
          attempts: (previous?.attempts ?? 0) + 1,
          since: previous?.since ?? new Date(),
        });
      },
      'dead-letter-recovered': () => this.#deadLetterFailing.clear(),
      connected: (report: { source: string }) => this.#source(report.source) && this.#sources.set(report.source, { connected: true, since: new Date(), error: null }),
      disconnected: (report: { source: string; error: Error }) =>
        this.#source(report.source) &&
        this.#sources.set(report.source, { connected: false, since: new Date(), error: clip(this.#redact(report.error.message)) }),
      failed: (report: { source: string; error: Error }) =>
        this.#source(report.source) &&
        this.#sources.set(report.source, { connected: false, since: new Date(), error: `failed: ${clip(this.#redact(report.error.message))}` }),
      gap: () => {
        this.#gaps += 1;
        this.#gapsTotal.inc();
      },
      started: () => {
        this.#bridgeRunning = true;
        for (const upstream of this.#upstreams.values()) upstream.started = true;
      },
      stopped: () => this.#markStopped(),
    };
    for (const [event, listener] of Object.entries(listeners)) bridge.on(event as 'started', listener as () => void);
    return () => {
      for (const [event, listener] of Object.entries(listeners)) bridge.off(event as 'started', listener as () => void);
      if (this.#bridge === bridge) this.#markStopped();
    };
  }

  /** Sets the leadership role shown by `/readyz`, `/status.json` and `pg_event_bridge_leader`. */
  setRole(role: DaemonRole): void {
    this.#role = role;
    if (role === 'stopping') this.#stopping = true;
  }

  get role(): DaemonRole {
    return this.#role;
  }

  /** The process is going down: `/healthz` answers 503 from now on. */
  get stopping(): boolean {
    return this.#stopping;
  }

  /** Records what the Postgres probe measured. */
  setProbe(result: { slots: SlotLag[]; outboxDepth: number | null; error: string | null }): void {
    if (result.error === null) {
      this.#slotLag.reset();
      for (const slot of result.slots) this.#slotLag.set({ slot: slot.slot }, slot.lagBytes);
      const registered = this.registry.getSingleMetric(outboxMetric) !== undefined;
      if (result.outboxDepth === null) {
        if (registered) this.registry.removeSingleMetric(outboxMetric);
      } else {
        if (!registered) this.registry.registerMetric(this.#outbox);
        this.#outbox.set(result.outboxDepth);
      }
      this.#slots = result.slots;
      this.#outboxDepth = result.outboxDepth;
    }
    this.#probeError = result.error === null ? null : clip(this.#redact(result.error));
  }

  /** Why `/readyz` says 503: empty when ready. */
  notReady(): string[] {
    if (this.#stopping) return ['stopping'];
    if (this.#role === 'standby') return ['standby: another daemon holds the leader lock'];
    if (this.#role === 'starting') return ['starting'];
    const reasons: string[] = [];
    if (!this.#bridgeRunning) reasons.push('bridge not running');
    for (const [name, source] of this.#sources) {
      if (!source.connected) reasons.push(`source ${name} not connected to Postgres${source.error ? `: ${source.error}` : ''}`);
    }
    for (const failing of this.#deadLetterFailing.values()) {
      reasons.push(
        `dead letters of upstream ${failing.upstream} for ${failing.target} cannot be stored (${failing.attempts} failed attempts since ${failing.since.toISOString()}; the target waits): ${failing.error}`,
      );
    }
    const squatted = this.#bridgeRunning ? (this.#bridge?.stats().outbox?.squattedChannels ?? []) : [];
    for (const squat of squatted.slice(0, 10)) {
      reasons.push(clip(this.#redact(`outbox channel ${squat.channel} cannot be drained: its lock is held by backend ${squat.pid} of role ${squat.role ?? 'unknown'}, which is no bridge`)));
    }
    for (const [name, upstream] of this.#upstreams) {
      if (!upstream.started) reasons.push(`upstream ${name} not started`);
      for (const [target, error] of upstream.failingTargets) reasons.push(`upstream ${name} failing to publish to ${target}: ${error}`);
    }
    return reasons;
  }

  /** Everything the status page shows. */
  status(): DaemonStatus {
    const notReady = this.notReady();
    return {
      role: this.#role,
      ready: notReady.length === 0,
      notReady,
      stopping: this.#stopping,
      leaderLock: this.#leaderLock,
      uptimeSeconds: Math.round((Date.now() - this.#started) / 1000),
      time: new Date().toISOString(),
      inFlight: this.#bridgeRunning ? (this.#bridge?.stats().inFlight ?? 0) : 0,
      gaps: this.#gaps,
      received: Object.fromEntries(this.#received),
      rules: [...this.#rules.values()].map((rule) => ({
        source: rule.source,
        upstream: rule.upstream,
        target: rule.target,
        received: this.#received.get(rule.source) ?? 0,
        published: rule.published,
        retries: rule.retries,
        deadLettered: rule.deadLettered,
        lastLatencyMs: rule.lastLatencyMs === undefined ? null : Math.round(rule.lastLatencyMs * 100) / 100,
        lastError: rule.lastError ?? null,
      })),
      sources: [...this.#sources].map(([name, source]) => ({ name, connected: source.connected, since: source.since?.toISOString() ?? null, error: source.error })),
      upstreams: [...this.#upstreams].map(([name, upstream]) => ({
        name,
        kind: upstream.kind,
        uri: upstream.uri,
        started: upstream.started,
        failing: upstream.failingTargets.size > 0,
        error: upstream.failingTargets.size > 0 ? [...upstream.failingTargets.values()][0]! : null,
      })),
      slots: this.#slots,
      outboxDepth: this.#outboxDepth,
      postgresProbeError: this.#probeError,
    };
  }

  #markStopped(): void {
    this.#bridgeRunning = false;
    this.#deadLetterFailing.clear();
    for (const upstream of this.#upstreams.values()) {
      upstream.started = false;
      upstream.failingTargets.clear();
    }
    for (const source of this.#sources.values()) {
      if (source.connected) Object.assign(source, { connected: false, since: new Date(), error: null });
    }
  }

  #rule(source: string, upstream: string, target: string): RuleFigures {
    const shown = this.#redact(target);
    const key = `${source}\u0000${upstream}\u0000${shown}`;
    let rule = this.#rules.get(key);
    if (!rule && this.#rules.size >= maxSeries && source !== otherLabel) return this.#rule(otherLabel, otherLabel, otherLabel);
    if (!rule) {
      rule = { source, upstream, target: shown, published: 0, retries: 0, deadLettered: 0 };
      this.#rules.set(key, rule);
    }
    return rule;
  }

  /** Whether a source of this name is tracked (the configured ones, up to a bound). */
  #source(name: string): boolean {
    return this.#sources.has(name) || this.#sources.size < maxSeries;
  }

  #labels(rule: MonitoredRule) {
    return { source: rule.source, upstream: rule.upstream, target: rule.target };
  }
}

// Error messages can quote what they failed on (a 10 KB routing key): the page shows this much.
const maxErrorLength = 500;

function clip(text: string): string {
  return text.length <= maxErrorLength ? text : `${text.slice(0, maxErrorLength)}… (${text.length - maxErrorLength} more characters)`;
}
