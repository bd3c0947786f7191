// Digital post: read a letter, open its PDF, mark unread, move to the archive, search, delete
// and restore, and the step-up for a letter that needs the high level. Runs with JavaScript off
// and hydrated, axe-core on every page shown. Each project reads its own Danish demo person's
// demo letters (through the MitID test eID), so the two never touch the same mailbox.
import { test, expect, waitForHydration } from './fixtures';
import type { Page } from '@playwright/test';

function person(hydrated: boolean): string {
  return hydrated ? 'Freja Holm' : 'Søren Østergaard';
}

async function logIn(page: Page, hydrated: boolean, name: string, level: 'substantial' | 'high') {
  await page.getByRole('link', { name: 'Logg inn' }).first().click();
  await page.getByRole('link', { name: 'Test eID (MitID)' }).click();
  await chooseAtEid(page, hydrated, name, level);
}

async function chooseAtEid(page: Page, hydrated: boolean, name: string, level: 'substantial' | 'high') {
  await page.getByRole('radio', { name: new RegExp(name) }).check();
  await page.getByRole('radio', { name: level === 'high' ? /^Høyt/ : /^Betydelig/ }).check();
  await page.getByRole('button', { name: 'Logg inn' }).click();
  await waitForHydration(page, hydrated);
}

async function openPost(page: Page, hydrated: boolean) {
  await page.getByRole('navigation', { name: 'Din konto' }).getByRole('link', { name: /^Post/ }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Post');
}

const letters = (page: Page) => page.getByRole('list').filter({ has: page.locator('.letter') }).getByRole('listitem');

test('read a letter and its PDF, mark it unread, archive it, search, delete and restore', async ({
  page,
  visit,
  hydrated,
  checkA11y,
}) => {
  await visit('/');
  await logIn(page, hydrated, person(hydrated), 'substantial');
  await openPost(page, hydrated);
  const tax = letters(page).filter({ hasText: 'Din årsopgørelse for 2024' });
  await expect(tax).toContainText('Ulest');
  await checkA11y();

  await tax.getByRole('link').click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Din årsopgørelse for 2024');
  await expect(page.getByText('Du får penge tilbage.')).toBeVisible();
  await checkA11y();
  // The attachment: the real PDF, with the safe headers.
  const pdfLink = page.getByRole('link', { name: 'aarsopgoerelse-2024.pdf', exact: true });
  const pdf = await page.request.get((await pdfLink.getAttribute('href')) as string);
  expect(pdf.status()).toBe(200);
  expect(pdf.headers()['content-type']).toBe('application/pdf');
  expect(pdf.headers()['content-disposition']).toMatch(/^inline; filename="aarsopgoerelse-2024.pdf"/);
  expect(pdf.headers()['x-content-type-options']).toBe('nosniff');
  expect(pdf.headers()['content-security-policy']).toMatch(/^sandbox/);
  expect((await pdf.body()).subarray(0, 5).toString()).toBe('%PDF-');

  // Mark unread: back in the inbox, unread again.
  await page.getByRole('button', { name: 'Merk som ulest' }).click();
  await waitForHydration(page, hydrated);
  await expect(letters(page).filter({ hasText: 'Din årsopgørelse for 2024' })).toContainText('Ulest');

  // Move to the archive.
  await letters(page).filter({ hasText: 'Din årsopgørelse for 2024' }).getByRole('link').click();
  await waitForHydration(page, hydrated);
  await page.getByLabel('Flytt til mappe').selectOption({ label: 'Arkiv' });
  await page.getByRole('button', { name: 'Flytt', exact: true }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('heading', { level: 2, name: 'Arkiv' })).toBeVisible();
  await expect(letters(page)).toHaveCount(1);
  await checkA11y();

  // Search finds it by a word of its body.
  await page.getByLabel('Søk i posten (avsender, tittel og innhold)').fill('penge');
  await page.getByRole('button', { name: 'Søk', exact: true }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('heading', { level: 2, name: 'Søkeresultat' })).toBeVisible();
  await expect(letters(page)).toHaveCount(1);
  await expect(letters(page).first()).toContainText('Din årsopgørelse for 2024');
  await checkA11y();

  // Delete to the trash, and restore.
  await letters(page).first().getByRole('link').click();
  await waitForHydration(page, hydrated);
  await page.getByRole('button', { name: 'Slett (til papirkurven)' }).click();
  await waitForHydration(page, hydrated);
  await page.getByRole('navigation', { name: 'Mapper' }).getByRole('link', { name: 'Papirkurv' }).click();
  await waitForHydration(page, hydrated);
  await expect(letters(page).filter({ hasText: 'Din årsopgørelse for 2024' })).toHaveCount(1);
  await letters(page).first().getByRole('link').click();
  await waitForHydration(page, hydrated);
  await page.getByRole('button', { name: 'Legg tilbake fra papirkurven' }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Din årsopgørelse for 2024');
  await page.getByRole('link', { name: 'Tilbake til posten' }).click();
  await waitForHydration(page, hydrated);
  await page.getByRole('navigation', { name: 'Mapper' }).getByRole('link', { name: 'Arkiv' }).click();
  await waitForHydration(page, hydrated);
  await expect(letters(page)).toHaveCount(1);
});

test('a letter that needs the high level shows only its safe title, then opens after a step-up', async ({
  page,
  visit,
  hydrated,
  checkA11y,
}) => {
  await visit('/');
  await logIn(page, hydrated, person(hydrated), 'substantial');
  await openPost(page, hydrated);
  const decision = letters(page).filter({ hasText: 'Brev fra Udbetaling Danmark' });
  await expect(decision).toContainText('krever høyt sikkerhetsnivå');
  await decision.getByRole('link').click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Brev fra Udbetaling Danmark');
  await expect(page.getByText('boligstøtte')).toHaveCount(0);
  await checkA11y();
  await page.getByRole('link', { name: 'Logg inn på høyt nivå' }).click();
  await chooseAtEid(page, hydrated, person(hydrated), 'high');
  await expect(page).toHaveURL(/\/post\/letter\//);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Afgørelse om boligstøtte');
  await expect(page.getByText('Du får boligstøtte fra 1. juni.')).toBeVisible();
  await checkA11y();
});
