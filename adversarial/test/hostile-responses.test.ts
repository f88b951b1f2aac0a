import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdversarialBridge, type AdversarialBridge, type HostileAnswer } from '../src/adversarial-bridge.js';
import { AdversarialResults } from '../src/adversarial-results.js';

// A webhook receiver that answers the way a broken or hostile endpoint does: bodies far larger
// than the event, bodies that never end, headers that never end, absurd Retry-After values,
// redirects. The first attempt of each message gets the hostile answer, later ones a plain 200
// (or the same refusal, for permanent errors). The message must be delivered or dead-lettered,
// the daemon's memory must stay flat, and every later event must arrive.
const results = new AdversarialResults('hostile-responses', 'oversized and slow webhook responses');
let bridge: AdversarialBridge;
let peakGrowth = 0;

const mib = 1024 * 1024;

/** Streams `total` bytes of `x` as the body, stopping when the client goes away. */
function stream(response: Parameters<HostileAnswer>[1], total: number): void {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  let sent = 0;
  const write = () => {
    while (sent < total && !response.destroyed) {
      sent += chunk.length;
      if (!response.write(chunk)) return void response.once('drain', write);
    }
    if (!response.destroyed) response.end();
  };
  write();
}

/** After the first attempt, a plain 200. */
const thenOk =
  (first: HostileAnswer): HostileAnswer =>
  (request, response, attempt) => {
    if (attempt === 1) first(request, response, attempt);
    else response.end();
  };

const cases: Array<{ mode: string; name: string; answer: HostileAnswer; outcome: 'delivered' | 'dead-lettered' }> = [
  {
    mode: 'huge-ok',
    name: '200 with a 400 MiB body',
    outcome: 'delivered',
    answer: (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      stream(response, 400 * mib);
    },
  },
  {
    mode: 'huge-refusal',
    name: '400 with a 200 MiB body',
    outcome: 'dead-lettered',
    answer: (_request, response) => {
      response.writeHead(400, { 'content-type': 'text/plain' });
      stream(response, 200 * mib);
    },
  },
  {
    mode: 'trickle',
    name: '200, then a body of one byte every 100 ms for a minute',
    outcome: 'delivered',
    answer: thenOk((_request, response) => {
      response.writeHead(200);
      let n = 0;
      const timer = setInterval(() => {
        if (response.destroyed || ++n > 600) {
          clearInterval(timer);
          if (!response.destroyed) response.end();
          return;
        }
        response.write('x');
      }, 100);
    }),
  },
  {
    mode: 'silent',
    name: 'no answer at all',
    outcome: 'delivered',
    answer: thenOk(() => undefined),
  },
  {
    mode: 'endless-headers',
    name: 'a status line, then headers that never end',
    outcome: 'delivered',
    answer: thenOk((_request, response) => {
      response.socket?.write('HTTP/1.1 200 OK\r\nX-Slow: ');
      const timer = setInterval(() => (response.socket?.destroyed ? clearInterval(timer) : response.socket?.write('a')), 100);
    }),
  },
  {
    mode: 'retry-after-forever',
    name: '503 with Retry-After: 1e12',
    outcome: 'delivered',
    answer: thenOk((_request, response) => {
      response.writeHead(503, { 'retry-after': '1000000000000' });
      response.end();
    }),
  },
  {
    mode: 'retry-after-garbage',
    name: '429 with Retry-After: garbage',
    outcome: 'delivered',
    answer: thenOk((_request, response) => {
      response.writeHead(429, { 'retry-after': 'soon, maybe' });
      response.end();
    }),
  },
  {
    mode: 'redirect',
    name: '307 to the daemon\'s own metrics port',
    outcome: 'dead-lettered',
    answer: (_request, response) => {
      response.writeHead(307, { location: `http://127.0.0.1:${bridge.metricsPort}/metrics` });
      response.end();
    },
  },
  {
    mode: 'bad-status',
    name: 'a malformed status line',
    outcome: 'delivered',
    answer: thenOk((_request, response) => {
      response.socket?.end('HTTP/1.1 99999 What\r\n\r\n');
    }),
  },
  {
    mode: 'bad-chunks',
    name: 'invalid chunked encoding',
    outcome: 'delivered',
    answer: thenOk((_request, response) => {
      response.socket?.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n');
    }),
  },
  {
    mode: 'cut',
    name: 'the connection closed half way through the body',
    outcome: 'delivered',
    answer: thenOk((_request, response) => {
      response.socket?.end('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nshort');
    }),
  },
];

beforeAll(async () => {
  bridge = await startAdversarialBridge({ webhookKeys: ['max_retry_after_ms=1000'] });
  for (const { mode, answer } of cases) bridge.onHostile(mode, answer);
}, 60_000);

afterAll(async () => {
  await results.write(bridge);
  console.info(`[measured] hostile responses: peak RSS growth ${Math.round(peakGrowth / mib)} MiB`);
  await bridge?.stop();
}, 30_000);

describe('hostile webhook responses', () => {
  it.each(cases)('$name: the message is $outcome, memory stays flat, later events arrive', async ({ mode, name, outcome }) => {
    results.input(name);
    const baseline = await bridge.rss();
    const marker = `hostile:${mode} ${bridge.id}`;
    let peak = baseline;
    const sampler = setInterval(() => void bridge.rss().then((rss) => (peak = Math.max(peak, rss)), () => undefined), 50);
    try {
      await bridge.db.query(`SELECT events.send_message($1, $2, 'hostile', true)`, [bridge.channel, marker]);
      if (outcome === 'delivered') {
        const arrived = await bridge.arrival((a) => a.target === 'webhook' && a.body.includes(marker), 30_000);
        if (!arrived) results.lost();
        expect(arrived, `${name}: never delivered\n${bridge.output().slice(-3000)}`).toBeDefined();
      }
      await bridge.assertAlive();
      await bridge.canary(30_000);
      if (outcome === 'dead-lettered') {
        const letters = await bridge.deadLetters();
        const letter = letters.find((d) => d['upstream'] === 'hook' && String(d['payload']).includes(marker));
        if (!letter) results.lost();
        expect(letter, `${name}: not dead-lettered`).toBeDefined();
        // The stored reason is short: a prefix of the answer, not the answer.
        expect(String(letter!['error_message']).length).toBeLessThan(8 * 1024);
      }
    } finally {
      clearInterval(sampler);
    }
    const growth = peak - baseline;
    peakGrowth = Math.max(peakGrowth, growth);
    // A body of hundreds of MiB for one small event: what the daemon holds may not follow it.
    if (growth > 64 * mib) results.breach();
    expect(Math.round(growth / mib), `${name}: RSS grew by ${Math.round(growth / mib)} MiB`).toBeLessThan(64);
  }, 90_000);
});
