import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// Every example's docker-compose.yml must be a valid Compose file. No Docker engine is needed:
// Debian's docker-compose 1.29 checks a file with `config -q` (apt-get install -y docker-compose).
const run = promisify(execFile);
const examples = fileURLToPath(new URL('../../', import.meta.url));
const composeFiles = readdirSync(examples, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(examples, entry.name, 'docker-compose.yml')))
  .map((entry) => join(entry.name, 'docker-compose.yml'));

async function findDockerCompose(): Promise<string | undefined> {
  try {
    await run('docker-compose', ['version']);
    return 'docker-compose';
  } catch {
    return undefined;
  }
}
const dockerCompose = await findDockerCompose();
const ci = process.env['CI'] === 'true' || process.env['CI'] === '1';

describe.concurrent('examples/*/docker-compose.yml', () => {
  // quick-start runs without Docker by design; support holds shared helpers; grafana is a
  // dashboard to import, checked against the daemon's metrics by the cli tests.
  it('exist for every example but quick-start, support and grafana', () => {
    const withoutCompose = readdirSync(examples, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && !['quick-start', 'support', 'grafana'].includes(entry.name) && !existsSync(join(examples, entry.name, 'docker-compose.yml')))
      .map((entry) => entry.name);
    expect(withoutCompose).toEqual([]);
    expect(composeFiles.length).toBeGreaterThanOrEqual(9);
  });

  it('docker-compose is installed (required in CI)', () => {
    if (!dockerCompose && ci) {
      throw new Error('docker-compose is not installed, so the examples\' compose files cannot be validated. Install it: apt-get install -y docker-compose');
    }
  });

  it.skipIf(!dockerCompose).each(composeFiles)('%s passes `docker-compose config -q`', async (file) => {
    // A failure prints docker-compose's own complaint (unknown key, bad type, top-level `name:`...).
    await expect(run(dockerCompose!, ['-f', join(examples, file), 'config', '-q'], { cwd: examples }).then(() => 'valid', (error: { stderr?: string }) => error.stderr ?? String(error))).resolves.toBe('valid');
  });
});
