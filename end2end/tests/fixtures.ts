// Shared fixtures: every test fails on a browser console error or a failed request, `visit`
// waits for hydration in the hydrated project, and `checkA11y` runs axe-core on what the
// person sees (also with JavaScript off).
import { test as base, expect, Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';

type Fixtures = {
  /** Go to a path; in the hydrated project, also wait until the WASM has taken over. */
  visit: (path: string) => Promise<void>;
  /** Assert that axe-core finds no WCAG 2.1 A/AA violation on the current page. */
  checkA11y: () => Promise<void>;
  /** True in the hydrated project, false in the JavaScript-off project. */
  hydrated: boolean;
};

export const test = base.extend<Fixtures>({
  hydrated: async ({ javaScriptEnabled }, use) => {
    await use(javaScriptEnabled !== false);
  },
  page: async ({ page, hydrated, baseURL }, use) => {
    // The portal's own pages are held to these rules; an eID provider's pages are not ours.
    const portal = new URL(baseURL ?? 'http://127.0.0.1:3000').origin;
    const ours = (url: string) => url.startsWith(portal);
    const problems: string[] = [];
    const consoleErrors: { text: string; url: string }[] = [];
    const notFoundDocuments = new Set<string>();
    // Chromium logs every 4xx document as a console error; a refused form's 422 is expected.
    const refusedForms = new Set<string>();
    page.on('console', (message) => {
      if (message.type() === 'error' && ours(message.location().url || page.url())) {
        consoleErrors.push({ text: message.text(), url: message.location().url });
      }
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('requestfailed', (request) => {
      const reason = request.failure()?.errorText;
      // With JavaScript off the browser itself refuses the hydration module: expected.
      const blockedScript = !hydrated && reason === 'csp' && /\/pkg\/.*\.js$/.test(request.url());
      // A load the browser dropped because the page navigated on (a preload, the favicon) is no
      // fault; a refused one says so in the console, which is checked below.
      const droppedByNavigation = reason === 'net::ERR_ABORTED';
      if (!blockedScript && !droppedByNavigation && ours(request.url())) problems.push(`request failed: ${request.url()} (${reason})`);
    });
    page.on('response', (response) => {
      const isDocument = response.request().resourceType() === 'document';
      // A form posted with refused input is shown again, with its errors, as 422.
      const refusedForm =
        isDocument && response.status() === 422 && response.request().method() === 'POST';
      if (refusedForm) {
        refusedForms.add(response.url());
        return;
      }
      if (isDocument && response.status() === 404) {
        // Only the tests of the 404 page go there; they check the status themselves.
        notFoundDocuments.add(response.url());
      } else if (response.status() >= 400 && ours(response.url())) {
        problems.push(`HTTP ${response.status()}: ${response.url()}`);
      }
    });
    await use(page);
    for (const { text, url } of consoleErrors) {
      const expected =
        (notFoundDocuments.has(url) && text.includes('404')) ||
        (refusedForms.has(url) && text.includes('422'));
      if (!expected) problems.push(`console error: ${text} (${url})`);
    }
    expect(problems, 'the browser reported problems').toEqual([]);
  },
  visit: async ({ page, hydrated }, use) => {
    await use(async (path: string) => {
      await page.goto(path);
      await waitForHydration(page, hydrated);
    });
  },
  checkA11y: async ({ page, browser, hydrated }, use) => {
    await use(async () => {
      // axe-core needs JavaScript. With JavaScript off, run it on a mirror: a JavaScript-enabled
      // page showing exactly the HTML the person sees, with the hydration code held back.
      let target: Page = page;
      const mirror = hydrated
        ? undefined
        : await browser.newContext({
            javaScriptEnabled: true,
            viewport: page.viewportSize() ?? undefined,
          });
      if (mirror) {
        const html = await page.content();
        const url = page.url().split('#')[0];
        await mirror.addCookies(await page.context().cookies());
        target = await mirror.newPage();
        await target.route('**/*', (route) => {
          const request = route.request();
          if (request.resourceType() === 'document' && request.url() === url) {
            return route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html });
          }
          if (/\/pkg\/.*\.(js|wasm)$/.test(request.url())) return route.abort();
          return route.continue();
        });
        await target.goto(url);
      }
      try {
        const results = await new AxeBuilder({ page: target })
          .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
          .analyze();
        const summary = results.violations.map(
          (v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`,
        );
        expect(summary, 'axe-core violations').toEqual([]);
      } finally {
        await mirror?.close();
      }
    });
  },
});

export async function waitForHydration(page: Page, hydrated: boolean) {
  if (hydrated) {
    await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  }
}

/**
 * After a login the person's saved language wins: demo persons who write nynorsk, Danish or
 * English get their pages in it. Tests written in bokmål switch back with the language
 * switcher, as the person could (what is saved for them stays as it was).
 */
export async function backToBokmal(page: Page, hydrated: boolean) {
  if ((await page.locator('html').getAttribute('lang')) === 'nb') return;
  const switcher = page.locator('form.language-switcher');
  await switcher.locator('select[name="lang"]').selectOption('nb');
  await switcher.getByRole('button').click();
  await expect(page.locator('html')).toHaveAttribute('lang', 'nb');
  await waitForHydration(page, hydrated);
}

export { expect };
