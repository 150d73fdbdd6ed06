// The dashboard's browser test: Debian's Chromium (/usr/bin/chromium, installed by scripts/setup),
// never a browser Playwright would download. CTest runs it as ui_dashboard.
import { defineConfig } from '@playwright/test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.mjs',
  timeout: 300_000,
  expect: { timeout: 15_000 },
  workers: 1,
  retries: 0,
  reporter: [['list']],
  outputDir: process.env.CXP_UI_OUTPUT_DIR ?? join(tmpdir(), 'cxp-ui-test-results'),
  use: {
    browserName: 'chromium',
    viewport: { width: 1280, height: 800 },
    launchOptions: { executablePath: process.env.CXP_CHROMIUM ?? '/usr/bin/chromium' },
    timezoneId: 'Europe/Rome',
    locale: 'en-GB',
    trace: 'off',
  },
});
