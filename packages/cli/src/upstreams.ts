import type { UpstreamDefinition } from '@pg-event-bridge/core';
import { amqpUpstream } from '@pg-event-bridge/upstream-amqp';
import { lambdaUpstream } from '@pg-event-bridge/upstream-lambda';
import { mqttUpstream } from '@pg-event-bridge/upstream-mqtt';
import { natsUpstream } from '@pg-event-bridge/upstream-nats';
import { redisUpstream } from '@pg-event-bridge/upstream-redis';
import { snsUpstream } from '@pg-event-bridge/upstream-sns';
import { sqsUpstream } from '@pg-event-bridge/upstream-sqs';
import { webhookUpstream } from '@pg-event-bridge/upstream-webhook';

/**
 * Every upstream kind the daemon can run, in `--help` order. Adding a kind is adding its
 * package's definition here (and the package to dependencies).
 */
export const upstreams: readonly UpstreamDefinition[] = [
  amqpUpstream,
  mqttUpstream,
  redisUpstream,
  snsUpstream,
  sqsUpstream,
  lambdaUpstream,
  webhookUpstream,
  natsUpstream,
];
