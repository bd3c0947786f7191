// Login, step-up and logout through an independent OpenID Connect provider (npm
// oidc-provider, shaped like ID-porten), which `cargo xtask test` starts beside the portal and
// configures as an extra eID. The provider's own pages are plain forms, so this runs with
// JavaScript off and hydrated like every other test.
import { test, expect, waitForHydration } from './fixtures';

const PROVIDER = process.env.INTEROP_PROVIDER_NAME;

test.beforeEach(() => {
  // Never skipped silently: run through `cargo xtask test`, which starts the provider.
  expect(PROVIDER, 'INTEROP_PROVIDER_NAME (set by cargo xtask test)').toBeTruthy();
});

test('log in, step up and log out through an independent provider', async ({
  page,
  visit,
  hydrated,
  checkA11y,
}) => {
  await visit('/login');
  await page.getByRole('link', { name: PROVIDER }).click();
  // The provider's login form.
  await page.getByLabel('Level').selectOption('substantial');
  await page.getByRole('button', { name: 'Log in' }).click();
  await waitForHydration(page, hydrated);
  const account = page.getByRole('navigation', { name: 'Din konto' });
  await expect(account).toContainText('Ingrid Solberg');
  await expect(account).toContainText('betydelig');
  await checkA11y();

  // Step up: the provider is asked to log in again at the high level.
  await visit('/login?loa=high&return_to=/activity');
  await page.getByRole('link', { name: PROVIDER }).click();
  await page.getByLabel('Level').selectOption('high');
  await page.getByRole('button', { name: 'Log in' }).click();
  await waitForHydration(page, hydrated);
  await expect(page).toHaveURL(/\/activity$/);
  await expect(page.getByRole('navigation', { name: 'Din konto' })).toContainText('høyt');
  await expect(page.getByRole('table')).toContainText('Logget inn på nytt på høyere nivå');

  // Logout here and at the provider (which asks for confirmation), back to the portal.
  await page.getByRole('button', { name: 'Logg ut' }).click();
  const confirm = page.getByRole('button', { name: /yes|sign me out/i });
  const loggedOut = page.getByRole('heading', { name: 'Du er logget ut' });
  await expect(confirm.or(loggedOut).first()).toBeVisible();
  if (await confirm.isVisible()) await confirm.click();
  await expect(page).toHaveURL(/\/logged-out(\?.*)?$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Du er logget ut');
  await checkA11y();
});
