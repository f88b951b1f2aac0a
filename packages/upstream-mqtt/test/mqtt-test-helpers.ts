import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { findFreePort, MessageInbox, type ReceivedMessage, type TestTarget } from '@pg-event-bridge/testkit';

export const brokerUrl = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';

/** A unique topic name per test, so parallel tests never see each other's messages. */
export function uniqueTopic(prefix = 'pgeb-test'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A message as the test subscriber saw it, with the MQTT-specific parts kept. */
export interface MqttReceived extends ReceivedMessage {
  readonly qos: number;
  readonly retain: boolean;
  readonly contentType: string | undefined;
}

/**
 * Subscribes (MQTT 5, QoS 2) to `filters` and collects every message whose topic is `name` or
 * starts with `name` + separator. With the `.` separator there is no wildcard for "name.*", so the
 * default filters are the exact topics the tests use (never `#`: Mosquitto drops messages past
 * 1000 queued per subscriber, and `#` would queue every parallel test's traffic).
 */
export async function subscribe(name: string, options: { filters?: string[]; separator?: string; url?: string; extraKeys?: readonly string[] } = {}): Promise<TestTarget<MqttReceived> & { client: MqttClient }> {
  const separator = options.separator ?? '.';
  const client = await connectAsync(options.url ?? brokerUrl, { protocolVersion: 5, clientId: `pgeb-sub-${randomUUID().slice(0, 8)}`, reconnectPeriod: 0 });
  client.on('error', () => undefined);
  const inbox = new MessageInbox<MqttReceived>();
  client.on('message', (topic, payload, packet) => {
    if (topic !== name && !topic.startsWith(`${name}${separator}`)) return;
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(packet.properties?.userProperties ?? {})) {
      headers[key] = Array.isArray(value) ? value.join(',') : String(value);
    }
    inbox.push({ body: Buffer.from(payload), routingKey: topic, headers, qos: packet.qos, retain: packet.retain, contentType: packet.properties?.contentType });
  });
  const keys = ['', 'signup', 'public.customer.insert', 'order.created', 'r', ...(options.extraKeys ?? [])];
  await client.subscribeAsync(options.filters ?? keys.map((key) => (key === '' ? name : `${name}${separator}${key}`)), { qos: 2 });
  return {
    client,
    target: { kind: 'topic', name },
    inbox,
    async dispose() {
      await client.endAsync(true);
    },
  };
}

/**
 * A private Mosquitto on a free loopback port whose ACL lets anonymous clients use only the topics
 * matching `allowed`: with MQTT 5 it answers a publish anywhere else with reason code 0x87.
 * `extraConfig` lines are added to its configuration.
 */
export async function startMosquittoWithAcl(allowed: string, extraConfig: readonly string[] = []): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'pgeb-mosquitto-'));
  // Started as root, Mosquitto reads the ACL file after switching to its own user.
  await chmod(dir, 0o755);
  const port = await findFreePort();
  await writeFile(join(dir, 'acl'), `topic readwrite ${allowed}\n`);
  await writeFile(join(dir, 'mosquitto.conf'), [`listener ${port} 127.0.0.1`, 'allow_anonymous true', `acl_file ${join(dir, 'acl')}`, 'log_dest stderr', ...extraConfig, ''].join('\n'));
  const child = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    // Mosquitto logs "mosquitto version ... running" once its listener is open (stderr: unbuffered).
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const collect = (chunk: Buffer) => {
        output += chunk.toString();
        if (!output.includes(' running')) return;
        child.stderr.off('data', collect);
        child.stderr.resume();
        resolve();
      };
      child.stderr.on('data', collect);
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`mosquitto exited with ${code} before listening: ${output}`)));
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
