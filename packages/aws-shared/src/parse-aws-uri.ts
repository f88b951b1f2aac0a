import { BridgeError, redactUri } from '@pg-event-bridge/core';

/** Region or endpoint taken from a pg-event-proxy style `aws://` URI. */
export interface AwsUri {
  readonly region?: string;
  readonly endpoint?: string;
}

const regionPattern = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;

/**
 * Reads the daemon's AWS URI forms: `aws://us-east-1` names a region, `aws://host:port` an endpoint
 * (an emulator, plain HTTP), `http(s)://host:port` an endpoint as written, and `aws://` (or an empty
 * URI) leaves both to the SDK's usual chain (environment, profile). `upstream` prefixes errors.
 *
 * @example
 * ```ts
 * parseAwsUri('upstream.orders', 'aws://localhost:4566'); // { endpoint: 'http://localhost:4566' }
 * ```
 */
export function parseAwsUri(upstream: string, uri: string): AwsUri {
  const text = uri.trim();
  if (text === '' || text === 'aws://' || text === 'aws:') return {};
  if (/^https?:\/\//i.test(text)) {
    try {
      const url = new URL(text);
      return { endpoint: url.origin };
    } catch {
      // fall through to the error below
    }
  }
  const match = /^aws:\/\/([^/?#@]+)\/*$/i.exec(text);
  if (match) {
    const authority = match[1]!.toLowerCase();
    if (regionPattern.test(authority)) return { region: authority };
    if (/^[a-z0-9.-]+:\d{1,5}$/.test(authority) || /^\[[0-9a-f:]+\]:\d{1,5}$/.test(authority)) return { endpoint: `http://${authority}` };
  }
  throw new BridgeError(
    'ERR_BRIDGE_CONFIG',
    `[${upstream}] Invalid uri ${JSON.stringify(redactUri(text))}: write aws://<region> (aws://us-east-1), aws://<host>:<port> for an endpoint such as an emulator, or http(s)://host:port`,
  );
}
