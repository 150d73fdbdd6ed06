// The hosted invite page (issue #20) in Debian's Chromium: an operator invites an email to a
// pool; the invitee opens /onboarding/invites/<token>, gets a device code with the instructions,
// approves it on the (fake) issuer's device page in another tab, and sees success while the
// account joins the pool — with no token on the page. A second invite approved with another
// email shows the mismatch. Then an owner, in the dashboard, adds an account by device code
// (approved in another tab) and creates a hosted invite whose link is shown once. The fake
// upstream is the gateway's OAuth issuer.
//
// Env (set by CTest, test ui_invite): CXP_GATEWAY_BINARY, CXP_FAKE_UPSTREAM_BINARY.
import { expect, test } from '@playwright/test';
import { writeFileSync } from 'node:fs';

import { makeAccount, startPooler, stopPooler } from '../e2e/support.mjs';
import { expectAccessible } from './axe.mjs';

const INVITEE = { account_id: 'acct-invitee', user_id: 'user-acct-invitee', email: 'invited.teammate@example.com' };
const DASHBOARD_ACCOUNT = { account_id: 'acct-dashboard', user_id: 'user-acct-dashboard', email: 'dashboard.account@example.com' };
const OWNER = { email: 'owner@example.com', name: 'Olive Owner', password: 'a long owner passphrase' };

