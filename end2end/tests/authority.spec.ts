// Authority to act for others, the giver's pages: grant a demo person authority at the high
// level, see it listed, revoke it. Runs with JavaScript off and hydrated, axe-core on every
// page shown. Each run logs in as its own new synthetic person, so runs never see each other's
// delegations; the holder is the demo person Aksel Brekke.
import { test, expect, waitForHydration } from './fixtures';
import { syntheticFnr } from './people';

test('grant authority at level high, see it listed, revoke it', async ({
  page,
  visit,
  hydrated,
  checkA11y,
}) => {
  await visit('/');
  await page.getByRole('link', { name: 'Logg inn' }).first().click();
  await page.getByRole('link', { name: 'Test eID (ID-porten)' }).click();
  await page.getByRole('radio', { name: 'En annen syntetisk testperson' }).check();
  await page.getByLabel('Syntetisk fødselsnummer eller CPR-nummer').fill(syntheticFnr());
  await page.getByRole('radio', { name: /^Høyt/ }).check();
  await page.getByRole('button', { name: 'Logg inn' }).click();
  await waitForHydration(page, hydrated);

  await page.getByRole('navigation', { name: 'Din konto' }).getByRole('link', { name: 'Fullmakter' }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Fullmakter');
  await expect(page.getByText('Du har ikke gitt noen fullmakt.')).toBeVisible();
  await checkA11y();

  await page.getByRole('link', { name: 'Gi fullmakt' }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Gi fullmakt');
  await checkA11y();
  await page.getByLabel('Fødselsnummeret til den som skal få fullmakt').fill('05890163469');
  await page.getByLabel('Fullt navn til den som skal få fullmakt').fill('Aksel Brekke');
  await page.getByLabel(/^Lese posten/).check();
  const nextYear = new Date(Date.now() + 365 * 24 * 3600 * 1000).toISOString().slice(0, 10);
  await page.getByLabel('Sluttdato').fill(nextYear);
  await page.getByRole('button', { name: 'Gi fullmakt' }).click();
  await waitForHydration(page, hydrated);

  await expect(page).toHaveURL(/\/authority\?done=granted$/);
  await expect(page.getByRole('status')).toHaveText('Fullmakten er gitt.');
  const given = page.getByRole('region', { name: 'Fullmakter jeg har gitt' });
  await expect(given).toContainText('Aksel Brekke');
  await expect(given).toContainText('Gyldig');
  await checkA11y();

  await given.getByRole('button', { name: /Trekk tilbake/ }).click();
  await waitForHydration(page, hydrated);
  await expect(page).toHaveURL(/\/authority\?done=revoked$/);
  await expect(page.getByRole('region', { name: 'Fullmakter jeg har gitt' })).toContainText('Trukket tilbake');
  await checkA11y();
});
