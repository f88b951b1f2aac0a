/**
 * The HTTP receiver (run by spawn-service.ts): the webhook target and the place the Lambda
 * handler reports to. It answers 204 at once and records the latency of what reaches
 *   POST /probe            a webhook body: latency = now − the body's stamp;
 *   POST /lambda-report    `{ "latencies": [ms, ...] }` measured by the Lambda handler;
 * Anything else posted (the throughput sink) is only answered.
 *   GET /latencies         the latencies so far, as JSON; DELETE /latencies empties them.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { nowMs } from '../measure.js';
import { sentAtOf } from '../payload.js';

let latencies: number[] = [];
const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/latencies') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(latencies));
    return;
  }
  if (req.method === 'DELETE' && req.url === '/latencies') {
    latencies = [];
    res.writeHead(204).end();
    return;
  }
  const receivedAt = nowMs();
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    res.writeHead(204).end();
    if (req.url === '/probe') latencies.push(receivedAt - sentAtOf(Buffer.concat(chunks)));
    else if (req.url === '/lambda-report') latencies.push(...(JSON.parse(Buffer.concat(chunks).toString()) as { latencies: number[] }).latencies);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send!({ ready: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
