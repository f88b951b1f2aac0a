import { describe, expect, it } from 'vitest';
import { parseAwsUri } from './parse-aws-uri.js';

describe('parseAwsUri', () => {
  it.each([
    ['', {}],
    ['aws://', {}],
    ['aws://eu-west-2', { region: 'eu-west-2' }],
    ['aws://us-gov-west-1/', { region: 'us-gov-west-1' }],
    ['aws://localhost:4566', { endpoint: 'http://localhost:4566' }],
    ['aws://[::1]:4566', { endpoint: 'http://[::1]:4566' }],
    ['https://sqs.internal.example.com:8443/ignored/path', { endpoint: 'https://sqs.internal.example.com:8443' }],
  ])('reads %j', (uri, expected) => {
    expect(parseAwsUri('sqs', uri)).toEqual(expected);
  });

  it('refuses anything else with ERR_BRIDGE_CONFIG, naming the forms and hiding credentials', () => {
    const error = (() => {
      try {
        parseAwsUri('upstream.orders', 'amqp://user:hunter2@host//');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toMatchObject({ code: 'ERR_BRIDGE_CONFIG', message: expect.stringMatching(/^\[upstream\.orders\] Invalid uri .*aws:\/\/<region>/) });
    expect((error as Error).message).not.toContain('hunter2');
  });
});
