// Drives the local Swagger UI in headless Chromium as a person would, for tests/e2e/test_docs_browser.py:
// open /docs, "Authorize" with an access token, open an operation, "Try it out", fill its query
// parameters, "Execute", and report what the page then shows. It asserts nothing itself: it prints
// one JSON object on stdout ({status, body, requestUrl, curl, pageErrors}) for the test to judge, and
// saves a screenshot either way.
//
//   node swagger_ui_browser.mjs '{"docsUrl": ..., "token": ..., "method": "get", "path": "/v1/songs",
//                                 "query": {"genres": "Pop"}, "chromium": "/usr/bin/chromium",
//                                 "screenshot": ".artifacts/swagger-ui.png"}'
//
// The browser is the system's Chromium (executablePath): playwright-core never downloads one.

import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { chromium } from "playwright-core";

const STEP_TIMEOUT_MS = 15_000;
// Without the background-networking flags, Chromium keeps trying to reach Google's services on a
// machine with no internet access and misbehaves.
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const options = JSON.parse(process.argv[2]);
const browser = await chromium.launch({
  executablePath: options.chromium,
  headless: true,
  args: CHROMIUM_FLAGS, // playwright-core gives every launch a fresh, temporary --user-data-dir
  timeout: 30_000,
});
const pageErrors = [];
let result = null;
let operation = null;
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
page.setDefaultTimeout(STEP_TIMEOUT_MS);
page.on("pageerror", (error) => pageErrors.push(String(error)));
try {
  await page.goto(options.docsUrl);

  // Authorize: the bearer scheme's dialog takes the token as it is ("Bearer " is added by Swagger UI).
  await page.locator(".scheme-container button.authorize").click();
  // The document may declare other schemes too: use the (first) HTTP bearer one.
  const dialog = page.locator(".dialog-ux .modal-ux");
  const bearer = dialog.locator(".auth-container").filter({ has: page.locator("input#auth-bearer-value") }).first();
  await bearer.locator("input#auth-bearer-value").fill(options.token);
  await bearer.locator(".auth-btn-wrapper button.authorize").click();
  await dialog.locator("button.btn-done").first().click(); // any "Close" closes the whole dialog

  // The operation: its block, expanded, in "Try it out" mode.
  operation = page
    .locator(`.opblock.opblock-${options.method}`)
    .filter({ has: page.locator(`.opblock-summary-path[data-path="${options.path}"]`) })
    .first();
  await operation.locator(".opblock-summary").first().click();
  await operation.locator("button.try-out__btn").click();
  // Swagger UI pre-fills parameters with the document's examples and defaults: set the ones asked
  // for and empty all the others, so that the request carries exactly options.query.
  const rows = operation.locator('tr[data-param-in="query"]');
  const names = await rows.evaluateAll((found) => found.map((row) => row.getAttribute("data-param-name")));
  for (const name of Object.keys(options.query)) {
    if (!names.includes(name)) throw new Error(`${options.method} ${options.path} has no query parameter ${name}`);
  }
  for (const name of names) {
    await setParameter(operation.locator(`tr[data-param-name="${name}"][data-param-in="query"]`), options.query[name] ?? "");
  }
  await operation.locator("button.execute").click();

  const response = operation.locator(".live-responses-table .response").first();
  await response.locator(".response-col_status").waitFor();
  result = {
    status: (await response.locator(".response-col_status").innerText()).trim(),
    body: await response.locator(".response-col_description pre").first().innerText(),
    requestUrl: (await operation.locator(".request-url pre").innerText()).trim(),
    curl: await operation.locator(".curl-command pre, .curl-command code").first().innerText(),
  };
} finally {
  // From the top of the page (the Authorize button) to the end of the server's response; the whole
  // page if it did not get that far.
  mkdirSync(dirname(options.screenshot), { recursive: true });
  const shot = { path: options.screenshot, fullPage: true };
  const bottom = !result
    ? null
    : await operation
        .locator(".live-responses-table")
        .first()
        .evaluate((table) => table.getBoundingClientRect().bottom + window.scrollY)
        .catch(() => null);
  if (bottom !== null) {
    shot.clip = { x: 0, y: 0, width: page.viewportSize().width, height: Math.ceil(bottom) + 16 };
  }
  await page.screenshot(shot).catch((error) => process.stderr.write(`no screenshot: ${error}\n`));
  await browser.close();
}
process.stdout.write(JSON.stringify({ ...result, pageErrors }) + "\n");

// A query parameter as Swagger UI renders it: an array (a list of items, "Add item"), an array of an
// enum (a multiple select), an enum or a boolean (a select) or a scalar (a text field). A comma-separated value is one item per element;
// "" empties the parameter (Swagger UI then leaves it out of the request).
async function setParameter(row, value) {
  const items = String(value) === "" ? [] : String(value).split(",");
  const addItem = row.locator("button.json-schema-form-item-add");
  if ((await addItem.count()) > 0) {
    const remove = row.locator("button.json-schema-form-item-remove");
    while ((await remove.count()) > 0) await remove.first().click();
    for (const item of items) {
      await addItem.click();
      await row.locator("input[type=text]").last().fill(item);
    }
  } else if ((await row.locator("select").count()) > 0) {
    // An array of an enum is a multiple select, one option per item. Swagger UI sends even an emptied one
    // (`name=`), so one that should stay out is left untouched (the document gives it no example).
    const select = row.locator("select").first();
    if (!(await select.evaluate((element) => element.multiple))) await select.selectOption(String(value));
    else if (items.length > 0) await select.selectOption(items);
  } else if ((await row.locator("input[type=text]").count()) > 0) {
    await row.locator("input[type=text]").first().fill(String(value));
  }
}
