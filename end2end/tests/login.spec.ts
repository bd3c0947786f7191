// Logging in with the built-in test eID (a real OpenID Connect provider inside the portal):
// login, the activity log, step-up to the high level, logout, and the idle-timeout warning.
// Runs with JavaScript off and hydrated, with axe-core on every page shown.
import { test, expect, backToBokmal, waitForHydration } from './fixtures';
import type { Page } from '@playwright/test';

// Tests run in parallel (and once per project), and each reads the newest rows of its person's
// activity log: so each test and project logs in as its own test person.
const PERSONS = {
  activity: { 'no-js': 'Ingrid Solberg', hydrated: 'Aksel Brekke' },
  stepUp: { 'no-js': 'Torbjørn Aasen', hydrated: 'Sigrid Lunde' },
  idle: { 'no-js': 'Anna Lindqvist', hydrated: 'Anna Lindqvist' },
};
function person(which: keyof typeof PERSONS, hydrated: boolean): string {
  return PERSONS[which][hydrated ? 'hydrated' : 'no-js'];
}

/** From the current page: Log in → choose the ID-porten test eID → pick a person and level. */
async function logIn(
  page: Page,
  hydrated: boolean,
  level: 'substantial' | 'high',
  name: string,
  checkA11y?: () => Promise<void>,
) {
  await page.getByRole('link', { name: 'Logg inn' }).first().click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Logg inn');
  if (checkA11y) await checkA11y();
  await page.getByRole('link', { name: 'Test eID (ID-porten)' }).click();
  await expect(page.getByRole('note')).toContainText('TEST-eID');
  if (checkA11y) await checkA11y();
  await page.getByRole('radio', { name: new RegExp(name) }).check();
  await page.getByRole('radio', { name: level === 'high' ? /^Høyt/ : /^Betydelig/ }).check();
  await page.getByRole('button', { name: 'Logg inn' }).click();
  await waitForHydration(page, hydrated);
  await backToBokmal(page, hydrated);
}

test('log in, see your name and your activity, log out', async ({ page, visit, hydrated, checkA11y }) => {
  await visit('/');
  const name = person('activity', hydrated);
  await logIn(page, hydrated, 'substantial', name, checkA11y);
  // Back on the front page, logged in.
  await expect(page).toHaveURL(/\/$/);
  const account = page.getByRole('navigation', { name: 'Din konto' });
  await expect(account).toContainText(name);
  await expect(account).toContainText('betydelig');
  await checkA11y();

  await account.getByRole('link', { name: 'Min aktivitet' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Min aktivitet');
  const firstRow = page.getByRole('table').getByRole('row').nth(1);
  await expect(firstRow).toContainText('Logget inn');
  await expect(firstRow).toContainText('Test eID (ID-porten)');
  await checkA11y();

  await page.getByRole('button', { name: 'Logg ut' }).click();
  await expect(page).toHaveURL(/\/logged-out(\?.*)?$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Du er logget ut');
  await expect(page.getByRole('link', { name: 'Logg inn' })).toBeVisible();
  await checkA11y();

  // The old session is gone: the activity page asks for a login.
  await visit('/activity');
  await expect(page.getByText('Logg inn for å se aktiviteten din.')).toBeVisible();
});

test('step up to the high level and come back to the same page', async ({ page, visit, hydrated }) => {
  await visit('/');
  const name = person('stepUp', hydrated);
  await logIn(page, hydrated, 'substantial', name);
  await expect(page.getByRole('navigation', { name: 'Din konto' })).toContainText('betydelig');
  // Asking for the high level while logged in re-authenticates and returns to /activity.
  await visit('/login?loa=high&return_to=/activity');
  await page.getByRole('link', { name: 'Test eID (ID-porten)' }).click();
  await expect(page.getByRole('radio', { name: /^Høyt/ })).toBeChecked();
  await page.getByRole('radio', { name: new RegExp(name) }).check();
  await page.getByRole('button', { name: 'Logg inn' }).click();
  await waitForHydration(page, hydrated);
  await expect(page).toHaveURL(/\/activity$/);
  await backToBokmal(page, hydrated);
  await expect(page.getByRole('navigation', { name: 'Din konto' })).toContainText('høyt');
  await expect(page.getByRole('table').getByRole('row').nth(1)).toContainText(
    'Logget inn på nytt på høyere nivå',
  );
});

test('cancelling at the eID gives a calm page with a way back', async ({ page, visit, hydrated, checkA11y }) => {
  await visit('/login');
  await page.getByRole('link', { name: 'Test eID (MitID)' }).click();
  await page.getByRole('button', { name: 'Annuller' }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Du ble ikke logget inn');
  await expect(page.getByText('Du avbrøt innloggingen. Ingenting ble endret.')).toBeVisible();
  await checkA11y();
  await page.getByRole('link', { name: 'Prøv igjen' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Logg inn');
});

test('a Danish citizen logs in through the MitID test eID, which speaks Danish', async ({
  page,
  visit,
  hydrated,
  checkA11y,
}) => {
  await visit('/login');
  await page.getByRole('link', { name: 'Test eID (MitID)' }).click();
  // MitID speaks Danish and English: from a portal in bokmål, its page is in Danish.
  await expect(page.locator('html')).toHaveAttribute('lang', 'da');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Log ind med test-eID');
  await checkA11y();
  const first = page.getByRole('radio').first();
  await first.check();
  await page.getByRole('button', { name: 'Log ind' }).click();
  await waitForHydration(page, hydrated);
  // Mette writes Danish: the portal speaks it after her login.
  await expect(page.locator('html')).toHaveAttribute('lang', 'da');
  await expect(page.getByRole('navigation', { name: 'Din konto' })).toBeVisible();
});

test('hydrated, a warning comes before the idle timeout and staying logged in works', async ({
  page,
  visit,
  hydrated,
  checkA11y,
}) => {
  test.skip(!hydrated, 'the warning needs JavaScript; without it the session simply ends');
  await page.clock.install();
  await visit('/');
  await logIn(page, hydrated, 'substantial', person('idle', hydrated));
  await expect(page.getByRole('navigation', { name: 'Din konto' })).toBeVisible();
  await page.clock.fastForward('28:30');
  const warning = page.getByRole('alertdialog', { name: 'Du blir snart logget ut' });
  await expect(warning).toBeVisible();
  await checkA11y();
  await warning.getByRole('button', { name: 'Fortsett å være innlogget' }).click();
  await expect(warning).toBeHidden();
});
