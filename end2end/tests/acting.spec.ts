// Acting for someone: a guardian logs in, chooses the minor on the home page, reads her post
// under the banner that names her, is told what the guardianship does not cover, and stops.
// Runs with JavaScript off and hydrated, axe-core on every page shown. Sigrid Lunde (a demo
// minor) has two guardians, so each project logs in as its own: Ingrid and Aksel. A helper's
// opening leaves the letter unread for Sigrid, so the runs do not disturb each other.
import { test, expect, backToBokmal, waitForHydration } from './fixtures';
import { syntheticFnr } from './people';

const GUARDIAN = { 'no-js': 'Ingrid Solberg', hydrated: 'Aksel Brekke' };
// The helpers given authority by a new synthetic person (all called Test Testesen), one per
// project so that neither sees the other's giver: a D-number holder in Norway, and a Dane.
const HELPER = {
  'no-js': { name: 'Anna Lindqvist', number: '68829027112', eid: 'Test eID (ID-porten)', logIn: 'Logg inn' },
  // The MitID test eID speaks Danish, as MitID does.
  hydrated: { name: 'Mette Kjærgaard Nielsen', number: '230972-1846', eid: 'Test eID (MitID)', logIn: 'Log ind' },
};

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
  await backToBokmal(page, hydrated);

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

test('a helper acts for the giver until the giver revokes, then the next request is refused', async ({
  page,
  visit,
  hydrated,
  checkA11y,
  browser,
}) => {
  test.slow();
  const holder = HELPER[hydrated ? 'hydrated' : 'no-js'];
  // The giver: a new synthetic person at level high gives the helper authority to read post.
  await visit('/');
  await page.getByRole('link', { name: 'Logg inn' }).first().click();
  await page.getByRole('link', { name: 'Test eID (ID-porten)' }).click();
  await page.getByRole('radio', { name: 'En annen syntetisk testperson' }).check();
  await page.getByLabel('Syntetisk fødselsnummer eller CPR-nummer').fill(syntheticFnr());
  await page.getByRole('radio', { name: /^Høyt/ }).check();
  await page.getByRole('button', { name: 'Logg inn' }).click();
  await waitForHydration(page, hydrated);
  const giverName = (await page.locator('.user-name strong').textContent())?.trim() ?? '';
  expect(giverName).not.toBe('');
  await visit('/authority/grant');
  await page.getByLabel('Fødselsnummeret til den som skal få fullmakt').fill(holder.number);
  await page.getByLabel('Fullt navn til den som skal få fullmakt').fill(holder.name);
  await page.getByLabel(/^Lese posten/).check();
  const nextYear = new Date(Date.now() + 365 * 24 * 3600 * 1000).toISOString().slice(0, 10);
  await page.getByLabel('Sluttdato').fill(nextYear);
  await page.getByRole('button', { name: 'Gi fullmakt' }).click();
  await waitForHydration(page, hydrated);
  await expect(page).toHaveURL(/\/authority\?done=granted$/);

  // The helper, in a browser of her own, chooses the giver and reads the post.
  const helperContext = await browser.newContext({
    baseURL: new URL(page.url()).origin,
    javaScriptEnabled: hydrated,
    locale: 'nb-NO',
  });
  const helper = await helperContext.newPage();
  await helper.goto('/');
  await helper.getByRole('link', { name: 'Logg inn' }).first().click();
  await helper.getByRole('link', { name: holder.eid }).click();
  await helper.getByRole('radio', { name: new RegExp(holder.name) }).check();
  await helper.getByRole('button', { name: holder.logIn }).click();
  await waitForHydration(helper, hydrated);
  await backToBokmal(helper, hydrated);
  const choice = helper.getByRole('region', { name: 'Hvem handler du for?' });
  await choice.getByRole('radio', { name: new RegExp(giverName) }).check();
  await choice.getByRole('button', { name: 'Fortsett' }).click();
  await waitForHydration(helper, hydrated);
  const banner = helper.getByRole('region', { name: 'Du handler for en annen' });
  await expect(banner).toContainText(giverName);
  await expect(banner).toContainText('med fullmakt');
  await helper.goto('/post');
  await expect(helper.getByRole('heading', { level: 1 })).toHaveText('Post');

  // The giver revokes; the helper's very next request is refused, and says so.
  await visit('/authority');
  const given = page.getByRole('region', { name: 'Fullmakter jeg har gitt' });
  await given.getByRole('button', { name: /Trekk tilbake/ }).click();
  await waitForHydration(page, hydrated);
  await expect(page).toHaveURL(/\/authority\?done=revoked$/);

  await helper.reload();
  await expect(helper.getByText(`Du kan ikke lenger handle for ${giverName}`)).toBeVisible();
  await expect(banner).toContainText('gjelder ikke lenger');
  await helperContext.close();
  await checkA11y();
});
