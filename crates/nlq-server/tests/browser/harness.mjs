// What the browser test scripts share: numbered passes, failures that read as messages rather
// than stack traces, and the end of a run ("N passed, N failed", exit 0 only when all pass).

export class CheckFailure extends Error {}

let passed = 0;

export function fail(message) {
  throw new CheckFailure(message);
}

export function pass(name) {
  passed += 1;
  console.log(`ok ${passed} - ${name}`);
}

/** Waits for a condition; on timeout fails with the given message instead of a stack trace. */
export async function waitFor(what, fn) {
  try {
    await fn();
  } catch (err) {
    fail(`${what}: ${String(err.message || err).split('\n')[0]}`);
  }
}

/** Best effort: the page as it was when a check failed, as `<dir>/<name>`. */
export async function failureScreenshot(page, dir, name) {
  if (!page || page.isClosed()) return;
  const shot = `${dir.replace(/\/+$/, '')}/${name}`;
  if (await page.screenshot({ path: shot, fullPage: true }).then(() => true, () => false)) {
    console.error(`(failure screenshot at ${shot})`);
  }
}

/** Runs `main`, reports a failure with the last lines of `browserLog`, and exits. */
export async function run(main, browserLog) {
  let failed = 0;
  try {
    await main();
  } catch (err) {
    failed += 1;
    const message = err instanceof CheckFailure ? err.message : String((err && err.stack) || err);
    console.error(`FAIL: ${message}`);
    if (browserLog.length) {
      console.error('browser console (last 20 lines):');
      for (const line of browserLog.slice(-20)) console.error(`  ${line}`);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}
