// Acting for someone: a guardian logs in, chooses the minor on the home page, reads her post
// under the banner that names her, is told what the guardianship does not cover, and stops.
// Runs with JavaScript off and hydrated, axe-core on every page shown. Sigrid Lunde (a demo
// minor) has two guardians, so each project logs in as its own: Ingrid and Aksel. A helper's
// opening leaves the letter unread for Sigrid, so the runs do not disturb each other.
import { test, expect, waitForHydration } from './fixtures';

const GUARDIAN = { 'no-js': 'Ingrid Solberg', hydrated: 'Aksel Brekke' };

test('a guardian acts for a minor, reads her post and stops', async ({
  page,
  visit,
  hydrated,
  checkA11y,
}) => {
  test.slow();
  await visit('/');
  await page.getByRole('link', { name: 'Logg inn' }).first().click();
  await page.getByRole('link', { name: 'Test eID (ID-porten)' }).click();
  await page.getByRole('radio', { name: new RegExp(GUARDIAN[hydrated ? 'hydrated' : 'no-js']) }).check();
  await page.getByRole('radio', { name: /^Betydelig/ }).check();
  await page.getByRole('button', { name: 'Logg inn' }).click();
  await waitForHydration(page, hydrated);

  // The choice heads the home page, with herself chosen.
  const choice = page.getByRole('region', { name: 'Hvem handler du for?' });
  await expect(choice.getByRole('radio', { name: /Meg selv/ })).toBeChecked();
  await checkA11y();
  await choice.getByRole('radio', { name: /Sigrid Lunde/ }).check();
  await choice.getByRole('button', { name: 'Fortsett' }).click();
  await waitForHydration(page, hydrated);

  const banner = page.getByRole('region', { name: 'Du handler for en annen' });
  await expect(banner).toContainText('Sigrid Lunde');
  await expect(banner).toContainText('som verge');
  await checkA11y();

  // Her post, the banner on every page.
  await page.getByRole('navigation', { name: 'Din konto' }).getByRole('link', { name: /^Post/ }).click();
  await waitForHydration(page, hydrated);
  await expect(banner).toContainText('Sigrid Lunde');
  await page.getByRole('link', { name: /Skattemeldingen for 2024 er klar/ }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Skattemeldingen for 2024 er klar');
  await expect(banner).toContainText('Sigrid Lunde');
  await checkA11y();

  // What a guardian may not do is explained, with the way forward.
  await visit('/activity');
  await expect(page.getByText('Som verge kan du ikke gjøre dette for Sigrid Lunde:')).toBeVisible();
  await checkA11y();

  // Stop acting: her own pages again, no banner.
  await banner.getByRole('button', { name: 'Slutt å handle for andre' }).click();
  await waitForHydration(page, hydrated);
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole('region', { name: 'Du handler for en annen' })).toHaveCount(0);
  await checkA11y();
});
