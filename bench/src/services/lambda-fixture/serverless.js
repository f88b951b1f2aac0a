'use strict';
// The bench's Lambda service for serverless-offline 13 under serverless 3: `sink` takes the
// throughput events, `probe` measures latency (see handler.js).
module.exports = {
  service: 'bench',
  frameworkVersion: '3',
  provider: {
    name: 'aws',
    runtime: 'nodejs20.x',
    region: 'us-east-1',
    stage: 'bench',
    environment: { RECORD_URL: '${env:RECORD_URL, ""}' },
  },
  plugins: ['serverless-offline'],
  functions: { sink: { handler: 'handler.sink' }, probe: { handler: 'handler.probe' } },
};
