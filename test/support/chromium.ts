import { existsSync } from "node:fs";

/** Debian's chromium package, which `.ci/run` installs; tests that need it skip without it. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export const chromiumAvailable = (): boolean => existsSync(CHROMIUM_PATH);

// Without the background-networking flags Chromium tries to reach Google's hosts, which a
// machine without internet refuses many times per start.
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
