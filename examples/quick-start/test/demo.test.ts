import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// The README's quick start must stay true: the demo runs a real bridge and shows events arriving,
// against the local Postgres and, when none answers, against an embedded one.
const run = promisify(execFile);
const demo = fileURLToPath(new URL('../src/demo.ts', import.meta.url));
const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));

async function runDemo(env: Record<string, string>) {
  return run(tsx, [demo], { env: { ...process.env, ...env }, timeout: 120_000 });
}

describe('quick start demo', () => {
  it('shows NOTIFY events arriving through the local Postgres', async () => {
    const { stdout } = await runDemo({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres' });
    expect(stdout).toContain('Postgres: postgres://postgres@127.0.0.1:5432/postgres');
    expect(stdout.match(/<- \/notify signup/g)).toHaveLength(5);
    expect(stdout).toContain('Done: 5 events published, 0 retries, 0 dead letters.');
  });

  it('starts an embedded Postgres when none answers, and shows row changes too', async () => {
    const { stdout } = await runDemo({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/postgres' });
    expect(stdout).toContain('starting an embedded one');
    expect(stdout.match(/<- \/notify signup/g)).toHaveLength(5);
    expect(stdout.match(/<- \/wal public\.demo_signup_\w+\.insert/g)).toHaveLength(3);
    expect(stdout).toContain('Done: 8 events published, 0 retries, 0 dead letters.');
  });
});
