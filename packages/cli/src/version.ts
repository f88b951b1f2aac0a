import pkg from '../package.json' with { type: 'json' };

/** The version of @pg-event-bridge/cli, printed by `--version`. */
export const version: string = pkg.version;
