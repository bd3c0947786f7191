// Shared steps for tests that need a fresh person of their own: a synthetic number, a login
// through the test eID, a verified e-mail address (the code read from the mail sink), and
// "time passing" by ageing rows in the portal's SQLite database.
import { expect, waitForHydration } from './fixtures';
import type { Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A synthetic Norwegian fødselsnummer (month + 80), random enough to be new for each test. */
export function syntheticFnr(): string {
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
export function address(tag: string): string {
  return `${tag}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.no`;
}

/** From the current page: Log in → test eID (ID-porten) → another person by number. */
export async function logInAs(page: Page, hydrated: boolean, fnr: string) {
  await page.getByRole('link', { name: 'Logg inn' }).first().click();
  await page.getByRole('link', { name: 'Test eID (ID-porten)' }).click();
  await page.getByRole('radio', { name: 'En annen syntetisk testperson' }).check();
  await page.getByLabel('Syntetisk fødselsnummer eller CPR-nummer').fill(fnr);
  await page.getByRole('button', { name: 'Logg inn' }).click();
  await waitForHydration(page, hydrated);
}

/** The code in the newest mail to `to`, waiting for the worker to deliver it. */
export async function codeMailedTo(to: string, after = ''): Promise<string> {
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
export function sql(statement: string, ...params: string[]) {
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

export const LONG_AGO = '2020-01-01T00:00:00.000000Z';

/** On /contact: add an e-mail address and ask for the code. Leaves the browser on the code page. */
export async function startEmailChange(page: Page, hydrated: boolean, email: string) {
  await page.getByRole('link', { name: 'Legg til e-postadresse' }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('E-postadresse');
  await page.getByLabel('Ny e-postadresse').fill(email);
  await page.getByRole('button', { name: 'Send kode' }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Skriv inn engangskoden');
  await expect(page.getByRole('status')).toHaveText('Koden er sendt.');
}

export async function enterCode(page: Page, hydrated: boolean, code: string) {
  await page.getByLabel('Engangskode').fill(code);
  await page.getByRole('button', { name: 'Bekreft' }).click();
  await waitForHydration(page, hydrated);
}

export async function openContact(page: Page, hydrated: boolean) {
  await page.getByRole('navigation', { name: 'Din konto' }).getByRole('link', { name: 'Kontaktinformasjon' }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Kontaktinformasjon');
}

