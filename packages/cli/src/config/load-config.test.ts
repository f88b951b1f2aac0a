import { BridgeError, type Publisher, type UpstreamDefinition } from '@pg-event-bridge/core';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { loadConfig, type LoadConfigOptions } from './load-config.js';
import { redactSecrets } from '../redact-secrets.js';

// Stand-ins for the upstream packages: the loader only needs kind, target kinds, settings, create().
const fakeDefinition = (kind: string, targetKinds: string[], extra: Partial<UpstreamDefinition> = {}): UpstreamDefinition => ({
  kind,
  targetKinds,
  description: `fake ${kind}`,
  settings: [],
  create: ({ name }) => ({ name, targetKinds } as unknown as Publisher),
  ...extra,
});
const definitions = [
  fakeDefinition('amqp', ['exchange', 'queue'], {
    settings: [{ key: 'delivery_mode', description: '1 or 2', default: '1' }],
    create: ({ settings }) => {
      if (settings['delivery_mode'] && !['1', '2'].includes(settings['delivery_mode'])) {
        throw new BridgeError('ERR_BRIDGE_CONFIG', `[amqp] delivery_mode must be 1 or 2, got "${settings['delivery_mode']}"`);
      }
      return {} as Publisher;
    },
  }),
  fakeDefinition('awssns', ['topic'], { aliases: ['sns'] }),
  fakeDefinition('mqtt', ['topic'], { settings: [{ key: 'username', description: 'user' }, { key: 'password', description: 'secret' }] }),
];

const seedEnv = {
  'PGPROXY_LOCAL-POSTGRESQL_URI': 'postgres://postgres@127.0.0.1:5432/postgres',
  'PGPROXY_LOCAL-UPSTREAM': 'amqp',
  'PGPROXY_LOCAL-UPSTREAM_CONFIG-URI': 'amqp://guest:guest@127.0.0.1:5672//',
  'PGPROXY_LOCAL-UPSTREAM_CONFIG-BRIDGE_CHANNELS': 'events->exchange:amq.topic, wal2json->exchange:amq.topic',
  'PGPROXY_LOCAL-UPSTREAM_CONFIG-DELIVERY_MODE': '2',
};

const seedIni = `
[database]
uri=postgres://user:pass@postgres:5432/app
# replication_slot=pg_event_proxy
# wal2json_params=\\"format-version\\" '2' , \\"include-types\\" '0'

[upstream.myamqp]
kind=amqp
uri=amqp://user:pass@rabbitmq//
bridge_channels=amqpchannel->exchange:amq.topic

[upstream.mysns]
kind=awssns
uri=aws://sqs-mock:9911
bridge_channels=snschannel->topic:arn:aws:sns:eu-west-2:123450000001:test-topic
`;

const load = (options: Partial<LoadConfigOptions>) => loadConfig({ env: {}, definitions, ...options });