const ctx = { failed: false };
const pageErrors = [];

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  await startPooler(ctx, {
    prefix: 'cxp-ui-invite-',
    poolName: 'Invite pool',
    accounts: [],
    fakeOnlyAccounts: [
      makeAccount(INVITEE.account_id, 'pong from the invitee'),
      makeAccount(DASHBOARD_ACCOUNT.account_id, 'pong from the dashboard account'),
    ],
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

/// A screenshot attached to the report and kept in the test's output dir.
async function shot(page, testInfo, name) {
  const body = await page.screenshot();
  await testInfo.attach(`${name}.png`, { body, contentType: 'image/png' });
  writeFileSync(testInfo.outputPath(`${name}.png`), body);
}

/// Opens the invite, checks its document (CSP, no referrer, axe) and asks for a code; answers
/// the code and the verification URL the page shows.
async function openAndStart(page, path, email) {
  const response = await page.goto(`${ctx.gateway.baseUrl}${path}`);
  const csp = response.headers()['content-security-policy'] ?? '';
  expect(csp).toContain("script-src 'self'");
  expect(csp).not.toContain('unsafe-inline');
  await expect(page.locator('#invited-email')).toHaveText(email);
  await expectAccessible(page, 'invite page');

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

test('an owner adds an account by device code and creates a hosted invite in the dashboard', async ({ page, context }, testInfo) => {
  watch(page);
  const base = ctx.gateway.baseUrl;
  await ctx.gateway.admin(['bootstrap', '--email', OWNER.email, '--display-name', OWNER.name, '--password', OWNER.password]);
  // Whoever approves the next device code is this new account.
  await ctx.fake.control('POST', '/__control/oauth/config', { identity: DASHBOARD_ACCOUNT });

  const response = await page.goto(`${base}/admin/login`);
  const csp = response.headers()['content-security-policy'] ?? '';
  expect(csp).toContain("script-src 'self'");
  expect(csp).not.toContain('unsafe-inline');
  await page.getByLabel('Email').fill(OWNER.email);
  await page.getByLabel('Password', { exact: true }).fill(OWNER.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Upstreams', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Upstreams' })).toBeVisible();

  // Device code: the code, the verification link (a new tab, no opener, no referrer) and the
  // instructions, while the dashboard polls the flow.
  await page.getByLabel('Sign in to pool').selectOption({ label: 'Invite pool' });
  await page.getByRole('button', { name: 'Get a device code' }).click();
  const code = page.getByTestId('device-user-code');
  await expect(code).toHaveText(/^[A-Z0-9]{4}-[A-Z0-9]{4,5}$/);
  await expect(page.getByTestId('device-instructions')).toContainText('Enable device code authorization for Codex');
  const link = page.getByTestId('verification-url');
  await expect(link).toHaveAttribute('href', `${ctx.fake.baseUrl}/codex/device`);
  await expect(link).toHaveAttribute('target', '_blank');
  await expect(link).toHaveAttribute('rel', 'noopener noreferrer');
  await expect(page.getByTestId('sign-in-outcome')).toHaveText('Waiting for the code to be approved…');
  await expectAccessible(page, 'dashboard device flow');
  await shot(page, testInfo, 'dashboard-device-code');

  const shown = { userCode: await code.textContent(), verificationUrl: await link.getAttribute('href') };
  await approveInNewTab(context, shown, DASHBOARD_ACCOUNT.email);
  const outcome = page.getByTestId('sign-in-outcome');
  await expect(outcome).toContainText('Signed in: the account was added to the pool.', { timeout: 30_000 });
  await expect(outcome.getByRole('link', { name: DASHBOARD_ACCOUNT.email })).toBeVisible();
  await expect(code).toHaveCount(0);
  const row = page.getByTestId(`account-${DASHBOARD_ACCOUNT.account_id}`);
  await expect(row).toContainText('Active');
  await expect(row).toContainText('Invite pool');
  await expect(row.getByRole('button', { name: `Sign in again: ${DASHBOARD_ACCOUNT.email}` })).toBeVisible();
  await expectAccessible(page, 'dashboard device flow done');
  await shot(page, testInfo, 'dashboard-device-done');
  const accounts = await ctx.gateway.admin(['account', 'list', '--pool', ctx.pool.id]);
  const added = (accounts.items ?? accounts).find((a) => a.chatgpt_account_id === DASHBOARD_ACCOUNT.account_id);
  expect([added?.email, added?.onboarding_method]).toEqual([DASHBOARD_ACCOUNT.email, 'device_code']);

  // A hosted invite: the link is shown once, with the note, and works.
  const teammate = 'third.teammate@example.com';
  await page.getByLabel('Invite to pool').selectOption({ label: 'Invite pool' });
  await page.getByLabel("Teammate's email").fill(teammate);
  await page.getByRole('button', { name: 'Create invite' }).click();
  const shownLink = page.getByTestId('upstream-invite-link');
  await expect(shownLink).toContainText('/onboarding/invites/');
  await expect(page.locator('.once')).toContainText('It is shown once and lives 24 hours');
  await expect(page.getByTestId(`upstream-invite-${teammate}`)).toContainText('Active');
  await expectAccessible(page, 'dashboard hosted invite');
  await shot(page, testInfo, 'dashboard-invite');
  const inviteUrl = (await shownLink.textContent()) ?? '';
  expect(inviteUrl).toMatch(new RegExp(`^${base}/onboarding/invites/[A-Za-z0-9_-]{16,}$`.replaceAll('.', '\\.')));
  const token = inviteUrl.split('/').pop();

  await page.getByRole('button', { name: 'I sent the link' }).click();
  await expect(shownLink).toHaveCount(0);
  await page.reload();
  await expect(page.getByTestId(`upstream-invite-${teammate}`)).toContainText('Active');
  expect(await page.content()).not.toContain(token);

  const tab = await context.newPage();
  await tab.goto(inviteUrl);
  await expect(tab.locator('#invited-email')).toHaveText(teammate);
  await tab.close();

  // Reissue shows a new link once and revokes the old invite; revoke ends the new one.
  await page.getByRole('button', { name: `Reissue the invite of ${teammate}` }).click();
  await expect(shownLink).toContainText('/onboarding/invites/');
  expect(await shownLink.textContent()).not.toBe(inviteUrl);
  await page.getByRole('button', { name: 'I sent the link' }).click();
  const rows = page.getByTestId(`upstream-invite-${teammate}`);
  await expect(rows).toHaveCount(2);
  page.once('dialog', (dialog) => void dialog.accept());
  await page.getByRole('button', { name: `Revoke the invite of ${teammate}` }).click();
  await expect(rows.filter({ hasText: 'Revoked' })).toHaveCount(2);
  expect(pageErrors).toEqual([]);
});

test('an owner signs an account in through the browser and signs it in again by device code', async ({ page, context }, testInfo) => {
  watch(page);
  const base = ctx.gateway.baseUrl;
  await ctx.fake.control('POST', '/__control/oauth/config', { identity: DASHBOARD_ACCOUNT });
  await page.goto(`${base}/admin/login`);
  await page.getByLabel('Email').fill(OWNER.email);
  await page.getByLabel('Password', { exact: true }).fill(OWNER.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Upstreams', exact: true }).click();

  // Browser sign-in: the link opens the issuer in a new tab, which lands on localhost:1455 (not
  // served here, as usually); that address pasted back completes the flow.
  await page.getByRole('button', { name: 'Start browser sign-in' }).click();
  const authorize = page.getByTestId('authorize-url');
  await expect(authorize).toHaveAttribute('href', new RegExp(`^${ctx.fake.baseUrl.replaceAll('.', '\\.')}/oauth/authorize\\?`));
  await expect(authorize).toHaveAttribute('target', '_blank');
  await expect(authorize).toHaveAttribute('rel', 'noopener noreferrer');
  await expect(page.getByText('usually does not load')).toBeVisible();
  await expectAccessible(page, 'dashboard browser flow');
  const landed = context.waitForEvent('request', (r) => r.url().startsWith('http://localhost:1455/auth/callback?'));
  await authorize.click();
  const callbackUrl = (await landed).url();
  for (const tab of context.pages()) if (tab !== page) await tab.close();

  await page.getByRole('button', { name: 'Complete sign-in' }).click();
  await expect(page.locator('.field-error')).toContainText('is required');
  await page.getByLabel('Address the browser landed on').fill(callbackUrl);
  await page.getByRole('button', { name: 'Complete sign-in' }).click();
  const outcome = page.getByTestId('sign-in-outcome');
  await expect(outcome).toContainText('Signed in: the account was added to the pool.');
  await expect(outcome.getByRole('link', { name: DASHBOARD_ACCOUNT.email })).toBeVisible();
  await shot(page, testInfo, 'dashboard-browser-done');

  // Sign in again (relink) from the account's row: a device code in a drawer, approved by the
  // same ChatGPT account.
  await page.getByRole('button', { name: `Sign in again: ${DASHBOARD_ACCOUNT.email}` }).click();
  const drawer = page.getByRole('dialog', { name: `Sign in again: ${DASHBOARD_ACCOUNT.email}` });
  const code = drawer.getByTestId('device-user-code');
  await expect(code).toHaveText(/^[A-Z0-9]{4}-[A-Z0-9]{4,5}$/);
  await expectAccessible(page, 'dashboard relink drawer');
  await shot(page, testInfo, 'dashboard-relink-code');
  const shown = { userCode: await code.textContent(), verificationUrl: await drawer.getByTestId('verification-url').getAttribute('href') };
  await approveInNewTab(context, shown, DASHBOARD_ACCOUNT.email);
  await expect(drawer.getByTestId('sign-in-outcome')).toContainText('Signed in again: the account has new tokens.', { timeout: 30_000 });
  await drawer.getByRole('button', { name: 'Close' }).click();
  await expect(drawer).toHaveCount(0);

  const accounts = await ctx.gateway.admin(['account', 'list', '--pool', ctx.pool.id]);
  const rows = (accounts.items ?? accounts).filter((a) => a.chatgpt_account_id === DASHBOARD_ACCOUNT.account_id);
  expect(rows.map((a) => a.status)).toEqual(['active']);
  expect(pageErrors).toEqual([]);
});
