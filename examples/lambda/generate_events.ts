import { runGenerateEvents } from '@pg-event-bridge/example-support';

/** The channels config.ini bridges. */
export const channels = ['lambdachannel'];

runGenerateEvents(import.meta.url, channels);
