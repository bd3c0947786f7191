// Contact information and reservation: change and verify an e-mail address with the code read
// from the real mail (aiosmtpd writes what arrives into SINK_DIR), a wrong and an expired code,
// refused input, reservation on and off, and the question after login when the contact data
// is old. Runs with JavaScript off and hydrated, axe-core on every page shown.
//
// Each test logs in as its own new synthetic person (the test eID takes any synthetic number),
// so tests never see each other's data. "Time passing" (a code expiring, data growing old) is
// done by ageing the row in the portal's SQLite database, as the clock would.
import { test, expect, waitForHydration } from './fixtures';
import type { Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A synthetic Norwegian fødselsnummer (month + 80), random enough to be new for each test. */
function syntheticFnr(): string {
  for (;;) {
    const day = 1 + Math.floor(Math.random() * 28);
    const month = 81 + Math.floor(Math.random() * 12);
    const year = 50 + Math.floor(Math.random() * 50);
    const individual = Math.floor(Math.random() * 500);
    const digits = [
      ...String(day).padStart(2, '0'),
      ...String(month),
      ...String(year).padStart(2, '0'),
      ...String(individual).padStart(3, '0'),
    ].map(Number);
    const check = (weights: number[]) => {
      const sum = weights.reduce((acc, w, i) => acc + w * digits[i], 0);
      const k = 11 - (sum % 11);
      return k === 11 ? 0 : k;
    };
    const k1 = check([3, 7, 6, 1, 8, 9, 4, 5, 2]);
    if (k1 === 10) continue;
    digits.push(k1);
    const k2 = check([5, 4, 3, 2, 7, 6, 5, 4, 3, 2]);
    if (k2 === 10) continue;
    digits.push(k2);
    return digits.join('');
  }
}

/** A unique address for this test. */
function address(tag: string): string {
  return `${tag}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.no`;
}

/** From the current page: Log in → test eID (ID-porten) → another person by number. */
async function logInAs(page: Page, hydrated: boolean, fnr: string) {
  await page.getByRole('link', { name: 'Logg inn' }).first().click();
  await page.getByRole('link', { name: 'Test eID (ID-porten)' }).click();
  await page.getByRole('radio', { name: 'En annen syntetisk testperson' }).check();
  await page.getByLabel('Syntetisk fødselsnummer eller CPR-nummer').fill(fnr);
  await page.getByRole('button', { name: 'Logg inn' }).click();
  await waitForHydration(page, hydrated);
}

/** The code in the newest mail to `to`, waiting for the worker to deliver it. */
async function codeMailedTo(to: string, after = ''): Promise<string> {
  const dir = process.env.SINK_DIR;
  if (!dir) throw new Error('SINK_DIR is not set: run the browser tests with `cargo xtask test`');
  let code: string | undefined;
  await expect
    .poll(
      () => {
        const files = readdirSync(dir)
          .filter((f) => f.endsWith('-email.json'))
          .sort();
        for (const file of files.reverse()) {
          const mail = JSON.parse(readFileSync(join(dir, file), 'utf8'));
          if (mail.to !== to) continue;
          const found = /\b(\d{6})\b/.exec(mail.body)?.[1];
          if (found && found !== after) code = found;
          return code;
        }
        return undefined;
      },
      { timeout: 15_000, message: `a mail with a code to ${to}` },
    )
    .toBeTruthy();
  return code as string;
}

/** Run SQL on the portal's database (the portal keeps running; SQLite in WAL mode). */
function sql(statement: string, ...params: string[]) {
  const dir = process.env.PORTAL_DATA_DIR;
  if (!dir) throw new Error('PORTAL_DATA_DIR is not set: run the browser tests with `cargo xtask test`');
  const script =
    'import sqlite3, sys\n' +
    'db = sqlite3.connect(sys.argv[1], timeout=10)\n' +
    'n = db.execute(sys.argv[2], sys.argv[3:]).rowcount\n' +
    'db.commit()\n' +
    'sys.exit(0 if n == 1 else 3)\n';
  execFileSync('python3', ['-c', script, join(dir, 'borgerportal.db'), statement, ...params]);
}

const LONG_AGO = '2020-01-01T00:00:00.000000Z';

/** On /contact: add an e-mail address and ask for the code. Leaves the browser on the code page. */
async function startEmailChange(page: Page, hydrated: boolean, email: string) {
  await page.getByRole('link', { name: 'Legg til e-postadresse' }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('E-postadresse');
  await page.getByLabel('Ny e-postadresse').fill(email);
  await page.getByRole('button', { name: 'Send kode' }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Skriv inn engangskoden');
  await expect(page.getByRole('status')).toHaveText('Koden er sendt.');
}

async function enterCode(page: Page, hydrated: boolean, code: string) {
  await page.getByLabel('Engangskode').fill(code);
  await page.getByRole('button', { name: 'Bekreft' }).click();
  await waitForHydration(page, hydrated);
}

async function openContact(page: Page, hydrated: boolean) {
  await page.getByRole('navigation', { name: 'Din konto' }).getByRole('link', { name: 'Kontaktinformasjon' }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Kontaktinformasjon');
}

test('add an e-mail address and verify it with the mailed code, after a wrong one', async ({
  page,
  visit,
  hydrated,
  checkA11y,
}) => {
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
