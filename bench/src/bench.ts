/**
 * `pnpm bench`: every NOTIFY → upstream pair at every payload size, then WAL → amqp (pgoutput and
 * wal2json), in one run. Prints each result as it lands, writes bench/results/latest.json (and a
 * dated copy), the chart, and — for a full run — docs/benchmarks.md.
 *   pnpm --filter @pg-event-bridge/bench all -- [--only amqp,mqtt,wal] [--quick] [--sizes 100,4096] [--profile]
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { describeMachine } from './machine.js';
import { notifyCeiling } from './ceilings.js';
import { NotifySender } from './notify-sender.js';
import { runNotifyPair, type PairResult } from './notify-pair.js';
import { parseBenchOptions } from './options.js';
import { summariseProfile, type ProfileSummary } from './profile-summary.js';
import type { BenchRun } from './report/bench-run.js';
import { resultsDir, writeResult } from './report/write-results.js';
import { writeReport } from './report/write-report.js';
import { startServices } from './services/start-services.js';
import { loadUpstream, upstreamNames } from './upstreams/index.js';
import type { ServiceName } from './upstreams/upstream-scenario.js';
import { runWalAmqp, type WalAmqpResult } from './wal-amqp.js';

const options = parseBenchOptions(process.argv.slice(2));
const postgres = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const scale = options.quick ? 0.25 : 1;
const latencyRate = 1000;
const latencySeconds = options.quick ? 2 : 5;
/** NOTIFY ceiling runs: enough that a run lasts about a second. */
const notifyEvents = options.quick ? 20_000 : 60_000;
const started = performance.now();

const scenarios = await Promise.all(upstreamNames.filter((name) => options.only.includes(name)).map(loadUpstream));
const sender = await NotifySender.connect(postgres);
const machine = describeMachine(await sender.serverVersion());
const services = await startServices(new Set<ServiceName>(scenarios.flatMap((s) => s.services)));
const profileRoot = `${resultsDir}profiles/`;
const notify: PairResult[] = [];
const wal: WalAmqpResult[] = [];
const notifyCeilings: Record<string, number> = {};
const profiles: ProfileSummary[] = [];

/** With --profile, a fresh folder for one bridge process's CPU profile. */
async function profileDir(name: string): Promise<string | undefined> {
  if (!options.profile) return undefined;
  const dir = `${profileRoot}${name}`;
  await mkdir(dir, { recursive: true });
  return dir;
}

async function summariseProfiles(dir: string | undefined, scenario: string): Promise<void> {
  if (!dir) return;
  for (const file of await readdir(dir)) profiles.push(await summariseProfile(`${dir}/${file}`, scenario));
}

const log = (line: string) => console.log(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);

try {
  if (options.profile) await rm(profileRoot, { recursive: true, force: true });
  for (const size of scenarios.length > 0 ? options.sizes : []) {
    notifyCeilings[size] = await notifyCeiling(postgres, sender, notifyEvents, size);
    log(`NOTIFY ceiling ${size} B: ${notifyCeilings[size]}/s`);
    for (const scenario of scenarios) {
      const cpuProfileDir = await profileDir(`notify-${scenario.name}-${size}`);
      const result = await runNotifyPair(scenario, size, {
        postgres,
        sender,
        services: services.services,
        restart: (name) => services.restart(name),
        events: Math.round(scenario.events * scale),
        rounds: options.quick ? 1 : 3,
        notifyCeiling: notifyCeilings[size]!,
        latencyRate,
        latencySeconds,
        ...(cpuProfileDir && { cpuProfileDir }),
      });
      notify.push(result);
      const { latency } = result;
      log(
        `notify → ${scenario.name} ${size} B: broker ${result.ceilings.broker}/s, relay ${result.relay.eventsPerSecond}/s, bridge ${result.bridge.eventsPerSecond}/s (ratio ${result.ratio}, bridge/relay ${result.relay.bridgeRatio}, ${result.bridge.cpuUsPerEvent} µs CPU/event, ${result.bridge.cpuShare} cores), ` +
          `latency at ${latency.rate}/s p50 ${latency.p50Ms} p99 ${latency.p99Ms} max ${latency.maxMs} ms (${latency.count}/${latency.sent}), ` +
          `direct p99 ${latency.direct.p99Ms} ms (added ${latency.addedP99Ms}), limit ${result.limit} (client loop ${result.ceilings.brokerClientLoopBusy}, ${result.ceilings.brokerClientCpuUsPerEvent} µs CPU/event; bridge loop ${result.bridge.loopBusy}), RSS ${result.bridge.peakRssMiB} MiB`,
      );
      await summariseProfiles(cpuProfileDir, `NOTIFY → ${scenario.name}, ${size} B`);
    }
  }
  if (options.only.includes('wal')) {
    for (const plugin of ['pgoutput', 'wal2json'] as const) {
      const cpuProfileDir = await profileDir(`wal-${plugin}`);
      const result = await runWalAmqp({ rows: options.walRows, txRows: 1000, plugin, ...(cpuProfileDir && { cpuProfileDir }) });
      wal.push(result);
      log(`${plugin} → amqp: pg_recvlogical ${result.ceilings.pgRecvlogical}/s, amqplib ${result.ceilings.amqplibConfirmed}/s, bridge ${result.bridge.eventsPerSecond}/s (ratio ${result.ratio}, ${result.bridge.cpuUsPerEvent} µs CPU/event), limit ${result.limit} (client loop ${result.ceilings.amqplibLoopBusy}, bridge loop ${result.bridge.loopBusy}), RSS ${result.bridge.peakRssMiB} MiB`);
      await summariseProfiles(cpuProfileDir, `${plugin} → amqp`);
    }
  }
} finally {
  await services.stop();
  await sender.close();
}

const date = new Date().toISOString();
const run: BenchRun = {
  benchmark: 'pnpm bench',
  date,
  machine,
  settings: { quick: options.quick, latencySeconds, latencyRate, command: 'pnpm bench' },
  durationSeconds: Math.round((performance.now() - started) / 1000),
  notifyCeilings,
  notify,
  wal,
  profiles,
};
for (const profile of profiles) {
  console.log(`\nCPU profile, ${profile.scenario}: ${profile.busyMs} ms busy, ${profile.idleMs} ms idle`);
  for (const entry of profile.top) console.log(`${String(entry.percent).padStart(6)} %  ${entry.fn}  ${entry.where}`);
}
await writeResult(`bench-${date.replace(/[:.]/g, '-')}.json`, run);
log(`results: ${await writeResult('latest.json', run)}`);
if (options.writeDocs) log(`report: ${await writeReport(run)}`);
