import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { addonPath, buildStatusPath, packageRoot } from '../addon.js';

/** vitest global setup: builds the addon when neither it nor a recorded skip reason exists. */
export default function setup(): void {
  if (existsSync(addonPath) || existsSync(buildStatusPath)) return;
  execFileSync(process.execPath, ['scripts/build-native.mjs'], {
    cwd: packageRoot,
    stdio: 'inherit',
  });
}
