import { runGenerateEvents } from '@pg-event-bridge/example-support';

/** The channels config.ini bridges. */
export const channels = ['natschannel'];

runGenerateEvents(import.meta.url, channels);
