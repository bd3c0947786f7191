// Languages: the switcher works with and without JavaScript, the choice persists, the first
// visit follows Accept-Language, <html lang> always follows the language shown, and at login
// the person's saved language wins.
import { test, expect, waitForHydration } from './fixtures';
import { logInAs, syntheticFnr } from './people';

const headings: Record<string, string> = {
  nb: 'Velkommen til Borgerportal',
  nn: 'Velkomen til Borgerportal',
  da: 'Velkommen til Borgerportal',
  en: 'Welcome to Borgerportal',
};
const changeButton: Record<string, string> = {
  nb: 'Bytt språk',
  nn: 'Byt språk',
  da: 'Skift sprog',
  en: 'Change language',
};

for (const lang of ['nn', 'da', 'en']) {
  test(`switching to ${lang} translates the page and persists`, async ({
    page,
    visit,
    checkA11y,
  }) => {
    await visit('/privacy');
    await page.getByLabel('Språk').selectOption(lang);
    await page.getByRole('button', { name: changeButton.nb }).click();
    await expect(page.locator('html')).toHaveAttribute('lang', lang);
    await expect(page.getByRole('button', { name: changeButton[lang] })).toBeVisible();
    // Still on the same page.
    await expect(page).toHaveURL(/\/privacy$/);
    await checkA11y();
    // The choice survives a fresh load of another page.
    await visit('/');
    await expect(page.locator('html')).toHaveAttribute('lang', lang);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(headings[lang]);
  });
}

test('hydrated, the switcher changes language in place without loading a page', async ({
  page,
  visit,
  hydrated,
}) => {
  test.skip(!hydrated, 'only the hydrated page can switch in place');
  await visit('/');
  await page.evaluate(() => ((window as any).__sameDocument = true));
  await page.getByLabel('Språk').selectOption('en');
  await page.getByRole('button', { name: 'Bytt språk' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(headings.en);
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  // No navigation happened: the marker set on this document is still there.
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
});

test('without JavaScript, the switcher is a plain form that posts and comes back', async ({
  page,
  visit,
  hydrated,
}) => {
  test.skip(hydrated, 'the no-JavaScript path');
  await visit('/accessibility');
  await page.getByLabel('Språk').selectOption('da');
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/language')),
    page.getByRole('button', { name: 'Bytt språk' }).click(),
  ]);
  expect(response.status()).toBe(303);
  await expect(page).toHaveURL(/\/accessibility$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Tilgængelighedserklæring');
});

test.describe('first visit', () => {
  test.use({ locale: 'da-DK' });
  test('follows Accept-Language', async ({ page, visit }) => {
    await visit('/');
    await expect(page.locator('html')).toHaveAttribute('lang', 'da');
    await expect(page.getByRole('button', { name: 'Skift sprog' })).toBeVisible();
  });
});

test.describe('first visit in English', () => {
  test.use({ locale: 'en-GB' });
  test('follows Accept-Language', async ({ page, visit }) => {
    await visit('/');
    await expect(page.locator('html')).toHaveAttribute('lang', 'en');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(headings.en);
  });
});

test('the language chosen before the first login is kept, and at a later login it wins', async ({
  page,
  visit,
  hydrated,
  baseURL,
  checkA11y,
}) => {
  // A new person who chose English on the front page logs in: the portal goes on in English.
  const fnr = syntheticFnr();
  await visit('/');
  await page.getByLabel('Språk').selectOption('en');
  await page.getByRole('button', { name: changeButton.nb }).click();
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await waitForHydration(page, hydrated);
  await page.getByRole('link', { name: 'Log in' }).first().click();
  await page.getByRole('link', { name: 'Test eID (ID-porten)' }).click();
  await page.getByRole('radio', { name: 'Another synthetic test person' }).check();
  await page.getByLabel('Synthetic national identity number (fødselsnummer or CPR)').fill(fnr);
  await page.getByRole('button', { name: 'Log in' }).click();
  await waitForHydration(page, hydrated);
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await expect(page.getByRole('navigation', { name: 'Your account' })).toBeVisible();
  await checkA11y();

  // Logged out, the browser is set back to bokmål; the next login brings English back.
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/logged-out(\?.*)?$/);
  await page.context().addCookies([{ name: 'i18n_pref_locale', value: 'nb', url: baseURL as string }]);
  await visit('/');
  await expect(page.locator('html')).toHaveAttribute('lang', 'nb');
  await logInAs(page, hydrated, fnr);
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await expect(page.getByRole('navigation', { name: 'Your account' })).toBeVisible();
});
