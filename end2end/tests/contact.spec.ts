// Contact information and reservation: change and verify an e-mail address with the code read
// from the real mail (aiosmtpd writes what arrives into SINK_DIR), a wrong and an expired code,
// refused input, reservation on and off, and the question after login when the contact data
// is old. Runs with JavaScript off and hydrated, axe-core on every page shown.
//
// Each test logs in as its own new synthetic person (the test eID takes any synthetic number),
// so tests never see each other's data. "Time passing" (a code expiring, data growing old) is
// done by ageing the row in the portal's SQLite database, as the clock would.
import { test, expect, waitForHydration } from './fixtures';
import {
  address,
  codeMailedTo,
  enterCode,
  LONG_AGO,
  logInAs,
  openContact,
  sql,
  startEmailChange,
  syntheticFnr,
} from './people';

test('add an e-mail address and verify it with the mailed code, after a wrong one', async ({
  page,
  visit,
  hydrated,
  checkA11y,
}) => {
  // Many pages, each with an axe check, and a mail to wait for: more than the default 30 s.
  test.slow();
  await visit('/');
  await logInAs(page, hydrated, syntheticFnr());
  await openContact(page, hydrated);
  await expect(page.getByRole('region', { name: 'E-postadresse' })).toContainText('Ikke registrert');
  await checkA11y();

  const email = address('verify');
  await startEmailChange(page, hydrated, email);
  await expect(page.getByText(email)).toBeVisible();
  await checkA11y();

  const code = await codeMailedTo(email);
  const wrong = code === '000000' ? '111111' : '000000';
  await enterCode(page, hydrated, wrong);
  const summary = page.getByRole('alert');
  await expect(summary).toContainText('Koden er feil. Du har 4 forsøk igjen.');
  await expect(page.getByLabel('Engangskode')).toHaveAttribute('aria-invalid', 'true');
  await checkA11y();

  await enterCode(page, hydrated, code);
  await expect(page).toHaveURL(/\/contact\?done=email_verified$/);
  await expect(page.getByRole('status')).toHaveText('E-postadressen er bekreftet og tatt i bruk.');
  await expect(page.getByRole('region', { name: 'E-postadresse' })).toContainText(email);
  await checkA11y();

  // The change is in the history.
  await page.getByRole('link', { name: 'Se historikken for endringene dine' }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Historikk for kontaktinformasjon');
  await expect(page.getByRole('table').getByRole('row').nth(1)).toContainText('E-postadresse endret');
  await checkA11y();
});

test('refused input is explained next to the field and changes nothing', async ({
  page,
  visit,
  hydrated,
  checkA11y,
}) => {
  await visit('/');
  await logInAs(page, hydrated, syntheticFnr());
  await openContact(page, hydrated);
  await page.getByRole('link', { name: 'Legg til mobilnummer' }).click();
  await waitForHydration(page, hydrated);
  await page.getByLabel('Nytt mobilnummer').fill('22 33 44 55');
  await page.getByRole('button', { name: 'Send kode' }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('alert')).toContainText('Dette er ikke et mobilnummer');
  // What was typed is still there, marked and described.
  const field = page.getByLabel('Nytt mobilnummer');
  await expect(field).toHaveValue('22 33 44 55');
  await expect(field).toHaveAttribute('aria-invalid', 'true');
  await expect(field).toHaveAccessibleDescription(/ikke et mobilnummer/);
  await checkA11y();
  await page.getByRole('link', { name: 'Tilbake til kontaktinformasjon' }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('region', { name: 'Mobilnummer' })).toContainText('Ikke registrert');
  await expect(page.getByText('Venter på kode')).toHaveCount(0);
});

test('an expired code is refused; a new code works', async ({ page, visit, hydrated, checkA11y }) => {
  await visit('/');
  await logInAs(page, hydrated, syntheticFnr());
  await openContact(page, hydrated);
  const email = address('expired');
  await startEmailChange(page, hydrated, email);
  const first = await codeMailedTo(email);
  // Eleven minutes later: the code is out of time.
  sql('UPDATE contact_verifications SET expires_at = ? WHERE new_value = ?', LONG_AGO, email);
  await enterCode(page, hydrated, first);
  await expect(page.getByRole('alert')).toContainText('Koden er utløpt');
  await checkA11y();

  // Resends are limited to one a minute: make the last one old too.
  sql("UPDATE contact_code_sends SET sent_at = ? WHERE person_id = (SELECT person_id FROM contact_verifications WHERE new_value = ?)", LONG_AGO, email);
  await page.getByRole('button', { name: 'Send ny kode' }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('status')).toHaveText('Koden er sendt.');
  const second = await codeMailedTo(email, first);
  await enterCode(page, hydrated, second);
  await expect(page.getByRole('status')).toHaveText('E-postadressen er bekreftet og tatt i bruk.');
});

test('reserve against digital post after a plain explanation, and withdraw it', async ({
  page,
  visit,
  hydrated,
  checkA11y,
}) => {
  await visit('/');
  await logInAs(page, hydrated, syntheticFnr());
  await openContact(page, hydrated);
  const reservation = page.getByRole('region', { name: 'Reservasjon mot digital post' });
  await expect(reservation).toContainText('Du har ikke reservert deg');
  await reservation.getByRole('link', { name: 'Reserver deg mot digital post' }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByText('Offentlige virksomheter sender deg brev på papir i posten, også vedtak.')).toBeVisible();
  await checkA11y();
  await page.getByRole('button', { name: 'Ja, reserver meg' }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('status')).toHaveText('Du er reservert mot digital post. Brev kommer på papir.');
  await expect(reservation).toContainText('Du har reservert deg.');
  await checkA11y();

  await reservation.getByRole('link', { name: 'Trekk tilbake reservasjonen' }).click();
  await waitForHydration(page, hydrated);
  await page.getByRole('button', { name: 'Ja, trekk tilbake reservasjonen' }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('status')).toHaveText('Reservasjonen er trukket tilbake. Brev kommer digitalt.');
  await expect(reservation).toContainText('Du har ikke reservert deg');
});

test('old contact data is asked about after login, and confirming it goes on', async ({
  page,
  visit,
  hydrated,
  checkA11y,
}) => {
  const fnr = syntheticFnr();
  await visit('/');
  await logInAs(page, hydrated, fnr);
  await openContact(page, hydrated);
  const email = address('stale');
  await startEmailChange(page, hydrated, email);
  await enterCode(page, hydrated, await codeMailedTo(email));
  await expect(page.getByRole('status')).toHaveText('E-postadressen er bekreftet og tatt i bruk.');
  // Two years pass.
  sql('UPDATE contact_info SET email_verified_at = ?, email_updated_at = ? WHERE email = ?', LONG_AGO, LONG_AGO, email);
  await page.getByRole('button', { name: 'Logg ut' }).click();
  await waitForHydration(page, hydrated);

  await logInAs(page, hydrated, fnr);
  await expect(page).toHaveURL(/\/contact\/check\?return_to=/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Er kontaktinformasjonen din riktig?');
  await expect(page.getByText(email)).toBeVisible();
  await expect(page.getByRole('link', { name: 'Spør meg neste gang' })).toBeVisible();
  await checkA11y();
  await page.getByRole('button', { name: 'Ja, dette stemmer' }).click();
  await waitForHydration(page, hydrated);
  await expect(page).toHaveURL(/\/$/);
  await openContact(page, hydrated);
  await expect(page.getByText('Er dette fortsatt riktig?')).toHaveCount(0);
});
