import { EventEmitter } from 'node:events';
import type { Bridge } from '@pg-event-bridge/core';
import { describe, expect, it } from 'vitest';
import { DaemonMonitor } from './daemon-monitor.js';

function fakeBridge(): Bridge & EventEmitter {
  return Object.assign(new EventEmitter(), { stats: () => ({ received: 0, published: 0, retried: 0, deadLettered: 0, gaps: 0, inFlight: 0 }) }) as unknown as Bridge & EventEmitter;
}

const rule = { source: 'orders', sourceType: 'channel', target: { kind: 'url', name: 'https://hook.example/in?token=abc' }, text: 'orders->url:https://hook.example/in?token=abc' };

describe('DaemonMonitor under hostile values', () => {
  it('keeps /metrics and /status.json bounded whatever sources, targets, routing keys and errors the events carry', async () => {
    const monitor = new DaemonMonitor({ upstreams: [{ name: 'hooks', kind: 'webhook', uri: 'https://hook.example/', rules: [rule as never] }], redact: (text) => text.replace(/token=[^&\s]*/g, 'token=***'), leaderLock: false });
    const bridge = fakeBridge();
    monitor.attach(bridge);
    monitor.setRole('active');
    bridge.emit('started');
    const huge = 'k'.repeat(10_240);
    for (let i = 0; i < 100_000; i++) {
      const event = { id: String(i), source: `src-${i}`, routingKey: `${huge}${i}`, body: Buffer.from('x'), timestamp: new Date() };
      const target = { kind: 'url', name: `https://h/${i}?token=t${i}` };
      bridge.emit('received', event);
      bridge.emit('published', { event, upstream: `up-${i}`, target, attempts: 1, latencyMs: 1 });
      bridge.emit('retrying', { event, upstream: 'hooks', target, attempt: 1, delayMs: 1, error: new Error(`${huge} ${i}`) });
      bridge.emit('dead-letter-failed', { letter: { event, upstream: 'hooks', target, error: new Error(huge), attempts: 1 }, error: new Error(`${huge} ${i}`), attempt: 1 });
      bridge.emit('disconnected', { type: 'disconnected', source: `s-${i}`, error: new Error(huge) });
    }
    const metrics = await monitor.registry.metrics();
    const status = JSON.stringify(monitor.status());
    expect(metrics.split('\n').length).toBeLessThan(40_000);
    expect(metrics.length).toBeLessThan(20 * 1024 * 1024);
    expect(metrics).not.toContain(huge);
    expect(metrics).not.toMatch(/token=t\d/);
    expect(status).not.toContain(huge);
    expect(monitor.status().rules.length).toBeLessThanOrEqual(1_001);
    expect(monitor.status().sources.length).toBeLessThanOrEqual(1_000);
    expect(monitor.notReady().some((reason) => reason.includes('dead letters of upstream hooks'))).toBe(true);
    expect(Math.max(...monitor.notReady().map((reason) => reason.length))).toBeLessThan(1_000);
  }, 60_000);
});
