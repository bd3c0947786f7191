// The page shell on every page: landmarks, skip link, footer links, translations, security
// headers, 404 and small screens. Runs with JavaScript off and hydrated.
import { test, expect } from './fixtures';

const pages = [
  { path: '/', heading: 'Velkommen til Borgerportal' },
  { path: '/accessibility', heading: 'Tilgjengelighetserklæring' },
  { path: '/privacy', heading: 'Personvern og informasjonskapsler' },
];

for (const { path, heading } of pages) {
  test(`${path} has the shell, a heading and no accessibility violations`, async ({
    page,
    visit,
    checkA11y,
  }) => {
    await visit(path);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(heading);
    await expect(page.getByRole('banner')).toBeVisible();
    await expect(page.getByRole('main')).toBeVisible();
    await expect(page.getByRole('contentinfo')).toBeVisible();
    await expect(page.locator('html')).toHaveAttribute('lang', 'nb');
    await checkA11y();
  });
}

test('the skip link is the first thing the keyboard reaches and moves focus to main', async ({
  page,
  visit,
}) => {
  await visit('/');
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Gå til hovedinnholdet' });
  await expect(skip).toBeFocused();
  await expect(skip).toBeVisible();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/#main$/);
});

test('the footer links reach the accessibility statement and the privacy page', async ({
  page,
  visit,
  hydrated,
}) => {
  await visit('/');
  const footer = page.getByRole('contentinfo');
  await footer.getByRole('link', { name: 'Tilgjengelighetserklæring' }).click();
  await expect(page).toHaveURL(/\/accessibility$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Tilgjengelighetserklæring');
  await footer.getByRole('link', { name: 'Personvern og informasjonskapsler' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(
    'Personvern og informasjonskapsler',
  );
  if (hydrated) {
    // Client-side navigation kept the hydrated app.
    await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  }
});

test('an unknown address gives a translated 404 page', async ({ page, hydrated, checkA11y }) => {
  const response = await page.goto('/no/such/page');
  expect(response?.status()).toBe(404);
  if (hydrated) {
    await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  }
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Vi fant ikke siden');
  await page.getByRole('link', { name: 'Gå til forsiden' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Velkommen til Borgerportal');
  await checkA11y();
});

test('pages carry the security headers', async ({ page }) => {
  const response = await page.goto('/');
  const headers = response?.headers() ?? {};
  const csp = headers['content-security-policy'] ?? '';
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toMatch(/script-src [^;]*'nonce-[A-Za-z0-9_-]{16,}'/);
  expect(csp).not.toContain('unsafe-inline');
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['referrer-policy']).toBeTruthy();
  expect(headers['permissions-policy']).toBeTruthy();
  expect(headers['x-request-id']).toBeTruthy();
});

for (const width of [320, 640]) {
  test(`the front page fits ${width} px without sideways scrolling`, async ({ page, visit }) => {
    await page.setViewportSize({ width, height: 800 });
    await visit('/');
    // A locator's evaluate works with JavaScript off too (Playwright's own world).
    const overflow = await page
      .locator('html')
      .evaluate((root) => root.scrollWidth - root.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    // On a narrow screen the language and the menu are one control, a disclosure that opens
    // without JavaScript too.
    await page.getByText('Meny og språk').click();
    await expect(page.getByRole('button', { name: 'Bytt språk' })).toBeVisible();
  });
}

test('on a wide screen the language and the menu are shown without opening anything', async ({
  page,
  visit,
}) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await visit('/');
  await expect(page.getByText('Meny og språk')).toBeHidden();
  await expect(page.getByRole('button', { name: 'Bytt språk' })).toBeVisible();
});
