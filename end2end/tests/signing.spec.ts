// Signing: a job the demo agency sends through the agency API to two fresh persons is signed
// in order, each at the job's level `high` from a `substantial` session (a fresh login at the
// eID), another is declined with a reason, and a helper given the signing scope signs for the
// giver. Runs with JavaScript off and hydrated, axe-core on every page shown. Every test makes
// its own persons and jobs, so the runs do not meet.
import { test, expect, waitForHydration } from './fixtures';
import type { APIRequestContext, Page } from '@playwright/test';
import { randomUUID } from 'node:crypto';
import { agencyToken } from './agency';
import { address, codeMailedTo, enterCode, logInAs, openContact, startEmailChange, syntheticFnr } from './people';

/** A fresh person with a verified e-mail address (so a job can reach them), logged out again. */
async function reachablePerson(page: Page, hydrated: boolean, label: string): Promise<string> {
  const fnr = syntheticFnr();
  await logInAs(page, hydrated, fnr);
  await openContact(page, hydrated);
  const email = address(label);
  await startEmailChange(page, hydrated, email);
  await enterCode(page, hydrated, await codeMailedTo(email));
  await logOut(page, hydrated);
  return fnr;
}

async function logOut(page: Page, hydrated: boolean) {
  await page.getByRole('button', { name: 'Logg ut' }).click();
  await waitForHydration(page, hydrated);
}

/** A small, whole one-page PDF (a cross-reference table with the right offsets): what the
 * portal can seal. */
function onePagePdf(text: string): Buffer {
  const safe = text.replace(/[^ -~]/g, '?').replace(/[()\\]/g, '?');
  const stream = `BT /F1 18 Tf 72 720 Td (${safe}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let pdf = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, index) => {
    offsets.push(pdf.length);
    pdf += `${index + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = pdf.length;
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) pdf += `${String(offset).padStart(10, '0')} 00000 n \n`;
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(pdf, 'latin1');
}

/** Sends a job as the demo agency; expects `201`. */
async function sendJob(
  request: APIRequestContext,
  baseURL: string | undefined,
  signers: { national_id: string; order: number }[],
  level: 'substantial' | 'high',
  title: string,
  helpersMaySign = false,
) {
  const audience = new URL(baseURL as string).origin;
  const pdf = onePagePdf(title).toString('base64');
  const created = await request.post('/api/v1/signing/jobs', {
    headers: { authorization: `Bearer ${agencyToken(audience)}` },
    data: {
      job_id: `e2e-${randomUUID()}`,
      title,
      non_sensitive_title: 'Et dokument til signering',
      description: 'Les avtalen og signer innen fristen.',
      documents: [{ title: 'Avtalen', filename: 'avtale.pdf', content_base64: pdf }],
      signers,
      required_loa: level,
      helpers_may_sign: helpersMaySign,
      deadline: new Date(Date.now() + 14 * 86400_000).toISOString(),
    },
  });
  expect(created.status(), await created.text()).toBe(201);
  return created.json();
}

/** From the job's page: "Sign with eID", the fresh login at the test eID as `fnr` at `level`. */
async function signAs(page: Page, hydrated: boolean, fnr: string, level: 'substantial' | 'high') {
  await page.getByRole('button', { name: 'Signer med eID' }).click();
  await page.getByRole('radio', { name: 'En annen syntetisk testperson' }).check();
  await page.getByLabel('Syntetisk fødselsnummer eller CPR-nummer').fill(fnr);
  await page.getByRole('radio', { name: level === 'high' ? /^Høyt/ : /^Betydelig/ }).check();
  await page.getByRole('button', { name: 'Logg inn' }).click();
  await waitForHydration(page, hydrated);
}

