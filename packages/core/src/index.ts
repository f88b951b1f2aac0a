export { BridgeError, describeThrown, errorCodes, toBridgeError, type BridgeErrorCode, type BridgeErrorOptions } from './errors.js';
export { silentLogger, type Logger } from './logger.js';
export type { Publisher, PublisherCapabilities, PublisherContext, PublishOptions, Target } from './publisher.js';
export type { BridgeEvent, PoisonEvent, Source, SourceContext, SourceReport } from './source.js';
export type { SettingDoc, UpstreamConfig, UpstreamDefinition } from './upstream-definition.js';
export { parseRules, allTargetKinds, walSources, type ParseRulesOptions, type Rule } from './rules/parse-rules.js';
export { splitRouting, splitRoutingBytes, type SplitPayload } from './rules/split-routing.js';
export { backoffDelay, sleep, abortError, type RetryOptions } from './delivery/backoff.js';
export { TargetDispatcher, type DeadLetter, type DispatchObserver, type DispatcherOptions } from './delivery/target-dispatcher.js';
export { redactQuery, redactUri } from './util/redact-uri.js';
export { DeliveryEngine, type DeliveryOptions, type Route } from './delivery/delivery-engine.js';
export { createNotifySource, type NotifySourceOptions } from './sources/notify-source.js';
export {
  connectDedicated,
  dedicatedClientConfig,
  quoteIdent,
  defaultApplicationName,
  defaultConnectTimeoutMs,
  defaultKeepAliveIdleMs,
  type ConnectOptions,
  type DedicatedConnection,
  type PostgresInput,
} from './sources/postgres-connection.js';
export { createBridge, type Bridge, type BridgeEvents, type BridgeOptions, type BridgeStats, type StopOptions, type UpstreamBinding } from './bridge.js';
export { createWalSource, defaultSlotName, defaultWal2jsonParams, heartbeatPrefix, messagePrefixProblem, type WalSourceOptions } from './sources/wal-source.js';
export { parseWalFilters, matchesWalFilters, walActions, type WalAction, type WalFilter } from './rules/parse-wal-filters.js';
export { AckTracker, type AckUnit } from './delivery/ack-tracker.js';
export { PgoutputDecoder, convertText, type PgoutputMessage, type PgRelation, type PgRow } from './sources/pgoutput-decoder.js';
export { parseReplicationMessage, encodeStandbyStatus, parseLsn, formatLsn, type Lsn, type ReplicationMessage } from './sources/replication-protocol.js';
export { abortable, onAbort, whenOpen, type Opening } from './util/on-abort.js';
export { OptionProblems, describeValue, isPositiveInteger } from './util/option-problems.js';
export { SettingsReader } from './util/settings-reader.js';
export {
  createOutboxSource,
  outboxRowToEvent,
  maxOutboxKeyBytes,
  type OutboxRowLimits,
  type OutboxRowResult,
  type OutboxRowValues,
  type OutboxSource,
  type OutboxSourceOptions,
  type OutboxStats,
} from './sources/outbox-source.js';
export { createDeadLetterTable, type DeadLetterTable, type DeadLetterTableOptions } from './delivery/dead-letter-table.js';
export {
  installSchema,
  renderGrantsSql,
  renderSchemaSql,
  schemaVersion,
  type GrantsOptions,
  type InstallSchemaOptions,
  type InstallSchemaResult,
  type SchemaOptions,
} from './sql/install-schema.js';
export { migrations, defaultSchema, outboxWakeChannel, reservedChannels, reservedHeaderPrefixes, type Migration, type SchemaNames } from './sql/migrations.js';
export { InFlight } from './util/in-flight.js';
export { TurnCork, corkableStream, type CorkableStream } from './util/turn-cork.js';
export { retryDeadLetter, type DeadLetterRetryObserver, type DeadLetterRetryOptions } from './delivery/retry-dead-letter.js';
export { withDeadline, DeadlineError, type DeadlineOptions } from './util/with-deadline.js';
export { maxNotificationBytes } from './sources/notification-framer.js';
