// Fails the build when the JavaScript a browser loads before the first render (the entry script
// and every module it preloads, as index.html lists them) exceeds the budget, gzipped.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const BUDGET_BYTES = 300 * 1024;
// The CMake build writes into its own tree (CXP_UI_OUT_DIR); a plain `npm run build` into dist/.
const dist = process.argv[2] ?? process.env.CXP_UI_OUT_DIR ?? 'dist';
const html = readFileSync(join(dist, 'index.html'), 'utf8');

const urls = new Set();
for (const match of html.matchAll(/<script[^>]*\bsrc="([^"]+\.js)"/g)) urls.add(match[1]);
for (const match of html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+\.js)"/g)) urls.add(match[1]);
if (urls.size === 0) {
  console.error('check-bundle-size: index.html references no script');
  process.exit(1);
}
if (/<script(?![^>]*\bsrc=)[^>]*>/.test(html)) {
  console.error('check-bundle-size: index.html has an inline script, which the CSP forbids');
  process.exit(1);
}

let total = 0;
for (const url of urls) {
  const file = join(dist, url.replace(/^\/admin\//, ''));
  const size = gzipSync(readFileSync(file), { level: 9 }).length;
  total += size;
  console.log(`  ${url}: ${(size / 1024).toFixed(1)} KiB gzipped`);
}
const verdict = total < BUDGET_BYTES ? 'ok' : 'OVER BUDGET';
console.log(`initial JavaScript: ${(total / 1024).toFixed(1)} KiB gzipped of ${BUDGET_BYTES / 1024} KiB (${verdict})`);
process.exit(total < BUDGET_BYTES ? 0 : 1);