/** The problems loadConfig reports, failing the test when it succeeds. */
function problemsOf(options: Partial<LoadConfigOptions>): readonly string[] {
  try {
    load(options);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('generation 1 variables', () => {
  it('configure the database and one upstream named local, with pg-event-proxy defaults', () => {
    const config = load({ env: seedEnv });
    expect(config.database).toEqual({
      uri: 'postgres://postgres@127.0.0.1:5432/postgres',
      replicationSlot: 'pg_event_proxy',
      wal2jsonParams: `"format-version" '2', "include-types" '0'`,
      installSchema: true,
    });
    expect(config.upstreams).toHaveLength(1);
    const [local] = config.upstreams;
    expect(local).toMatchObject({ name: 'local', kind: 'amqp', uri: 'amqp://guest:guest@127.0.0.1:5672//', settings: { delivery_mode: '2' } });
    expect(local!.rules.map((rule) => [rule.source, rule.target.kind, rule.target.name])).toEqual([
      ['events', 'exchange', 'amq.topic'],
      ['wal2json', 'exchange', 'amq.topic'],
    ]);
    expect(config.origins['upstream.local.uri']).toBe('PGPROXY_LOCAL-UPSTREAM_CONFIG-URI');
    expect(config.origins['database.replication_slot']).toBeUndefined();
  });

  it('read wal2json params with the escaped quotes of the seed documentation', () => {
    const config = load({
      env: { ...seedEnv, 'PGPROXY_LOCAL-WAL2JSON_PARAMS': `\\"format-version\\" '2' , \\"include-types\\" '1'`, 'PGPROXY_LOCAL-REPLICATION_SLOT': 'my_slot' },
    });
    expect(config.database.wal2jsonParams).toBe(`"format-version" '2' , "include-types" '1'`);
    expect(config.database.replicationSlot).toBe('my_slot');
  });

  it('treat empty variables as unset', () => {
    const config = load({ env: { ...seedEnv, 'PGPROXY_LOCAL-UPSTREAM_CONFIG-DELIVERY_MODE': '', 'PGPROXY_LOCAL-REPLICATION_SLOT': '' } });
    expect(config.upstreams[0]!.settings).toEqual({});
    expect(config.database.replicationSlot).toBe('pg_event_proxy');
  });
});

describe('generation 2 ini file', () => {
  it('reads the seed example, one upstream per section, ARN names kept whole', () => {
    const config = load({ file: { name: 'config.ini', text: seedIni } });
    expect(config.database.uri).toBe('postgres://user:pass@postgres:5432/app');
    expect(config.upstreams.map((upstream) => [upstream.name, upstream.kind])).toEqual([
      ['myamqp', 'amqp'],
      ['mysns', 'awssns'],
    ]);
    expect(config.upstreams[1]!.rules[0]!.target).toEqual({ kind: 'topic', name: 'arn:aws:sns:eu-west-2:123450000001:test-topic' });
    expect(config.origins['upstream.myamqp.uri']).toBe('config.ini [upstream.myamqp] uri');
  });

  it('accepts kind aliases and keys in any case', () => {
    const config = load({ file: { name: 'c.ini', text: '[Database]\nURI=postgres://h/db\n[upstream.s]\nKind=SNS\nuri=aws://us-east-1\nbridge_channels=a->topic:t\n' } });
    expect(config.upstreams[0]).toMatchObject({ name: 's', kind: 'awssns' });
  });

  it('reads the [bridge] section', () => {
    const text = `${seedIni}\n[bridge]\nshutdown_timeout=500ms\nmax_in_flight=10\nmax_in_flight_bytes=1024\n`;
    const defaults = { secretKeys: [], metricsHost: '127.0.0.1', leaderLock: true, leaderPollIntervalMs: 1000 };
    expect(load({ file: { name: 'c.ini', text } }).bridge).toEqual({ shutdownTimeoutMs: 500, maxInFlight: 10, maxInFlightBytes: 1024, ...defaults });
    expect(load({ file: { name: 'c.ini', text: seedIni } }).bridge).toEqual({ shutdownTimeoutMs: 10_000, ...defaults });
    expect(load({ file: { name: 'c.ini', text: `${seedIni}\n[bridge]\nshutdown_timeout=2\n` } }).bridge.shutdownTimeoutMs).toBe(2000);
    expect(load({ file: { name: 'c.ini', text: `${seedIni}\n[bridge]\nshutdown_timeout=1m\n` } }).bridge.shutdownTimeoutMs).toBe(60_000);
  });
});

describe('generation 2 variables', () => {
  it('configure upstreams without a file', () => {
    const config = load({
      env: {
        'PGPROXY_DATABASE-URI': 'postgres://postgres@127.0.0.1/postgres',
        'PGPROXY_UPSTREAM-MYAMQP-KIND': 'amqp',
        'PGPROXY_UPSTREAM-MYAMQP-URI': 'amqp://127.0.0.1//',
        'PGPROXY_UPSTREAM-MYAMQP-BRIDGE_CHANNELS': 'a->queue:q',
        'PGPROXY_UPSTREAM-MYAMQP-DELIVERY_MODE': '1',
        'PGPROXY_BRIDGE-SHUTDOWN_TIMEOUT': '3s',
      },
    });
    expect(config.upstreams[0]).toMatchObject({ name: 'myamqp', kind: 'amqp', settings: { delivery_mode: '1' } });
    expect(config.bridge.shutdownTimeoutMs).toBe(3000);
  });

  it('override the ini file key by key, matching upstream names case-insensitively', () => {
    const config = load({
      file: { name: 'config.ini', text: seedIni.replace('[upstream.myamqp]', '[upstream.MyAmqp]') },
      env: { 'PGPROXY_UPSTREAM-MYAMQP-URI': 'amqp://other//', 'PGPROXY_DATABASE-URI': 'postgres://env/db' },
    });
    const amqp = config.upstreams.find((upstream) => upstream.kind === 'amqp')!;
    expect(amqp).toMatchObject({ name: 'MyAmqp', uri: 'amqp://other//', bridgeChannels: 'amqpchannel->exchange:amq.topic' });
    expect(config.database.uri).toBe('postgres://env/db');
    expect(config.origins['upstream.MyAmqp.uri']).toBe('PGPROXY_UPSTREAM-MYAMQP-URI');
    expect(config.origins['upstream.MyAmqp.kind']).toBe('config.ini [upstream.MyAmqp] kind');
  });

  it('may be combined with generation 1 when they agree', () => {
    const config = load({ env: { ...seedEnv, 'PGPROXY_DATABASE-URI': seedEnv['PGPROXY_LOCAL-POSTGRESQL_URI'] } });
    expect(config.database.uri).toBe(seedEnv['PGPROXY_LOCAL-POSTGRESQL_URI']);
  });
});

describe('the result', () => {
  it('is deeply frozen', () => {
    const config = load({ env: seedEnv });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.upstreams[0]!.settings)).toBe(true);
    expect(Object.isFrozen(config.database)).toBe(true);
  });

  it('takes the log level from LOG_LEVEL, else from RUST_LOG', () => {
    expect(load({ env: seedEnv }).logLevel).toBe('info');
    expect(load({ env: { ...seedEnv, RUST_LOG: 'pg_event_proxy=debug' } }).logLevel).toBe('debug');
    expect(load({ env: { ...seedEnv, RUST_LOG: 'warn,pg_event_proxy=info' } }).logLevel).toBe('info');
    expect(load({ env: { ...seedEnv, RUST_LOG: 'debug', LOG_LEVEL: 'error' } }).logLevel).toBe('error');
  });
});

