export { createLambdaPublisher } from './lambda-publisher.js';
export { toLambdaEnvelope, type LambdaEnvelope } from './lambda-envelope.js';
export { LAMBDA_EVENT_PAYLOAD_BYTES, LAMBDA_REQUEST_RESPONSE_PAYLOAD_BYTES, type LambdaPublisherOptions } from './lambda-options.js';
export { lambdaUpstream } from './lambda-upstream.js';
