import { describe, expect, it } from 'vitest';
import { redactUri } from './redact-uri.js';

describe('redactUri', () => {
  it.each([
    ['amqp://user:s3cret@rabbit//', 'amqp://user:***@rabbit//'],
    ['redis://default:pass@redis', 'redis://default:***@redis'],
    ['postgres://app@db:5432/app', 'postgres://app@db:5432/app'],
    ['tcp://mosquitto:1883', 'tcp://mosquitto:1883'],
    ['aws://us-east-1', 'aws://us-east-1'],
    ['postgres://db/app?password=x&sslmode=require', 'postgres://db/app?password=***&sslmode=***'],
    ['https://hooks.example/in?sig=abc&v&x=#frag', 'https://hooks.example/in?sig=***&***&x=***#***'],
    ['https://hooks.slack.com/services/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', 'https://hooks.slack.com/services/T0A1B2C3D/B4E5F6G7H/***'],
    ['https://discord.com/api/webhooks/123456789012345678/Xy9_aB-3cD5eF7gH9iJ1kL3mN5oP7qR9sT1uV3wX5yZ7', 'https://discord.com/api/webhooks/123456789012345678/***'],
    ['https://sqs.eu-west-2.amazonaws.com/123456789012/orders-queue-2024', 'https://sqs.eu-west-2.amazonaws.com/123456789012/orders-queue-2024'],
    ['https://apikey123@api.example/v1', 'https://***@api.example/v1'],
    ['amqp://guest@rabbit//', 'amqp://guest@rabbit//'],
    ['mqtt://u:p%40ss@host:1883', 'mqtt://u:***@host:1883'],
  ])('%s -> %s', (uri, expected) => {
    expect(redactUri(uri)).toBe(expected);
  });

  it('never echoes something it cannot parse', () => {
    expect(redactUri('user:password')).toBe('<unparsable uri>');
  });
});
