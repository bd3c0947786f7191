// Digital post: read a letter, open its PDF, mark unread, move to the archive, search, delete
// and restore, the step-up for a letter that needs the high level, a hostile letter rendered
// inert, and own folders (create, move into, rename, delete only when empty). Runs with
// JavaScript off and hydrated, axe-core on every page shown. The first tests read their
// project's own Danish demo person's demo letters (through the MitID test eID); the others
// make a fresh synthetic person per test and deliver to it through the agency API, so no two
// tests share a mailbox.
import { test, expect, backToBokmal, waitForHydration } from './fixtures';
import type { APIRequestContext, Page } from '@playwright/test';
import { randomUUID } from 'node:crypto';
import { agencyToken } from './agency';
import { address, codeMailedTo, enterCode, logInAs, openContact, startEmailChange, syntheticFnr } from './people';

function person(hydrated: boolean): string {
  return hydrated ? 'Freja Holm' : 'Søren Østergaard';
}

async function logIn(page: Page, hydrated: boolean, name: string, level: 'substantial' | 'high') {
  await page.getByRole('link', { name: 'Logg inn' }).first().click();
  await page.getByRole('link', { name: 'Test eID (MitID)' }).click();
  await chooseAtEid(page, hydrated, name, level);
}

/** At the MitID test eID, which speaks Danish as MitID does. */
async function chooseAtEid(page: Page, hydrated: boolean, name: string, level: 'substantial' | 'high') {
  await page.getByRole('radio', { name: new RegExp(name) }).check();
  await page.getByRole('radio', { name: level === 'high' ? /^Høj/ : /^Betydelig/ }).check();
  await page.getByRole('button', { name: 'Log ind' }).click();
  await waitForHydration(page, hydrated);
  await backToBokmal(page, hydrated);
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
  // Many pages, each with an axe check: more than the default 30 s on two busy cores.
  test.slow();
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
  await expect(page.getByRole('status')).toContainText('Brevet er merket som ulest.');
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

/** A fresh synthetic person, logged in, with a verified e-mail address: post for them reaches
 * the mailbox (not paper), and no other test touches it. `label` names the address. */
async function freshRecipient(page: Page, hydrated: boolean, label: string): Promise<string> {
  const fnr = syntheticFnr();
  await logInAs(page, hydrated, fnr);
  await openContact(page, hydrated);
  const email = address(label);
  await startEmailChange(page, hydrated, email);
  await enterCode(page, hydrated, await codeMailedTo(email));
  return fnr;
}

/** [`freshRecipient`], with one plain-text letter `title` from the demo agency delivered. */
async function freshRecipientWithLetter(
  page: Page,
  hydrated: boolean,
  request: APIRequestContext,
  baseURL: string | undefined,
  label: string,
  title: string,
  body: string,
) {
  const fnr = await freshRecipient(page, hydrated, label);
  await deliver(request, baseURL, {
    recipient: fnr,
    message_id: `${label}-${randomUUID()}`,
    title,
    non_sensitive_title: 'Brev fra demo',
    body_kind: 'text',
    body,
  });
}

/** Delivers a letter as the demo agency, through the agency API; expects `201`. */
async function deliver(request: APIRequestContext, baseURL: string | undefined, letter: object) {
  const audience = new URL(baseURL as string).origin;
  const delivered = await request.post('/api/v1/letters', {
    headers: { authorization: `Bearer ${agencyToken(audience)}` },
    data: letter,
  });
  expect(delivered.status(), await delivered.text()).toBe(201);
  return delivered.json();
}

test('a letter with scripts, event handlers, javascript: links and SVG renders inert', async ({
  page,
  visit,
  hydrated,
  request,
  baseURL,
  checkA11y,
}) => {
  await visit('/');
  const fnr = await freshRecipient(page, hydrated, 'inert');
  const delivered = await deliver(request, baseURL, {
    recipient: fnr,
    message_id: `inert-${randomUUID()}`,
    title: 'Vedtak <script>window.__pwned = "title"</script>',
    non_sensitive_title: 'Brev fra demo',
    body_kind: 'html',
    body:
      '<p>Hei og velkommen</p><script>window.__pwned = "script"</script>' +
      '<img src="x" onerror="window.__pwned = \'onerror\'" alt="">' +
      '<a href="javascript:window.__pwned = \'link\'">Trykk her</a>' +
      '<svg><script>window.__pwned = "svg"</script><a href="javascript:alert(1)"><text>svg</text></a></svg>' +
      '<p style="background:url(javascript:alert(1))" onclick="window.__pwned = \'click\'">Stilsatt</p>' +
      '<iframe src="javascript:alert(1)"></iframe><form action="https://evil.example"><button>Send</button></form>',
  });
  expect(delivered.status).toBe('delivered');

  let dialogs = 0;
  page.on('dialog', async (dialog) => {
    dialogs += 1;
    await dialog.dismiss();
  });
  await openPost(page, hydrated);
  await letters(page).filter({ hasText: 'Vedtak' }).getByRole('link').click();
  await waitForHydration(page, hydrated);
  await expect(page.getByText('Hei og velkommen')).toBeVisible();
  const body = page.locator('.letter-body');
  await expect(body.locator('script, iframe, form, svg, [onerror], [onclick], [style]')).toHaveCount(0);
  await expect(body.locator('a[href^="javascript"]')).toHaveCount(0);
  const link = body.getByText('Trykk her');
  if ((await link.count()) > 0) await link.click();
  if (hydrated) {
    expect(await page.evaluate(() => (window as unknown as { __pwned?: string }).__pwned)).toBeUndefined();
  }
  expect(dialogs).toBe(0);
  await checkA11y();
});

test('own folders: create one, move a letter in, rename it, delete only when empty', async ({
  page,
  visit,
  hydrated,
  request,
  baseURL,
  checkA11y,
}) => {
  // Many pages, each with an axe check: more than the default 30 s on two busy cores.
  test.slow();
  // Seven page states, each checked with axe: about 27 s on a quiet two-core machine, so the
  // default 30 s left no room for a busy one (it timed out once in CI's no-JS run).
  test.slow();
  // A fresh person with one letter of their own, delivered through the agency API.
  await visit('/');
  const fnr = await freshRecipient(page, hydrated, 'folders');
  await deliver(request, baseURL, {
    recipient: fnr,
    message_id: `folders-${randomUUID()}`,
    title: 'Vedtak om bostøtte',
    non_sensitive_title: 'Brev fra demo',
    body_kind: 'text',
    body: 'Du får bostøtte fra neste måned.',
    notification: { channels: ['email'] },
  });

  const folderNav = () => page.getByRole('navigation', { name: 'Mapper' });
  const openFolders = async () => {
    await page.getByRole('link', { name: 'Lag og endre mapper' }).click();
    await waitForHydration(page, hydrated);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Mappene dine');
  };

  // Create.
  await openPost(page, hydrated);
  await openFolders();
  await expect(page.getByText('Du har ingen egne mapper ennå.')).toBeVisible();
  await checkA11y();
  await page.getByLabel('Navn på ny mappe').fill('Bolig');
  await page.getByRole('button', { name: 'Lag mappe' }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Mappene dine');
  await expect(page.getByLabel('Nytt navn på mappen Bolig')).toHaveValue('Bolig');
  await checkA11y();

  // Move the letter into it.
  await page.getByRole('link', { name: 'Tilbake til posten' }).click();
  await waitForHydration(page, hydrated);
  await letters(page).filter({ hasText: 'Vedtak om bostøtte' }).getByRole('link').click();
  await waitForHydration(page, hydrated);
  await page.getByLabel('Flytt til mappe').selectOption({ label: 'Bolig' });
  await page.getByRole('button', { name: 'Flytt', exact: true }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('heading', { level: 2, name: 'Bolig' })).toBeVisible();
  await expect(letters(page)).toHaveCount(1);
  await expect(letters(page).first()).toContainText('Vedtak om bostøtte');
  await checkA11y();

  // Rename.
  await openFolders();
  await page.getByLabel('Nytt navn på mappen Bolig').fill('Husleie');
  await page.getByRole('button', { name: 'Gi nytt navn' }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByLabel('Nytt navn på mappen Husleie')).toHaveValue('Husleie');
  await expect(page.getByLabel('Nytt navn på mappen Bolig')).toHaveCount(0);
  await checkA11y();

  // Delete is refused while the letter is there, and nothing changes.
  await page.getByRole('button', { name: 'Slett mappen Husleie' }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('alert')).toHaveText('Mappen er ikke tom. Flytt brevene først.');
  await expect(page.getByLabel('Nytt navn på mappen Husleie')).toHaveValue('Husleie');
  await checkA11y();

  // Move the letter back to the inbox; then the folder can go.
  await page.getByRole('link', { name: 'Tilbake til posten' }).click();
  await waitForHydration(page, hydrated);
  await folderNav().getByRole('link', { name: 'Husleie' }).click();
  await waitForHydration(page, hydrated);
  await letters(page).first().getByRole('link').click();
  await waitForHydration(page, hydrated);
  await page.getByLabel('Flytt til mappe').selectOption({ label: 'Innboks' });
  await page.getByRole('button', { name: 'Flytt', exact: true }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('heading', { level: 2, name: 'Innboks' })).toBeVisible();
  await openFolders();
  await page.getByRole('button', { name: 'Slett mappen Husleie' }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByText('Du har ingen egne mapper ennå.')).toBeVisible();
  await checkA11y();
  await page.getByRole('link', { name: 'Tilbake til posten' }).click();
  await waitForHydration(page, hydrated);
  await expect(folderNav().getByRole('link', { name: 'Husleie' })).toHaveCount(0);
  await expect(letters(page).filter({ hasText: 'Vedtak om bostøtte' })).toHaveCount(1);

  // Every change is in the activity log, in words.
  await page.getByRole('navigation', { name: 'Din konto' }).getByRole('link', { name: 'Min aktivitet' }).click();
  await waitForHydration(page, hydrated);
  const log = page.getByRole('table');
  for (const [what, times] of [
    ['Mappe opprettet', 1],
    ['Mappe gitt nytt navn', 1],
    ['Brev flyttet til en annen mappe', 2],
    ['Mappe slettet', 1],
  ] as const) {
    await expect(log.getByRole('cell', { name: what, exact: true })).toHaveCount(times);
  }
  await checkA11y();
});

test('after logging out, Back shows no letter', async ({ page, visit, hydrated, request, baseURL }) => {
  await visit('/');
  await freshRecipientWithLetter(page, hydrated, request, baseURL, 'back', 'Vedtak om bostøtte',
    'Du får bostøtte fra neste måned.');
  await openPost(page, hydrated);
  await letters(page).filter({ hasText: 'Vedtak om bostøtte' }).getByRole('link').click();
  await waitForHydration(page, hydrated);
  await expect(page.getByText('Du får bostøtte fra neste måned.')).toBeVisible();

  await page.getByRole('button', { name: 'Logg ut' }).click();
  await expect(page).toHaveURL(/\/logged-out(\?.*)?$/);
  // Back to the letter's address: the browser may not show it from its cache (no-store), and
  // the portal, asked again, shows it to no one who is logged out.
  await page.goBack();
  await expect(page).toHaveURL(/\/post\/letter\//);
  await expect(page.getByText('Du får bostøtte fra neste måned.')).toHaveCount(0);
  await expect(page.getByText('Vedtak om bostøtte')).toHaveCount(0);
});

test('moving and deleting a letter say what happened and can be undone', async ({
  page,
  visit,
  hydrated,
  request,
  baseURL,
  checkA11y,
}) => {
  await visit('/');
  await freshRecipientWithLetter(page, hydrated, request, baseURL, 'undo', 'Vedtak om barnetrygd',
    'Du får barnetrygd fra neste måned.');
  await openPost(page, hydrated);
  const letter = () => letters(page).filter({ hasText: 'Vedtak om barnetrygd' });

  // Moved to the archive: the archive says so, and "Undo" moves it back to the inbox.
  await letter().getByRole('link').click();
  await waitForHydration(page, hydrated);
  await page.getByLabel('Flytt til mappe').selectOption({ label: 'Arkiv' });
  await page.getByRole('button', { name: 'Flytt', exact: true }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('heading', { level: 2, name: 'Arkiv' })).toBeVisible();
  await expect(page.getByRole('status')).toContainText('Brevet er flyttet hit.');
  await expect(letter()).toHaveCount(1);
  await checkA11y();
  await page.getByRole('status').getByRole('button', { name: 'Angre' }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('heading', { level: 2, name: 'Innboks' })).toBeVisible();
  await expect(letter()).toHaveCount(1);

  // Deleted: the inbox says so, and "Undo" takes it out of the trash again.
  await letter().getByRole('link').click();
  await waitForHydration(page, hydrated);
  await page.getByRole('button', { name: 'Slett (til papirkurven)' }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('status')).toContainText('Brevet er lagt i papirkurven.');
  await expect(letter()).toHaveCount(0);
  await checkA11y();
  await page.getByRole('status').getByRole('button', { name: 'Angre' }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('status')).toContainText('Brevet er lagt tilbake.');
  await expect(letter()).toHaveCount(1);
});

test('on a 360 × 740 phone the first letter is in view without scrolling, and the menu opens', async ({
  page,
  visit,
  hydrated,
  request,
  baseURL,
  checkA11y,
}) => {
  await visit('/');
  await freshRecipientWithLetter(page, hydrated, request, baseURL, 'phone', 'Vedtak om bostøtte',
    'Du får bostøtte.');
  await page.setViewportSize({ width: 360, height: 740 });
  await visit('/post');
  const first = letters(page).first();
  await expect(first).toContainText('Vedtak om bostøtte');
  // Delivered just now: the day in words.
  await expect(first).toContainText('i dag');
  await expect(first).toBeInViewport();
  await checkA11y();
  // The header's one control opens the account's menu (a disclosure: also without JavaScript).
  const account = page.getByRole('navigation', { name: 'Din konto' });
  await expect(account).toBeHidden();
  await page.getByText('Meny og språk').click();
  await expect(account).toBeVisible();
  await checkA11y();
  await account.getByRole('link', { name: 'Min aktivitet' }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Min aktivitet');
});
