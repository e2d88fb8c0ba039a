// The core scenarios (scenarios.ts) in webkit; the engine's browser and adapter come from engines.ts.
import { test } from './fixtures.ts';
import { defineScenarios } from './scenarios.ts';

test.use({ engineName: 'webkit' });
defineScenarios('webkit');
