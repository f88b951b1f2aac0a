import type { Publisher, UpstreamDefinition } from '@pg-event-bridge/core';
import { describe, expect, it } from 'vitest';
import { bridgeKeys, databaseKeys, loggingKeys, upstreamKeys } from './config/config-keys.js';
import { renderHelp } from './render-help.js';

const sns: UpstreamDefinition = {
  kind: 'awssns',
  aliases: ['sns'],
  targetKinds: ['topic'],
  description: 'AWS SNS',
  settings: [{ key: 'message_group_id', description: 'FIFO group', default: 'routing key' }],
  create: () => ({}) as Publisher,
};

describe('renderHelp', () => {
  const help = renderHelp([sns], '1.2.3');

  it('documents every key in its ini and variable forms, generation 1 included', () => {
    for (const spec of [...databaseKeys, ...upstreamKeys, ...bridgeKeys, ...loggingKeys]) {
      expect(help).toContain(spec.key);
      if (spec.gen1) expect(help).toContain(spec.gen1);
    }
    expect(help).toContain('env PGPROXY_DATABASE-REPLICATION_SLOT');
    expect(help).toContain('env PGPROXY_UPSTREAM-<NAME>-BRIDGE_CHANNELS');
    expect(help).toContain('env PGPROXY_BRIDGE-SHUTDOWN_TIMEOUT');
  });

  it("documents each kind, its aliases, targets and settings", () => {
    expect(help).toContain('kind=awssns (or sns): AWS SNS');
    expect(help).toContain('targets: topic:NAME');
    expect(help).toMatch(/message_group_id \(default: routing key\)\n\s+FIFO group/);
  });

  it('states the version and the exit codes', () => {
    expect(help).toMatch(/^pg-event-bridge 1\.2\.3/);
    expect(help).toMatch(/Exit codes\n {2}0 .*\n {2}1 .*\n {2}2 /);
  });
});
