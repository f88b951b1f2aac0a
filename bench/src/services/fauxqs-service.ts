/** The fauxqs SNS/SQS emulator on a free loopback port (run by spawn-service.ts). */
import { startFauxqs } from 'fauxqs';

const server = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false });
process.send!({ ready: `http://127.0.0.1:${server.port}` });
process.once('SIGTERM', () => void server.stop().then(() => process.exit(0)));