async function openSigning(page: Page, hydrated: boolean) {
  await page.getByRole('navigation', { name: 'Din konto' }).getByRole('link', { name: /^Signering/ }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Dokumenter til signering');
}

test('two signers sign in order, each at high from a substantial session', async ({
  page,
  visit,
  hydrated,
  request,
  baseURL,
  checkA11y,
}) => {
  test.slow();
  await visit('/');
  const first = await reachablePerson(page, hydrated, 'first-signer');
  const second = await reachablePerson(page, hydrated, 'second-signer');
  const title = `Kjøpekontrakt ${randomUUID().slice(0, 8)}`;
  const job = await sendJob(
    request,
    baseURL,
    [
      { national_id: first, order: 0 },
      { national_id: second, order: 1 },
    ],
    'high',
    title,
  );

  // The second signer's turn has not come: nothing to sign yet.
  await logInAs(page, hydrated, second);
  await openSigning(page, hydrated);
  await expect(page.getByText('Du har ingen dokumenter til signering.')).toBeVisible();
  await checkA11y();
  await logOut(page, hydrated);

  // The first: at substantial the job shows its non-sensitive title and asks for high.
  await logInAs(page, hydrated, first);
  await expect(page.getByRole('navigation', { name: 'Din konto' }).getByRole('link', { name: /^Signering \(1 venter\)/ })).toBeVisible();
  await openSigning(page, hydrated);
  await page.getByRole('link', { name: 'Et dokument til signering' }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Et dokument til signering');
  await expect(page.getByText('Dokumentene krever innlogging på høyt nivå.')).toBeVisible();
  await checkA11y();
  await signAs(page, hydrated, first, 'high');
  await expect(page).toHaveURL(new RegExp(`/signing/${job.signing_job_id}\\?done=signed$`));
  await expect(page.getByRole('status')).toContainText('Du har signert');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(title);
  await expect(page.getByText('Deg – tur 1 – Signert')).toBeVisible();
  await checkA11y();
  await logOut(page, hydrated);

  // Now the second signer's turn: the list shows it, and the signature completes the job.
  await logInAs(page, hydrated, second);
  await openSigning(page, hydrated);
  await page.getByRole('link', { name: 'Et dokument til signering' }).click();
  await waitForHydration(page, hydrated);
  await signAs(page, hydrated, second, 'high');
  await expect(page.getByRole('status')).toContainText('Du har signert');
  await checkA11y();

  // The agency sees both signatures.
  const audience = new URL(baseURL as string).origin;
  const status = await request.get(`/api/v1/signing/jobs/${job.signing_job_id}`, {
    headers: { authorization: `Bearer ${agencyToken(audience)}` },
  });
  const body = await status.json();
  expect(body.signers.map((s: { status: string }) => s.status)).toEqual(['signed', 'signed']);
});

test('a signer declines with a reason, and a reason too long is refused without losing it', async ({
  page,
  visit,
  hydrated,
  request,
  baseURL,
  checkA11y,
}) => {
  test.slow();
  await visit('/');
  const signer = await reachablePerson(page, hydrated, 'decliner');
  const title = `Samtykke ${randomUUID().slice(0, 8)}`;
  const job = await sendJob(request, baseURL, [{ national_id: signer, order: 0 }], 'substantial', title);
  await logInAs(page, hydrated, signer);
  await openSigning(page, hydrated);
  await page.getByRole('link', { name: title }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('link', { name: 'Avtalen' })).toBeVisible();
  await checkA11y();

  await page.getByText('Jeg vil ikke signere').click();
  const tooLong = 'x'.repeat(501);
  // The textarea holds 500 characters; a browser without the limit could send more.
  await page.getByLabel('Begrunnelse (valgfritt)').evaluate((el, value) => {
    el.removeAttribute('maxlength');
    (el as HTMLTextAreaElement).value = value;
  }, tooLong);
  await page.getByRole('button', { name: 'Avslå signering' }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('alert').first()).toContainText('Begrunnelsen kan være høyst 500 tegn.');
  await expect(page.getByLabel('Begrunnelse (valgfritt)')).toHaveValue(tooLong);
  await checkA11y();

  await page.getByLabel('Begrunnelse (valgfritt)').fill('Beløpet er feil.');
  await page.getByRole('button', { name: 'Avslå signering' }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('status')).toContainText('Du har avslått å signere');
  await expect(page.getByText('Status: Avslått')).toBeVisible();
  await checkA11y();

  const audience = new URL(baseURL as string).origin;
  const status = await request.get(`/api/v1/signing/jobs/${job.signing_job_id}`, {
    headers: { authorization: `Bearer ${agencyToken(audience)}` },
  });
  const body = await status.json();
  expect(body.status).toBe('failed');
  expect(body.signers[0].reason).toBe('Beløpet er feil.');
});

test('a helper with the signing scope signs for the giver', async ({
  page,
  visit,
  hydrated,
  request,
  baseURL,
  checkA11y,
}) => {
  test.slow();
  await visit('/');
  // The helper exists once they have logged in (every synthetic person is Test Testesen).
  const helper = syntheticFnr();
  await logInAs(page, hydrated, helper);
  await logOut(page, hydrated);
  const giver = await reachablePerson(page, hydrated, 'giver');

  // The giver grants the signing scope (at high).
  await page.getByRole('link', { name: 'Logg inn' }).first().click();
  await page.getByRole('link', { name: 'Test eID (ID-porten)' }).click();
  await page.getByRole('radio', { name: 'En annen syntetisk testperson' }).check();
  await page.getByLabel('Syntetisk fødselsnummer eller CPR-nummer').fill(giver);
  await page.getByRole('radio', { name: /^Høyt/ }).check();
  await page.getByRole('button', { name: 'Logg inn' }).click();
  await waitForHydration(page, hydrated);
  await page.getByRole('navigation', { name: 'Din konto' }).getByRole('link', { name: 'Fullmakter' }).click();
  await waitForHydration(page, hydrated);
  await page.getByRole('link', { name: 'Gi fullmakt' }).click();
  await waitForHydration(page, hydrated);
  await page.getByLabel('Fødselsnummeret til den som skal få fullmakt').fill(helper);
  await page.getByLabel('Fullt navn til den som skal få fullmakt').fill('Test Testesen');
  await page.getByLabel(/^Signere dokumenter/).check();
  const nextYear = new Date(Date.now() + 365 * 24 * 3600 * 1000).toISOString().slice(0, 10);
  await page.getByLabel('Sluttdato').fill(nextYear);
  await page.getByRole('button', { name: 'Gi fullmakt' }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('status')).toHaveText('Fullmakten er gitt.');
  await logOut(page, hydrated);

  const title = `Fullmaktsavtale ${randomUUID().slice(0, 8)}`;
  const job = await sendJob(request, baseURL, [{ national_id: giver, order: 0 }], 'substantial', title, true);

  // The helper acts for the giver, finds the job and signs it with their own fresh login.
  await logInAs(page, hydrated, helper);
  const choice = page.getByRole('region', { name: 'Hvem handler du for?' });
  await choice.getByRole('radio', { name: /med fullmakt/ }).check();
  await choice.getByRole('button', { name: 'Fortsett' }).click();
  await waitForHydration(page, hydrated);
  await expect(page.getByRole('region', { name: 'Du handler for en annen' })).toBeVisible();
  await openSigning(page, hydrated);
  await page.getByRole('link', { name: title }).click();
  await waitForHydration(page, hydrated);
  await checkA11y();
  await signAs(page, hydrated, helper, 'substantial');
  await expect(page.getByRole('status')).toContainText('Du har signert');
  await expect(page.getByRole('region', { name: 'Du handler for en annen' })).toBeVisible();
  await checkA11y();

  const audience = new URL(baseURL as string).origin;
  const status = await request.get(`/api/v1/signing/jobs/${job.signing_job_id}`, {
    headers: { authorization: `Bearer ${agencyToken(audience)}` },
  });
  expect((await status.json()).signers[0].status).toBe('signed');
});
