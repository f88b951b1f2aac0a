import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/bin.ts'],
  format: ['esm', 'cjs'],
  // The tsconfig is a composite project for `tsc -b`; tsup's declaration build is not one, and
  // with composite on it fails with TS6307 ("not listed within the file list of project").
  dts: { entry: 'src/index.ts', compilerOptions: { composite: false } },
  sourcemap: true,
  clean: true,
  target: 'node20',
});
