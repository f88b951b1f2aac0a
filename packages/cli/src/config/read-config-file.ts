import { open } from 'node:fs/promises';

/** The largest configuration file the daemon reads: an ini file is a few KiB, 10 MiB is generous. */
export const maxConfigFileBytes = 10_485_760;

/**
 * Reads a text file of at most `maxBytes`, stopping there rather than reading on: a path to a
 * device (`/dev/zero`), a pipe or a huge file fails with a clear error instead of hanging or
 * exhausting memory.
 */
export async function readConfigFile(path: string, maxBytes: number = maxConfigFileBytes): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    while (length <= maxBytes) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes) throw new Error(`it is larger than ${maxBytes} bytes, too large for a configuration file`);
    return buffer.toString('utf8', 0, length);
  } finally {
    await handle.close();
  }
}
