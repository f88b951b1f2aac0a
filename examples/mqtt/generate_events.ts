import { runGenerateEvents } from '@pg-event-bridge/example-support';

/** The channels config.ini bridges. */
export const channels = ['mqttchannel'];

runGenerateEvents(import.meta.url, channels);
