/**
 * Headless Chromium for the browser tests: the distribution's package (Debian's `chromium`),
 * driven by playwright-core pointed at its binary (Playwright's own browser downloads need a
 * network the tests do not have). Installed on first use where it is missing and the test runs
 * as root with apt-get, as the emulator installs itself into .venv/; elsewhere the error says
 * how to install it or where to point TIDEMARK_CHROMIUM.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TIDEMARK_CHROMIUM) {
    if (!existsSync(env.TIDEMARK_CHROMIUM)) throw new Error(`TIDEMARK_CHROMIUM=${env.TIDEMARK_CHROMIUM} does not exist`);
    return env.TIDEMARK_CHROMIUM;
  }
  const found = CANDIDATES.find((p) => existsSync(p));
  if (found) return found;
  const root = process.getuid?.() === 0;
  if (!root || !existsSync('/usr/bin/apt-get')) {
    throw new Error('the browser tests need Chromium: install the distribution\'s package (apt-get install chromium) or set TIDEMARK_CHROMIUM to a Chromium binary');
  }
  const started = Date.now();
  console.error('browser tests: installing Debian\'s chromium package (once)…');
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  console.error(`browser tests: chromium installed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  const installed = CANDIDATES.find((p) => existsSync(p));
  if (!installed) throw new Error('apt-get installed chromium but no binary is at /usr/bin/chromium');
  return installed;
}
