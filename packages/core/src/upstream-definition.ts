import type { Logger } from './logger.js';
import type { Publisher } from './publisher.js';

/** One configuration key an upstream kind understands, for `--help` and error messages. */
export interface SettingDoc {
  readonly key: string;
  readonly description: string;
  readonly default?: string;
}

/** What the daemon passes to {@link UpstreamDefinition.create}. */
export interface UpstreamConfig {
  /** The upstream's section name (`myamqp` in `[upstream.myamqp]`, `local` for generation 1). */
  readonly name: string;
  /** The `uri` key as the user wrote it. */
  readonly uri: string;
  /** Every other key of the section, lower-cased (`delivery_mode`, `username`...). */
  readonly settings: Readonly<Record<string, string>>;
  readonly logger: Logger;
  /**
   * The daemon's environment, for kinds that follow a platform convention (AWS_REGION). Upstream
   * packages read it from here, never from `process.env`. @default {}
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * How the daemon turns an `[upstream.NAME]` section into a publisher. Each upstream package
 * exports one, so adding a kind to the daemon is adding one entry to its list.
 */
export interface UpstreamDefinition {
  /** The `kind=` value, as pg-event-proxy spells it: `amqp`, `mqtt`, `awssns`... */
  readonly kind: string;
  /** Other accepted spellings of the kind (`sns` for `awssns`). */
  readonly aliases?: readonly string[];
  readonly targetKinds: readonly string[];
  readonly description: string;
  /** Keys besides `kind`, `uri` and `bridge_channels`. */
  readonly settings: readonly SettingDoc[];
  /**
   * Validates the section and builds the publisher without I/O. Throws a BridgeError with code
   * ERR_BRIDGE_CONFIG naming the offending key and what to do.
   */
  create(config: UpstreamConfig): Publisher;
}
