// Starts the system's headless Chromium behind a Playwright browser server and prints its
// WebSocket endpoint as one JSON line; the test scripts connect to it, so the browser starts
// once per pytest session. Exits when stdin closes (pytest ended or died).
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.CIVIC_CHROMIUM ?? "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

// Playwright gives every launch a fresh temporary user-data-dir and deletes it on close.
const server = await chromium.launchServer({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
process.stdout.write(JSON.stringify({ wsEndpoint: server.wsEndpoint() }) + "\n");

let closing = false;
async function shutdown() {
  if (closing) return;
  closing = true;
  await server.close().catch(() => {});
  process.exit(0);
}
process.stdin.on("end", shutdown);
process.stdin.on("close", shutdown);
process.stdin.resume();
process.on("SIGTERM", shutdown);
