// The operator dashboard end to end, in a real browser against a real gateway and the fake
// ChatGPT upstream: bootstrap → log in → create a pool → import two auth.json files (picker, then
// drag and drop) → create a key and read it once → the real `codex exec` with that key → the
// request on Request logs and on Overview's charts → pause an account → an instance admin's
// narrower view → log out.
// Every page: a 1280×800 screenshot attached to the report, no console error, an axe-core scan
// without serious or critical violations, and the Content-Security-Policy header on the document.
//
// Env (set by CTest): CXP_GATEWAY_BINARY, CXP_FAKE_UPSTREAM_BINARY. CXP_E2E_KEEP_TMP=1 keeps the
// temp dir.
import { expect, test } from '@playwright/test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  FakeUpstream,
  Gateway,
  describeRun,
  makeAccount,
  makeTempDir,
  requireEnv,
  requireNodeModules,
  runCodexExec,
  stopPooler,
} from '../e2e/support.mjs';
import { expectAccessible } from './axe.mjs';

const OWNER = { email: 'owner@example.com', name: 'Olive Owner', password: 'a long owner passphrase' };
const ADMIN = { email: 'admin@example.com', name: 'Adam Admin', temporary: 'temporary passphrase 1', password: 'adam admin passphrase' };
const ACCOUNTS = [makeAccount('acct-ui-1', 'pong from account one'), makeAccount('acct-ui-2', 'pong from account two')];

const ctx = { failed: false };
const consoleErrors = [];
const visited = [];

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  // The gateway starts empty (no owner, no pool): everything is done in the browser. The fake
  // knows both accounts; the gateway learns them from the uploaded auth.json files.
  await startEmptyPooler();
});

test.afterAll(async () => {
  await stopPooler(ctx);
});

/// The fake upstream with both accounts and a gateway on an empty SQLite database (`serve`
/// migrates it); the ctx fields are the ones stopPooler cleans up.
async function startEmptyPooler() {
  requireNodeModules();
  const gatewayBinary = requireEnv('CXP_GATEWAY_BINARY');
  const fakeBinary = requireEnv('CXP_FAKE_UPSTREAM_BINARY');
  ctx.rootDir = makeTempDir('cxp-ui-');
  ctx.fake = await FakeUpstream.start(fakeBinary, ACCOUNTS.map((a) => a.script), ctx.rootDir);
  const dataDir = join(ctx.rootDir, 'gateway-data');
  ctx.gateway = new Gateway(gatewayBinary, { databaseUrl: `sqlite://${dataDir}/codex-pooler.db`, dataDir, home: ctx.rootDir });
  await ctx.gateway.serve({ upstreamBaseUrl: `${ctx.fake.baseUrl}/backend-api`, oauthTokenUrl: `${ctx.fake.baseUrl}/oauth/token` });
}

/// Visits a page through the navigation (or a URL), checks it and attaches its screenshot.
async function checkPage(page, testInfo, name) {
  await page.waitForLoadState('networkidle');
  await expect(page.locator('.loading')).toHaveCount(0);
  const shot = await page.screenshot({ fullPage: false });
  await testInfo.attach(`${name}.png`, { body: shot, contentType: 'image/png' });
  writeFileSync(testInfo.outputPath(`${name}.png`), shot);
  await expectAccessible(page, name);
  visited.push(name);
}

/// Every document the browser loads must carry the CSP; every console error fails the test.
function watch(page) {
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(`${page.url()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => consoleErrors.push(`${page.url()}: ${error.message}`));
  page.on('response', (response) => {
    if (response.request().resourceType() !== 'document') return;
    const csp = response.headers()['content-security-policy'] ?? '';
    if (!csp.includes("script-src 'self'") || csp.includes('unsafe-inline')) {
      consoleErrors.push(`${response.url()}: document without the strict CSP (${csp || 'none'})`);
    }
  });
}

/// Polls the key's pooled usage document (`GET /wham/usage`, read-only, never logged as a
/// request) until the pool allows a request, for at most 20 s.
async function waitForServingPool(base, key) {
  const deadline = Date.now() + 20_000;
  let last = '';
  while (Date.now() < deadline) {
    const response = await fetch(`${base}/wham/usage`, { headers: { authorization: `Bearer ${key}` } });
    last = `${response.status} ${await response.text()}`;
    if (response.ok && JSON.parse(last.slice(4)).rate_limit?.allowed === true) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the pool never became ready to serve; last usage answer: ${last}`);
}

const nav = (page) => page.getByRole('navigation', { name: 'Main' });

async function go(page, linkName) {
  await nav(page).getByRole('link', { name: linkName, exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: linkName === 'API keys' ? 'API keys' : linkName })).toBeVisible();
}

