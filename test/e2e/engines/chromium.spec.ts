// The core scenarios (scenarios.ts) in chromium; the engine's browser and adapter come from engines.ts.
import { test } from './fixtures.ts';
import { defineScenarios } from './scenarios.ts';

test.use({ engineName: 'chromium' });
defineScenarios('chromium');
