// The front page: a visitor's (what the portal does today, and a way to log in) and a logged-in
// citizen's overview, where every card is a link to the page that handles it and what waits
// for the citizen (a code to enter) is a link to where it is done. Runs with JavaScript off and
// hydrated, axe-core on every page shown.
import { test, expect, waitForHydration } from './fixtures';
import { address, logInAs, openContact, startEmailChange, syntheticFnr } from './people';

test('a visitor sees what the portal does and logs in from the page', async ({
  page,
  visit,
  hydrated,
  checkA11y,
}) => {
  await visit('/');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Velkommen til Borgerportal');
  await checkA11y();
  await page.getByRole('main').getByRole('link', { name: 'Logg inn' }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Logg inn');
});

test('the overview links to the post, the contact information and the activity log', async ({
  page,
  visit,
  hydrated,
  checkA11y,
}) => {
  await visit('/');
  await logInAs(page, hydrated, syntheticFnr());
  await visit('/');
  await expect(page.getByRole('heading', { level: 1 })).toContainText('Velkommen,');
  await expect(page.getByRole('region', { name: 'Venter på deg' })).toContainText('Ingenting venter på deg.');
  await expect(page.getByRole('region', { name: 'Uleste brev' })).toContainText('Du har ingen uleste brev.');
  await checkA11y();
  const cards: [string, string][] = [
    ['Uleste brev', 'Post'],
    ['Kontaktinformasjon', 'Kontaktinformasjon'],
    ['Min aktivitet', 'Min aktivitet'],
  ];
  for (const [link, heading] of cards) {
    await page.getByRole('main').getByRole('link', { name: link, exact: true }).click();
    await waitForHydration(page, hydrated);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(heading);
    await visit('/');
  }

  // A new address waiting for its code: the overview says so, as a link to the code form.
  await openContact(page, hydrated);
  await startEmailChange(page, hydrated, address('home'));
  await visit('/');
  await checkA11y();
  await page.getByRole('link', { name: 'Skriv inn koden vi sendte til den nye e-postadressen din' }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Skriv inn engangskoden');
});
