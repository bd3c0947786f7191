// Borgerservice staff at the desk (/staff): log in through the built-in TEST staff provider,
// see who is logged in, for which municipality and in which role, and log out; a login the
// municipality's rules refuse is explained. Runs with JavaScript off and hydrated, on a desktop
// and a phone viewport, with axe-core on every page shown.
import { test, expect, waitForHydration } from './fixtures';

const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 375, height: 740 },
];

for (const viewport of VIEWPORTS) {
  test(`staff log in, see their name and role, and log out (${viewport.name})`, async ({
    page,
    visit,
    hydrated,
    checkA11y,
  }) => {
    await page.setViewportSize({ width: viewport.width, height: viewport.height });
    await visit('/staff');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(
      'Logg inn som ansatt i borgerservice',
    );
    // The staff's own header: no citizen's login link or account menu.
    await expect(page.getByRole('banner')).toContainText('Borgerservice');
    await expect(page.getByRole('navigation', { name: 'Din konto' })).toHaveCount(0);
    await checkA11y();

    // A caseworker on the desktop, a supervisor on the phone.
    const [municipality, name, role] =
      viewport.name === 'desktop'
        ? ['Oslo kommune (TEST)', 'Kari Saksbehandler', 'Saksbehandler']
        : ['Aarhus Kommune (TEST)', 'Lars Leder', 'Leder'];
    await page.getByRole('link', { name: municipality }).click();
    await expect(page.getByRole('note')).toContainText('TEST');
    await checkA11y();
    await page.getByRole('radio', { name: new RegExp(name) }).check();
    await page.getByRole('button', { name: 'Logg inn' }).click();
    await waitForHydration(page, hydrated);

    await expect(page).toHaveURL(/\/staff$/);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Borgerservice');
    const facts = page.locator('dl');
    await expect(facts.getByText(name, { exact: true })).toBeVisible();
    await expect(facts.getByText(municipality, { exact: true })).toBeVisible();
    await expect(facts.getByText(role, { exact: true })).toBeVisible();
    await checkA11y();

    // Logged out here and at the provider, which sends the browser back to the desk.
    await page.getByRole('button', { name: 'Logg ut' }).click();
    await waitForHydration(page, hydrated);
    await expect(page).toHaveURL(/\/staff$/);
    await expect(page.getByRole('link', { name: municipality })).toBeVisible();
    await expect(page.getByText(name)).toHaveCount(0);
    await checkA11y();

    // The staff session is gone, and it never was a citizen's: the mailbox asks for a login.
    await visit('/post');
    await expect(page.getByRole('link', { name: 'Logg inn' }).first()).toBeVisible();
  });
}

test('a login without a borgerservice role is refused and explained', async ({
  page,
  visit,
  hydrated,
  checkA11y,
}) => {
  await visit('/staff');
  await page.getByRole('link', { name: 'Oslo kommune (TEST)' }).click();
  await page.getByRole('radio', { name: /Ola Uten Rolle/ }).check();
  await page.getByRole('button', { name: 'Logg inn' }).click();
  await waitForHydration(page, hydrated);
  await expect(page).toHaveURL(/\/staff\?failed=no_role$/);
  await expect(page.getByRole('alert')).toContainText('Du har ikke en rolle i borgerservice');
  await expect(page.getByRole('link', { name: 'Oslo kommune (TEST)' })).toBeVisible();
  await checkA11y();
});
