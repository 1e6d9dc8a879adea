#!/usr/bin/env node
// npm run demo — the whole platform on this machine (see scripts/demo/platform.ts), once what a
// fresh clone lacks is installed (scripts/lib/launch-platform-script.mjs).
import { launchPlatformScript } from './lib/launch-platform-script.mjs';

launchPlatformScript('scripts/demo/platform.ts');
