export { findFreePort } from './find-free-port.js';
export { startFaultProxy, type FaultProxy, type FaultProxyOptions } from './fault-proxy.js';
export { makeEvent, type TestEventInit } from './make-event.js';
export { MessageInbox, type ReceivedMessage, type TestTarget } from './message-inbox.js';
export { startPrivatePostgres, type PrivatePostgres, type PrivatePostgresOptions } from './private-postgres.js';
export { createRecordingLogger, type LogRecord, type RecordingLogger } from './recording-logger.js';
export { hostileEventCases, testPublisher, type PublisherOverrides, type PublisherTestSpec } from './test-publisher.js';
export { waitFor, type WaitForOptions } from './wait-for.js';
