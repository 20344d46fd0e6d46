import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * Waits until `condition` holds, polling, for something another party does in its own time (a
 * worker thread, a request still streaming); fails naming `what` if it never does.
 */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting: ${what}`);
    await sleep(20);
  }
}
