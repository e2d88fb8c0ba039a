// The core scenarios (scenarios.ts) in firefox; the engine's browser and adapter come from engines.ts.
import { test } from './fixtures.ts';
import { defineScenarios } from './scenarios.ts';

test.use({ engineName: 'firefox' });
defineScenarios('firefox');
