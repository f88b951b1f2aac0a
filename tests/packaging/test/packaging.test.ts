import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { checkPackage, createPackageFromTarballData } from '@arethetypeswrong/core';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// What users get from npm: every public package packed as `pnpm publish` would (publishConfig
// applied, workspace: ranges replaced), linted by publint and are-the-types-wrong, then installed
// with npm into an empty project and loaded with both `import` and `require`.
const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../', import.meta.url));

const packageDirs = (await readdir(join(root, 'packages'))).sort();
const packages = await Promise.all(
  packageDirs.map(async (dir) => {
    const manifest = JSON.parse(await readFile(join(root, 'packages', dir, 'package.json'), 'utf8')) as { name: string; version: string; private?: boolean };
    return { dir, name: manifest.name, tarball: `${manifest.name.replace('@', '').replace('/', '-')}-${manifest.version}.tgz`, isPrivate: manifest.private === true };
  }),
);
const publicPackages = packages.filter((p) => !p.isPrivate);

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'pg-event-bridge-packaging-'));
  await run('pnpm', ['-r', '--filter', './packages/*', 'pack', '--pack-destination', join(work, 'tarballs')], { cwd: root });
  await writeFile(join(work, 'package.json'), JSON.stringify({ name: 'packaging-scratch', private: true }));
  // Third-party dependencies come from the registry (or npm's cache); ours only from the tarballs.
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', '--loglevel=error', ...publicPackages.map((p) => join(work, 'tarballs', p.tarball))], {
    cwd: work,
    timeout: 120_000,
  });
}, 150_000);
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe.concurrent.each(publicPackages)('$name', ({ name, tarball }) => {
  it('passes publint (strict)', async () => {
    const data = await readFile(join(work, 'tarballs', tarball));
    const { messages, pkg } = await publint({ pack: { tarball: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer }, level: 'suggestion', strict: true });
    expect(messages.map((message) => `${message.type}: ${formatMessage(message, pkg) ?? message.code}`)).toEqual([]);
  });

  it('passes are-the-types-wrong', async () => {
    // The library behind `attw`, in-process: one TypeScript load for all packages, not one each.
    const data = await readFile(join(work, 'tarballs', tarball));
    const result = await checkPackage(createPackageFromTarballData(new Uint8Array(data)));
    expect(result.types).not.toBe(false);
    expect('problems' in result ? result.problems : []).toEqual([]);
  });

  it('loads from the installed tarball with import', async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(name)}); console.log(Object.keys(m).length)`], { cwd: work });
    expect(Number(stdout.trim())).toBeGreaterThan(0);
  });

  it('loads from the installed tarball with require', async () => {
    const load = run(process.execPath, ['-e', `console.log(Object.keys(require(${JSON.stringify(name)})).length)`], { cwd: work });
    if (name === '@pg-event-bridge/testkit') {
      // The conformance suite imports vitest, and vitest refuses require() by design.
      await expect(load).rejects.toThrow(/Vitest cannot be imported in a CommonJS module/);
      return;
    }
    expect(Number((await load).stdout.trim())).toBeGreaterThan(0);
  });
});

it('installs the pg-event-bridge executable from the cli tarball', async () => {
  const { stdout } = await run(join(work, 'node_modules', '.bin', 'pg-event-bridge'), ['--version'], { cwd: work });
  expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
});
