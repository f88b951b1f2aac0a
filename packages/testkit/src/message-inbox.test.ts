import { describe, expect, it } from 'vitest';
import { MessageInbox } from './message-inbox.js';

const message = (text: string) => ({ body: Buffer.from(text), routingKey: '', headers: {} });

describe('MessageInbox', () => {
  it('resolves take() once enough messages arrived, in arrival order, removing them', async () => {
    const inbox = new MessageInbox();
    inbox.push(message('a'));
    const taken = inbox.take(2, 1000);
    inbox.push(message('b'));
    inbox.push(message('c'));
    expect((await taken).map((m) => m.body.toString())).toEqual(['a', 'b']);
    expect(inbox.size).toBe(1);
  });

  it('rejects take() after the timeout, saying how many arrived', async () => {
    const inbox = new MessageInbox();
    inbox.push(message('a'));
    await expect(inbox.take(3, 20)).rejects.toThrow('Expected 3 message(s) within 20 ms; 1 arrived');
    expect(inbox.size).toBe(1);
  });
});
