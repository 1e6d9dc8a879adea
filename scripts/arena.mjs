#!/usr/bin/env node
// npm run arena — every registered method tuned and ranked on the bundled model through the
// platform (see scripts/arena/main.ts), once what a fresh clone lacks is installed
// (scripts/lib/launch-platform-script.mjs).
import { launchPlatformScript } from './lib/launch-platform-script.mjs';

launchPlatformScript('scripts/arena/main.ts');
