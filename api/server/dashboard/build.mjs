// Bundles src/main.ts (with ECharts and graphql-ws) into one minified script and writes
// it gzipped, as the binary embeds it: ../assets/dashboard/dashboard.js.gz.
// `node build.mjs --out DIR` writes to DIR instead (.ci/dashboard compares the two).
// The output depends only on the sources and the locked packages: esbuild is
// deterministic, and gzip is given a fixed level and no name or time stamp.
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const at = process.argv.indexOf('--out');
const out = at > 0 ? process.argv[at + 1] : join(here, '..', 'assets', 'dashboard');

const result = await build({
  entryPoints: [join(here, 'src', 'main.ts')],
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  legalComments: 'eof',
  write: false,
  logLevel: 'warning',
});
const js = result.outputFiles[0].contents;
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'dashboard.js.gz'), gzipSync(js, { level: 9 }));
console.log(`dashboard.js: ${js.length} bytes, gzipped to ${out}/dashboard.js.gz`);