describe('problems', () => {
  it('malformed BRIDGE_CHANNELS names the variable and quotes the rule with a fix', () => {
    const [problem] = problemsOf({ env: { ...seedEnv, 'PGPROXY_LOCAL-UPSTREAM_CONFIG-BRIDGE_CHANNELS': 'events:amq.topic' } });
    expect(problem).toMatch(/^PGPROXY_LOCAL-UPSTREAM_CONFIG-BRIDGE_CHANNELS: /);
    expect(problem).toContain('"events:amq.topic"');
    expect(problem).toContain('events->exchange:amq.topic');
  });

  it('a target kind the upstream does not take lists the ones it does', () => {
    const [problem] = problemsOf({ env: { ...seedEnv, 'PGPROXY_LOCAL-UPSTREAM_CONFIG-BRIDGE_CHANNELS': 'events->topic:x' } });
    expect(problem).toContain('amqp accepts: exchange, queue');
  });

  it('an unknown kind lists the known kinds, with a suggestion when close', () => {
    const [problem] = problemsOf({ env: { ...seedEnv, 'PGPROXY_LOCAL-UPSTREAM': 'amqq' } });
    expect(problem).toBe('PGPROXY_LOCAL-UPSTREAM = "amqq": unknown upstream kind (did you mean "amqp"?); known kinds: amqp, awssns (or sns), mqtt.');
    // Rule syntax is still checked, against every target kind.
    const problems = problemsOf({ env: { ...seedEnv, 'PGPROXY_LOCAL-UPSTREAM': 'kafka', 'PGPROXY_LOCAL-UPSTREAM_CONFIG-BRIDGE_CHANNELS': 'x' } });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toContain('known kinds: amqp');
  });

  it('an unparsable URI names its key and hides the password', () => {
    const problems = problemsOf({
      env: { ...seedEnv, 'PGPROXY_LOCAL-UPSTREAM_CONFIG-URI': 'amqp://guest:s3cr#t@rabbit:56x72//', 'PGPROXY_LOCAL-POSTGRESQL_URI': 'postgres:/nohost' },
    });
    expect(problems).toEqual([
      'PGPROXY_LOCAL-POSTGRESQL_URI = "<unparsable uri>": not a valid URI (percent-encode special characters such as @ # / in the password); write postgres://user:password@host:5432/database.',
      expect.stringMatching(/^PGPROXY_LOCAL-UPSTREAM_CONFIG-URI = "amqp:\/\/\*\*\*@rabbit:56x72\/\/": not a valid URI/),
    ]);
  });

  it('a database URI of another scheme says which schemes work', () => {
    const [problem] = problemsOf({ env: { ...seedEnv, 'PGPROXY_LOCAL-POSTGRESQL_URI': 'mysql://root:hunter22@db/app' } });
    expect(problem).toBe('PGPROXY_LOCAL-POSTGRESQL_URI = "mysql://root:***@db/app": the scheme must be postgres:// or postgresql://; write postgres://user:password@host:5432/database.');
  });

  it('missing keys say where to set them, in the generation the upstream uses', () => {
    const { ['PGPROXY_LOCAL-UPSTREAM_CONFIG-URI']: _, ['PGPROXY_LOCAL-POSTGRESQL_URI']: __, ...env } = seedEnv;
    expect(problemsOf({ env })).toEqual([
      'The database is not set: set uri in [database] of the ini file, PGPROXY_DATABASE-URI, or PGPROXY_LOCAL-POSTGRESQL_URI.',
      'Upstream "local" has no uri: set uri in [upstream.local] of the ini file, PGPROXY_UPSTREAM-LOCAL-URI, or PGPROXY_LOCAL-UPSTREAM_CONFIG-URI.',
    ]);
    expect(problemsOf({ file: { name: 'c.ini', text: seedIni.replace('kind=amqp\n', '') } })).toEqual([
      'Upstream "myamqp" has no kind: set kind in [upstream.myamqp] of the ini file, PGPROXY_UPSTREAM-MYAMQP-KIND.',
    ]);
  });

  it('no configuration at all, or no upstream, is one clear problem', () => {
    expect(problemsOf({ env: { PATH: '/bin' } })).toEqual([
      'No configuration: pass an ini file (pg-event-bridge /config.ini) or set PGPROXY_* variables (see pg-event-bridge --help).',
    ]);
    expect(problemsOf({ env: { 'PGPROXY_DATABASE-URI': 'postgres://h/db' } })[0]).toMatch(/^No upstream: add an \[upstream.NAME\] section/);
  });

  it('unknown PGPROXY_ variables are errors, with a suggestion when close', () => {
    const problems = problemsOf({
      env: {
        ...seedEnv,
        'PGPROXY_DATABSE-URI': 'postgres://h/db',
        'PGPROXY_UPSTREM-X-URI': 'amqp://h//',
        'PGPROXY_DATABASE-PORT': '5432',
        'PGPROXY_LOCAL-UPSTREAM_CONFIG-DELIVERYMODE': '2',
        PGPROXY_WHATEVER: '1',
        'PGPROXY_UPSTREAM-NOKEY': '1',
      },
    });
    expect(problems).toEqual([
      'PGPROXY_DATABASE-PORT is not a known variable; [database] accepts: PGPROXY_DATABASE-URI, PGPROXY_DATABASE-REPLICATION_SLOT, PGPROXY_DATABASE-WAL2JSON_PARAMS, PGPROXY_DATABASE-WAL_FILTERS, PGPROXY_DATABASE-PUBLICATION, PGPROXY_DATABASE-PUBLICATION_REFRESH_INTERVAL, PGPROXY_DATABASE-WAL_MESSAGE_PREFIXES, PGPROXY_DATABASE-WAL_RECEIVE_TIMEOUT, PGPROXY_DATABASE-OUTBOX_ORDER_WAIT, PGPROXY_DATABASE-INSTALL_SCHEMA.',
      'PGPROXY_DATABSE-URI is not a known variable (did you mean "PGPROXY_DATABASE-URI"?); see pg-event-bridge --help.',
      'PGPROXY_UPSTREAM-NOKEY does not name an upstream and a key: write PGPROXY_UPSTREAM-<NAME>-<KEY>, e.g. PGPROXY_UPSTREAM-MYAMQP-URI.',
      'PGPROXY_UPSTREM-X-URI is not a known variable (did you mean "PGPROXY_UPSTREAM-X-URI"?); see pg-event-bridge --help.',
      'PGPROXY_WHATEVER is not a known variable; see pg-event-bridge --help.',
      'PGPROXY_LOCAL-UPSTREAM_CONFIG-DELIVERYMODE is not a setting of amqp (did you mean "delivery_mode"?); amqp accepts: delivery_mode.',
    ]);
  });

  it('unknown ini sections and keys are errors, with a suggestion when close', () => {
    const text = `stray=1\n[databse]\nuri=x\n[database]\nurl=postgres://h/db\n[upstream]\nkind=amqp\n[upstream.a.b]\nkind=amqp\n${seedIni.replace('[database]', '[ignored_database]')}`;
    const problems = problemsOf({ file: { name: 'c.ini', text } });
    expect(problems).toEqual(
      expect.arrayContaining([
        'c.ini: "stray" is outside any section; put it under [database], [upstream.NAME] or [bridge].',
        'c.ini: unknown section [databse] (did you mean "database"?); use [database], [upstream.NAME] or [bridge].',
        'c.ini [database] url is not a known key (did you mean "uri"?); [database] accepts: uri, replication_slot, wal2json_params, wal_filters, publication, publication_refresh_interval, wal_message_prefixes, wal_receive_timeout, outbox_order_wait, install_schema.',
        'c.ini [upstream] kind: an upstream needs a name; write the section as [upstream.NAME].',
        'c.ini: section [upstream.a.b] is not part of the scheme: use [database], [upstream.NAME] (NAME without dots) or [bridge].',
      ]),
    );
  });

  it('an upstream key of another kind is an error naming the keys the kind takes', () => {
    const [problem] = problemsOf({ env: { ...seedEnv, 'PGPROXY_LOCAL-UPSTREAM_CONFIG-USERNAME': 'bob' } });
    expect(problem).toBe('PGPROXY_LOCAL-UPSTREAM_CONFIG-USERNAME is not a setting of amqp; amqp accepts: delivery_mode.');
  });

  it("the kind's own validation is reported under the key the user wrote", () => {
    const [problem] = problemsOf({ env: { ...seedEnv, 'PGPROXY_LOCAL-UPSTREAM_CONFIG-DELIVERY_MODE': '3' } });
    expect(problem).toBe('PGPROXY_LOCAL-UPSTREAM_CONFIG-DELIVERY_MODE: [amqp] delivery_mode must be 1 or 2, got "3"');
  });

  it('two variables setting one key differently conflict', () => {
    const [problem] = problemsOf({ env: { ...seedEnv, 'PGPROXY_DATABASE-URI': 'postgres://elsewhere/db' } });
    expect(problem).toBe('PGPROXY_DATABASE-URI and PGPROXY_LOCAL-POSTGRESQL_URI both set [database] uri, to different values: remove one of them.');
  });

  it('WAL filters are checked up-front, with the key that holds them', () => {
    const [problem] = problemsOf({ env: { ...seedEnv, 'PGPROXY_DATABASE-WAL_FILTERS': 'customer:upsert' } });
    expect(problem).toMatch(/^PGPROXY_DATABASE-WAL_FILTERS: \[wal\] Invalid table filter "customer:upsert".*unknown action "upsert"/);
    const config = load({ env: { ...seedEnv, 'PGPROXY_DATABASE-WAL_FILTERS': 'customer:insert', 'PGPROXY_DATABASE-PUBLICATION': 'app_pub' } });
    expect(config.database).toMatchObject({ walFilters: 'customer:insert', publication: 'app_pub' });
  });

  it('reads the WAL and outbox keys, and refuses prefixes that could pass for row changes', () => {
    const env = {
      ...seedEnv,
      'PGPROXY_DATABASE-WAL_MESSAGE_PREFIXES': 'audit, billing.events',
      'PGPROXY_DATABASE-WAL_RECEIVE_TIMEOUT': '45s',
      'PGPROXY_DATABASE-PUBLICATION_REFRESH_INTERVAL': '0',
      'PGPROXY_DATABASE-OUTBOX_ORDER_WAIT': '2s',
    };
    expect(load({ env }).database).toMatchObject({ walMessagePrefixes: ['audit', 'billing.events'], walReceiveTimeoutMs: 45_000, publicationRefreshMs: 0, outboxOrderWaitMs: 2000 });
    const problems = problemsOf({ env: { ...env, 'PGPROXY_DATABASE-WAL_MESSAGE_PREFIXES': 'x.update, pg_event_bridge.heartbeat', 'PGPROXY_DATABASE-WAL_RECEIVE_TIMEOUT': '10ms' } });
    expect(problems).toEqual([
      'PGPROXY_DATABASE-WAL_RECEIVE_TIMEOUT = "10ms": write a duration from 1000ms to 60m, such as 20s or 1m.',
      expect.stringMatching(/^PGPROXY_DATABASE-WAL_MESSAGE_PREFIXES: "x\.update" cannot be forwarded; write a prefix not ending in "\.update"/),
      expect.stringMatching(/^PGPROXY_DATABASE-WAL_MESSAGE_PREFIXES: "pg_event_bridge\.heartbeat" cannot be forwarded/),
    ]);
  });

  it('reads the metrics and leader election keys', () => {
    const text = `${seedIni}\n[bridge]\nmetrics_port=9187\nmetrics_host=0.0.0.0\nleader_lock=off\nleader_lock_key=-42\nleader_poll_interval=250ms\n`;
    expect(load({ file: { name: 'c.ini', text } }).bridge).toMatchObject({
      metricsPort: 9187,
      metricsHost: '0.0.0.0',
      leaderLock: false,
      leaderLockKey: -42n,
      leaderPollIntervalMs: 250,
    });
    // 0 turns the server off, as leaving the key out does.
    expect(load({ env: { ...seedEnv, 'PGPROXY_BRIDGE-METRICS_PORT': '0' } }).bridge.metricsPort).toBeUndefined();
    const problems = problemsOf({
      env: {
        ...seedEnv,
        'PGPROXY_BRIDGE-METRICS_PORT': '99999',
        'PGPROXY_BRIDGE-LEADER_LOCK': 'maybe',
        'PGPROXY_BRIDGE-LEADER_LOCK_KEY': '9223372036854775808',
        'PGPROXY_BRIDGE-LEADER_POLL_INTERVAL': 'often',
      },
    });
    expect(problems).toEqual([
      'PGPROXY_BRIDGE-METRICS_PORT = "99999": write a port number from 1 to 65535, or 0 to turn the metrics server off.',
      'PGPROXY_BRIDGE-LEADER_LOCK = "maybe": write on or off (true/false, yes/no, 1/0).',
      'PGPROXY_BRIDGE-LEADER_LOCK_KEY = "9223372036854775808": write a whole number from -9223372036854775808 to 9223372036854775807 (pg_try_advisory_lock takes a bigint).',
      'PGPROXY_BRIDGE-LEADER_POLL_INTERVAL = "often": write a duration from 10ms to 10m, such as 500ms, 1s or 5s.',
    ]);
  });

  it('bad values of our own keys say what to write', () => {
    const problems = problemsOf({
      env: {
        ...seedEnv,
        'PGPROXY_LOCAL-REPLICATION_SLOT': 'My-Slot',
        'PGPROXY_BRIDGE-SHUTDOWN_TIMEOUT': 'soon',
        'PGPROXY_BRIDGE-MAX_IN_FLIGHT': '0',
        LOG_LEVEL: 'verbose',
      },
    });
    expect(problems).toEqual([
      'PGPROXY_LOCAL-REPLICATION_SLOT = "My-Slot": a slot name has 1 to 63 lower-case letters, digits and underscores.',
      'PGPROXY_BRIDGE-SHUTDOWN_TIMEOUT = "soon": write a duration from 0 to 1h such as 500ms, 10s or 1m (a bare number is seconds).',
      'PGPROXY_BRIDGE-MAX_IN_FLIGHT = "0": write a whole number from 1 to 1000000 (each message in flight is held in memory).',
      'LOG_LEVEL = "verbose": use one of trace, debug, info, warn, error, fatal, silent.',
    ]);
  });

  it('are all reported together in one ConfigError', () => {
    let error: unknown;
    try {
      load({ env: { ...seedEnv, 'PGPROXY_LOCAL-UPSTREAM': 'kafka', 'PGPROXY_LOCAL-POSTGRESQL_URI': 'nope', 'PGPROXY_TYPO': 'x' } });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(BridgeError.isInstance(error) && error.code).toBe('ERR_BRIDGE_CONFIG');
    expect((error as ConfigError).problems).toHaveLength(3);
    expect((error as ConfigError).message).toMatch(/^\[cli\] Invalid configuration, 3 problems:\n {2}- /);
  });

  it('never contain a password, whatever the mistake', () => {
    const passwords = ['hunter2x', 's3cr#t!', 'p@ss/word'];
    for (const password of passwords) {
      const env = {
        'PGPROXY_LOCAL-POSTGRESQL_URI': `postgres://app:${password}@db:5432/app`,
        'PGPROXY_LOCAL-UPSTREAM': 'mqtt',
        'PGPROXY_LOCAL-UPSTREAM_CONFIG-URI': `mqtt://bob:${password}@broker:1883`,
        'PGPROXY_LOCAL-UPSTREAM_CONFIG-PASSWORD': password,
        'PGPROXY_LOCAL-UPSTREAM_CONFIG-PASWORD': password,
        'PGPROXY_LOCAL-UPSTREAM_CONFIG-BRIDGE_CHANNELS': `bad rule ${password}`,
      };
      let error: ConfigError | undefined;
      try {
        load({ env });
      } catch (caught) {
        error = caught as ConfigError;
      }
      expect(error).toBeInstanceOf(ConfigError);
      // Problems quote what the user wrote (a rule may be anything); redaction covers what is printed.
      expect(redactSecrets(error!.message, error!.secrets)).not.toContain(password);
    }
  });
});
