/** NOTIFY → Lambda on serverless-offline (real handler code): Invoke, `Event` type, one at a time. */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { createLambdaPublisher, toLambdaEnvelope, type LambdaPublisherOptions } from '@pg-event-bridge/upstream-lambda';
import { bridgeMetadata } from '../bridge-metadata.js';
import { burstKey, probeKey } from '../payload.js';
import { emulatorConfig } from '../services/aws-emulator.js';
import { receiverLatencies } from '../services/receiver-latencies.js';
import { lambdaFunctionName } from '../services/serverless-offline.js';
import type { UpstreamScenario } from './upstream-scenario.js';

export const lambda: UpstreamScenario = {
  name: 'lambda',
  label: 'Lambda Invoke (serverless-offline), Event',
  services: ['lambda', 'receiver'],
  // serverless-offline's rate falls with the invocations it has served: 849/s fresh, 461/s once
  // the ceiling, the relay and the bridge had made some 20,000, so whichever ran last lost.
  restartBeforeEachRun: ['lambda'],
  events: 2_000,
  async setup({ channels, services }) {
    const client = new LambdaClient(emulatorConfig(services.lambda!));
    const sink = lambdaFunctionName('sink');
    const probe = lambdaFunctionName('probe');
    return {
      rules: `${channels.burst}->function:${sink}, ${channels.probe}->function:${probe}`,
      publisherOptions: { ...emulatorConfig(services.lambda!), invocationType: 'Event', checkTargets: false } satisfies LambdaPublisherOptions,
      client: (to) => ({
        batchSize: 1,
        inFlight: 1,
        describe: 'AWS SDK Invoke (Event) of the same envelope, one call in flight (the publisher’s default, keeps order)',
        send: async ([body]) => {
          const envelope = toLambdaEnvelope({ ...bridgeMetadata(channels[to], to === 'burst' ? burstKey : probeKey), body: body! });
          const { FunctionError } = await client.send(new InvokeCommand({ FunctionName: to === 'burst' ? sink : probe, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(envelope)) }));
          if (FunctionError) throw new Error(`Invoke failed: ${FunctionError}`);
        },
      }),
      consume: () => receiverLatencies(services.receiver!),
      dispose: async () => client.destroy(),
    };
  },
  createPublisher: (options) => createLambdaPublisher(options as LambdaPublisherOptions),
};