async function logIn(page, who, password) {
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

test('an operator runs a pool from the dashboard', async ({ page }, testInfo) => {
  try {
    watch(page);
    const base = ctx.gateway.baseUrl;

    // A fresh instance sends the browser to /bootstrap.
    await page.goto(`${base}/`);
    await expect(page).toHaveURL(`${base}/bootstrap`);
    await expect(page.getByRole('heading', { name: 'Create the first owner' })).toBeVisible();
    await checkPage(page, testInfo, 'bootstrap');
    await page.getByLabel('Email').fill(OWNER.email);
    await page.getByLabel('Display name').fill(OWNER.name);
    await page.getByLabel('Password', { exact: true }).fill(OWNER.password);
    await page.getByLabel('Confirm password').fill(OWNER.password);
    await page.getByRole('button', { name: 'Create owner' }).click();

    await expect(page).toHaveURL(/\/admin\/login/);
    await checkPage(page, testInfo, 'login');
    await logIn(page, OWNER, OWNER.password);
    await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
    const links = await nav(page).getByRole('link').allTextContents();
    expect(links).toEqual(['Overview', 'Pools', 'Upstreams', 'API keys', 'Request logs', 'Audit log', 'Jobs', 'Operators', 'Settings', 'System']);
    await checkPage(page, testInfo, 'overview-empty');

    // A pool.
    await go(page, 'Pools');
    await page.getByLabel('Pool name').fill('Team');
    await page.getByRole('button', { name: 'Create pool' }).click();
    await expect(page.getByRole('row', { name: /Team/ })).toBeVisible();
    await checkPage(page, testInfo, 'pools');

    // Two accounts by upload: the first file through the picker, then both dropped on the
    // drop zone (a drop replaces the choice, so the second file can only come from the drop).
    await go(page, 'Upstreams');
    const files = ACCOUNTS.map((account, i) => {
      const path = join(ctx.rootDir, `auth-${i + 1}.json`);
      writeFileSync(path, JSON.stringify(account.authJson, null, 2));
      return path;
    });
    await page.getByLabel('auth.json files', { exact: true }).setInputFiles(files[0]);
    await expect(page.getByText('1 chosen: auth-1.json')).toBeVisible();
    const dropped = await page.evaluateHandle((items) => {
      const transfer = new DataTransfer();
      for (const { name, text } of items) transfer.items.add(new File([text], name, { type: 'application/json' }));
      return transfer;
    }, ACCOUNTS.map((account, i) => ({ name: `auth-${i + 1}.json`, text: JSON.stringify(account.authJson, null, 2) })));
    const dropzone = page.locator('.dropzone');
    await dropzone.dispatchEvent('dragover', { dataTransfer: dropped });
    await dropzone.dispatchEvent('drop', { dataTransfer: dropped });
    await expect(page.getByText('2 chosen: auth-1.json, auth-2.json')).toBeVisible();
    await page.getByRole('checkbox', { name: 'Team' }).check();
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const results = page.getByRole('list', { name: 'Import results' });
    await expect(results.getByRole('listitem')).toHaveCount(2);
    await expect(results).not.toContainText('Failed');
    for (const account of ACCOUNTS) {
      const row = page.getByTestId(`account-${account.script.account_id}`);
      await expect(row).toContainText('Active');
      await expect(row).toContainText('Team');
    }
    await checkPage(page, testInfo, 'upstreams');

    // A key, read once.
    await go(page, 'API keys');
    await page.getByLabel('Key name').fill('laptop');
    await page.getByRole('button', { name: 'Create key' }).click();
    const rawKey = (await page.getByTestId('raw-api-key').textContent())?.trim() ?? '';
    expect(rawKey).toMatch(/^sk-cxp-[0-9a-f]{12}-/);
    await checkPage(page, testInfo, 'api-keys-created');
    await page.getByRole('button', { name: 'I saved the key' }).click();
    await page.reload();
    await expect(page.getByRole('row', { name: /laptop/ })).toBeVisible();
    expect(await page.content()).not.toContain(rawKey);

    // The gateway's routing picks up new accounts within its topology reload (a few seconds);
    // the pool's usage document says when the key's pool has an account to serve.
    await waitForServingPool(base, rawKey);

    // The real Codex CLI through the pool, with the key the page showed.
    const run = await runCodexExec({ rootDir: ctx.rootDir, baseUrl: `${base}/backend-api/codex`, key: rawKey, prompt: 'say hi', timeoutMs: 90_000 });
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.agentMessages.join('\n'), describeRun(run)).toMatch(/pong from account (one|two)/);

    // The request on Request logs, with its model, account, tokens and cost; its attempts.
    await go(page, 'Request logs');
    const table = page.getByTestId('request-log-table');
    await expect(table.getByRole('row')).toHaveCount(2, { timeout: 20_000 }); // header + the request
    const row = table.getByRole('row').nth(1);
    await expect(row).toContainText('gpt-5.5');
    await expect(row).toContainText('Succeeded');
    await expect(row).toContainText(/acct-ui-[12]|@/);
    await expect(row).toContainText('$');
    await checkPage(page, testInfo, 'request-logs');
    await row.getByRole('button', { name: /Details of the request/ }).click();
    const drawer = page.getByRole('dialog', { name: 'Request' });
    await expect(drawer.getByRole('heading', { name: 'Attempts' })).toBeVisible();
    await expect(drawer.getByRole('table')).toContainText('Succeeded');
    await checkPage(page, testInfo, 'request-detail');
    await drawer.getByRole('button', { name: 'Close' }).click();

    // The rollups behind Overview's charts are hourly; run them now from Jobs.
    await go(page, 'Jobs');
    await page.getByLabel('Job kind').selectOption('usage_rollup');
    await page.getByRole('button', { name: 'Run now' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'usage_rollup' })).toBeVisible();
    await expect(page.getByTestId('job-runs').getByRole('row', { name: /usage_rollup.*Succeeded.*manual/ }).first()).toBeVisible({ timeout: 30_000 });
    await checkPage(page, testInfo, 'jobs');

    await go(page, 'Overview');
    const totals = page.getByTestId('usage-totals');
    await expect(totals).toContainText(/Requests\s*1/, { timeout: 40_000 });
    await expect(page.getByRole('img', { name: /Requests and errors per hour\. Total Requests: 1/ })).toBeVisible();
    await expect(page.getByRole('img', { name: /Tokens per hour/ })).toBeVisible();
    // Prompt-cache hit share by transport and by key, from the stats API (raw logs).
    const byTransport = page.getByRole('table', { name: 'By transport' });
    await expect(byTransport.getByRole('row', { name: /http_sse/ })).toContainText('20%');
    await expect(page.getByRole('table', { name: 'By API key' }).getByRole('row', { name: /laptop/ })).toBeVisible();
    await checkPage(page, testInfo, 'overview');

    await go(page, 'API keys');
    await expect(page.getByRole('row', { name: /laptop/ })).toContainText('1 requests');

    // Pause an account and see its state change.
    await go(page, 'Upstreams');
    const first = page.getByTestId(`account-${ACCOUNTS[0].script.account_id}`);
    await first.getByRole('button', { name: /^Pause / }).click();
    await expect(first).toContainText('Paused');
    await expect(first.getByRole('button', { name: /^Resume / })).toBeVisible();
    // Quota evidence (rate-limit headers of the answer, or the quota_reconciliation poll) shows
    // as usage bars with reset countdowns.
    await expect(page.locator('.quota').filter({ hasText: /5h: \d+% left, resets in / }).first()).toBeVisible({ timeout: 90_000 });

    await first.getByRole('link').click();
    await expect(page.getByRole('heading', { name: 'Identity and tokens' })).toBeVisible();
    await checkPage(page, testInfo, 'upstream-detail');

    for (const [link, name] of [['Audit log', 'audit-log'], ['Settings', 'settings'], ['System', 'system']]) {
      await go(page, link);
      await checkPage(page, testInfo, name);
    }
    await expect(page.getByRole('table')).toContainText('all');

    // An instance admin for the pool: created on Operators, forced to change the password,
    // and shown only what the role may do.
    await go(page, 'Operators');
    await page.getByLabel('Operator email').fill(ADMIN.email);
    await page.getByLabel('Operator name').fill(ADMIN.name);
    await page.getByLabel('Role').first().selectOption('instance_admin');
    await page.getByLabel('Temporary password').fill(ADMIN.temporary);
    await page.getByRole('group', { name: 'Pools this admin manages' }).getByRole('checkbox', { name: 'Team' }).check();
    await page.getByRole('button', { name: 'Add operator' }).click();
    await expect(page.getByRole('row', { name: new RegExp(ADMIN.name) })).toBeVisible();
    await checkPage(page, testInfo, 'operators');

    await page.goto(`${base}/admin/account`);
    await checkPage(page, testInfo, 'account');

    await page.getByRole('button', { name: 'Log out' }).click();
    await expect(page).toHaveURL(/\/admin\/login/);
    await logIn(page, ADMIN, ADMIN.temporary);
    await expect(page).toHaveURL(/\/admin\/password/);
    await checkPage(page, testInfo, 'password-change');
    await page.getByLabel('Current password').fill(ADMIN.temporary);
    await page.getByLabel('New password', { exact: true }).fill(ADMIN.password);
    await page.getByLabel('Confirm new password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
    const adminLinks = await nav(page).getByRole('link').allTextContents();
    expect(adminLinks).toEqual(['Overview', 'Pools', 'Upstreams', 'API keys', 'Request logs', 'Audit log', 'Jobs', 'System']);
    await go(page, 'Pools');
    await expect(page.getByRole('row', { name: /Team/ })).toBeVisible();
    await expect(page.getByRole('heading', { name: 'Create a pool' })).toHaveCount(0);
    await page.goto(`${base}/admin/operators`);
    await expect(page.getByRole('heading', { name: 'Not available' })).toBeVisible();
    await checkPage(page, testInfo, 'admin-operators-refused');

    await page.getByRole('button', { name: 'Log out' }).click();
    await expect(page).toHaveURL(/\/admin\/login/);
    await expect(page.getByRole('heading', { name: 'Log in to Codex Pooler' })).toBeVisible();

    expect(consoleErrors, 'console errors or pages without the CSP').toEqual([]);
    expect(visited.length).toBeGreaterThanOrEqual(15);
  } catch (error) {
    ctx.failed = true;
    throw error;
  }
});
