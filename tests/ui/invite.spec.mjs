// The hosted invite page (issue #20) in Debian's Chromium: an operator invites an email to a
// pool; the invitee opens /onboarding/invites/<token>, gets a device code with the instructions,
// approves it on the (fake) issuer's device page in another tab, and sees success while the
// account joins the pool — with no token on the page. A second invite approved with another
// email shows the mismatch. The fake upstream is the gateway's OAuth issuer.
//
// Env (set by CTest, test ui_invite): CXP_GATEWAY_BINARY, CXP_FAKE_UPSTREAM_BINARY.
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

import { makeAccount, startPooler, stopPooler } from '../e2e/support.mjs';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const INVITEE = { account_id: 'acct-invitee', user_id: 'user-acct-invitee', email: 'invited.teammate@example.com' };

const ctx = { failed: false };
const pageErrors = [];

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  await startPooler(ctx, {
    prefix: 'cxp-ui-invite-',
    poolName: 'Invite pool',
    accounts: [],
    fakeOnlyAccounts: [makeAccount(INVITEE.account_id, 'pong from the invitee')],
  });
  ctx.pool = (await ctx.gateway.admin(['pool', 'list'])).find((p) => p.name === 'Invite pool');
  await ctx.fake.control('POST', '/__control/oauth/config', { interval_s: 1, identity: INVITEE });
});

test.afterAll(async () => {
  await stopPooler(ctx);
});

test.afterEach(async ({}, testInfo) => {
  if (testInfo.status !== testInfo.expectedStatus) ctx.failed = true;
});

/// The invite link path (shown once) for `email`.
async function invite(email) {
  const created = await ctx.gateway.admin(['upstream-invite', 'create', '--pool', ctx.pool.id, '--email', email]);
  expect(created.path).toMatch(/^\/onboarding\/invites\/.+/);
  return created.path;
}

function watch(page) {
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(`${page.url()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`));
}

/// Opens the invite, checks its document (CSP, no referrer, axe) and asks for a code; answers
/// the code and the verification URL the page shows.
async function openAndStart(page, path, email) {
  const response = await page.goto(`${ctx.gateway.baseUrl}${path}`);
  const csp = response.headers()['content-security-policy'] ?? '';
  expect(csp).toContain("script-src 'self'");
  expect(csp).not.toContain('unsafe-inline');
  await expect(page.locator('#invited-email')).toHaveText(email);
  await page.evaluate(AXE_SOURCE);
  const scan = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  expect(scan.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);

  await page.getByRole('button', { name: 'Get a sign-in code' }).click();
  const code = page.locator('#user-code');
  await expect(code).toHaveText(/^[A-Z0-9]{4}-[A-Z0-9]{4,5}$/);
  await expect(page.locator('#instructions')).toContainText('Enable device code authorization for Codex');
  await expect(page.locator('#code-email')).toHaveText(email);
  await expect(page.locator('#countdown')).toContainText('The code expires in');
  const link = page.locator('#verification-url');
  await expect(link).toHaveAttribute('href', `${ctx.fake.baseUrl}/codex/device`);
  return { userCode: await code.textContent(), verificationUrl: await link.getAttribute('href') };
}

/// The invitee on the issuer's device page, in a new tab: the code, their email, Approve.
async function approveInNewTab(context, { userCode, verificationUrl }, email) {
  const tab = await context.newPage();
  await tab.goto(verificationUrl);
  await tab.locator('#user_code').fill(userCode);
  await tab.locator('#email').fill(email);
  await tab.locator('#approve').click();
  await expect(tab.locator('#done')).toHaveText('Device approved. You may close this page.');
  await tab.close();
}

test('the invitee signs in with a device code and the account joins the pool', async ({ page, context }, testInfo) => {
  watch(page);
  const path = await invite(INVITEE.email);
  const shown = await openAndStart(page, path, INVITEE.email);
  await testInfo.attach('invite-code.png', { body: await page.screenshot(), contentType: 'image/png' });

  await approveInNewTab(context, shown, INVITEE.email);
  await expect(page.locator('#result-text')).toHaveText(
    'Done: your ChatGPT account was added to the pool. You can close this page.',
    { timeout: 30_000 },
  );
  await testInfo.attach('invite-done.png', { body: await page.screenshot(), contentType: 'image/png' });

  const accounts = await ctx.gateway.admin(['account', 'list', '--pool', ctx.pool.id]);
  const items = accounts.items ?? accounts;
  expect(items.map((a) => [a.chatgpt_account_id, a.email, a.onboarding_method])).toEqual([
    [INVITEE.account_id, INVITEE.email, 'invite'],
  ]);
  // Nothing the issuer minted reaches the page but the code the invitee types.
  const { secrets } = await ctx.fake.control('GET', '/__control/oauth/state');
  const html = await page.content();
  const leaked = secrets.filter((s) => s !== shown.userCode && html.includes(s));
  expect(leaked).toEqual([]);

  // The link is single use: opened again it says the account was added.
  await page.reload();
  await expect(page.locator('#result-text')).toContainText('Done');
  expect(pageErrors).toEqual([]);
});

test('a sign-in with another email shows the mismatch', async ({ page, context }, testInfo) => {
  watch(page);
  const invited = 'second.teammate@example.com';
  const path = await invite(invited);
  const shown = await openAndStart(page, path, invited);

  await approveInNewTab(context, shown, 'someone.else@example.com');
  const error = page.locator('#error');
  await expect(error).toHaveText(
    'The signed-in email does not match the invited email. Sign in with the invited account.',
    { timeout: 30_000 },
  );
  await expect(page.getByRole('button', { name: 'Start again' })).toBeVisible();
  await testInfo.attach('invite-mismatch.png', { body: await page.screenshot(), contentType: 'image/png' });

  const accounts = await ctx.gateway.admin(['account', 'list', '--pool', ctx.pool.id]);
  expect((accounts.items ?? accounts).length).toBe(1);
  // A refused sign-in is content on the page, not a console error.
  expect(pageErrors).toEqual([]);
});
