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
    ['mqtt://u:p%40ss@host:1883', 'mqtt://u:***@host:1883'],
  ])('%s -> %s', (uri, expected) => {
    expect(redactUri(uri)).toBe(expected);
  });

  it('never echoes something it cannot parse', () => {
    expect(redactUri('user:password')).toBe('<unparsable uri>');
  });
});
