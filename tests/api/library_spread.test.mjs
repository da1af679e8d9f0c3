// Runs of the built-in patterns that spread work and summarise it (uncertainty-mapreduce,
// parallel-exploration, robust-analysis) with builtin constant agents. Every expected
// number is worked out by hand from SPEC §3 and each pattern's description; the
// arithmetic is in the comment above it.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backend } from './helpers/server.mjs';
import {
	FAIL, constants, libraryServer, patternWorkspace, runCase, runPattern, setAgents, stepOf,
} from './helpers/library.mjs';

let ctx;

before(async () => {
	ctx = await libraryServer();
});

after(async () => {
	await ctx?.server?.stop();
});

describe(`uncertainty-mapreduce [${backend}]`, () => {
	let w;
	const mr = (rows) => constants('item-analysis', rows);
	before(async () => {
		w = await patternWorkspace(ctx, 'uncertainty-mapreduce');
	});

	// Items go round robin over the agents, so with n agents and a multiple of n items each
	// agent answers the same number of items, whichever it starts with.
	test('every item successful: good', async () => {
		// 4 items over a1 0.9, a2 0.8: all ≥ 0.7 → 4/4 ≥ 0.8 → good (0.9)
		// mean (0.9 + 0.8 + 0.9 + 0.8) / 4 = 0.85 → 0.9 × (0.7 + 0.3 × 0.85) = 0.9 × 0.955 = 0.8595
		const run = await runCase(ctx, w, {
			agents: mr([['r', 0.9], ['r', 0.8]]),
			input: { items: [1, 2, 3, 4] },
			confidence: 0.8595,
			value: { quality: 'good', successful: 4, total: 4, mean: 0.85, results: ['r', 'r', 'r', 'r'] },
		}, 'good');
		const map = stepOf(run, 'map').output;
		assert.deepEqual(map.map((m) => m.item), [1, 2, 3, 4]);
		assert.deepEqual(map.map((m) => m.agent).sort(), ['a1', 'a1', 'a2', 'a2']);
	});

	test('exactly half successful: partial', async () => {
		// 4 items over a1 0.9, a2 0.5: 2/4 = 0.5 ≥ 0.5 → partial (0.6); mean of successful 0.9
		// 0.6 × (0.7 + 0.3 × 0.9) = 0.6 × 0.97 = 0.582
		await runCase(ctx, w, {
			agents: mr([['good', 0.9], ['weak', 0.5]]),
			input: { items: ['a', 'b', 'c', 'd'] },
			confidence: 0.582,
			value: { quality: 'partial', successful: 2, total: 4, mean: 0.9, results: ['good', 'good'] },
		}, 'partial');
	});

	test('exactly 80% successful is good; exactly 0.7 is successful', async () => {
		// 5 items over a1..a5 (0.9, 0.9, 0.9, 0.7, 0.5): 4/5 = 0.8 → good; mean (0.9·3 + 0.7) / 4 = 0.85
		// 0.9 × (0.7 + 0.3 × 0.85) = 0.9 × 0.955 = 0.8595
		await runCase(ctx, w, {
			agents: mr([['x', 0.9], ['x', 0.9], ['x', 0.9], ['x', 0.7], ['x', 0.5]]),
			input: { items: [1, 2, 3, 4, 5] },
			confidence: 0.8595,
			value: { quality: 'good', successful: 4, total: 5, mean: 0.85 },
		}, 'boundary');
	});

	test('nothing successful (low and failed calls): poor, 0.3 × 0.7', async () => {
		// 2 items over a1 0.6 (< 0.7) and a2 failing → 0/2 → poor (0.3); mean 0 → 0.3 × 0.7 = 0.21
		await runCase(ctx, w, {
			agents: mr([['x', 0.6], FAIL]),
			input: { items: [1, 2] },
			confidence: 0.21,
			value: { quality: 'poor', successful: 0, total: 2, mean: 0, results: [] },
		}, 'poor');
	});

	test('items must be a list', async () => {
		await setAgents(ctx, w, mr([['x', 0.9]]));
		const res = await runPattern(ctx, w, { items: 'not a list' });
		assert.equal(res.status, 422, res.text);
		assert.equal(res.json.error.field, 'input.items');
	});
});

describe(`parallel-exploration [${backend}]`, () => {
	let w;
	const px = (rows) => constants('exploration', rows);
	before(async () => {
		w = await patternWorkspace(ctx, 'parallel-exploration');
	});

	test('the most confident approach wins', async () => {
		// best of 0.7, 0.9, 0.6 → a2 (B) 0.9; three distinct values, none shared
		await runCase(ctx, w, {
			agents: px([['A', 0.7], ['B', 0.9], ['C', 0.6]]),
			input: { task: 't' },
			confidence: 0.9,
			value: {
				best: 'B', found_by: 'a2', converged: false, explored: 3, succeeded: 3, distinct: 3,
				approaches: [{ agent: 'a2', value: 'B', confidence: 0.9 }, { agent: 'a1', value: 'A', confidence: 0.7 },
					{ agent: 'a3', value: 'C', confidence: 0.6 }],
			},
		}, 'best');
	});

	test('a tie goes to the first', async () => {
		await runCase(ctx, w, {
			agents: px([['A', 0.8], ['B', 0.8]]),
			input: { task: 't' },
			confidence: 0.8,
			value: { best: 'A', found_by: 'a1', distinct: 2 },
		}, 'tie');
	});

	test('a failed explorer is left out; another reaching the same value converges', async () => {
		// a1 failed; best of a2 (B 0.85) and a3 (B 0.6) → a2; a3 also found B → converged
		await runCase(ctx, w, {
			agents: px([FAIL, ['B', 0.85], ['B', 0.6]]),
			input: { task: 't' },
			confidence: 0.85,
			value: { best: 'B', found_by: 'a2', converged: true, explored: 3, succeeded: 2, distinct: 1 },
		}, 'failure');
	});

	test('every explorer failing fails the run', async () => {
		await setAgents(ctx, w, px([FAIL, FAIL]));
		const res = await runPattern(ctx, w, { task: 't' });
		assert.equal(res.status, 200, res.text);
		assert.equal(res.json.status, 'failed');
		assert.equal(res.json.error?.node, 'explorers');
	});
});

describe(`robust-analysis [${backend}]`, () => {
	let w;
	const ra = (rows) => constants('analysis', rows);
	before(async () => {
		w = await patternWorkspace(ctx, 'robust-analysis');
	});

	test('all agree: agreement 1 × the median', async () => {
		// A ×3 → agreement 1; sorted 0.7, 0.8, 0.9 → median 0.8 → 0.8; majority, 0.8 ≥ 0.7 → robust
		await runCase(ctx, w, {
			agents: ra([['A', 0.9], ['A', 0.8], ['A', 0.7]]),
			input: { task: 't' },
			confidence: 0.8,
			value: { conclusion: 'A', status: 'robust', agreement: 1, median: 0.8, answered: 3, failed: 0 },
		}, 'agree');
	});

	test('one outlier barely moves the median', async () => {
		// A, A, B → agreement 2/3; sorted 0.2, 0.85, 0.9 → median 0.85 → 0.666667 × 0.85 = 0.566667
		await runCase(ctx, w, {
			agents: ra([['A', 0.9], ['A', 0.85], ['B', 0.2]]),
			input: { task: 't' },
			confidence: 0.566667,
			value: { conclusion: 'A', status: 'robust', agreement: 0.666667, median: 0.85 },
		}, 'outlier');
	});

	test('a failure (retried, still failing) counts 0 in the median; a 1-1 tie is contested', async () => {
		// answered: A 0.9, B 0.8 → tie, first group A, agreement 1/2 = 0.5, not more than half → contested
		// median of 0, 0.8, 0.9 = 0.8 → 0.5 × 0.8 = 0.4
		await runCase(ctx, w, {
			agents: ra([['A', 0.9], FAIL, ['B', 0.8]]),
			input: { task: 't' },
			confidence: 0.4,
			value: { conclusion: 'A', status: 'contested', agreement: 0.5, median: 0.8, answered: 2, failed: 1 },
		}, 'failure');
	});

	test('an even count takes the mean of the middle two; median exactly 0.7 is robust', async () => {
		// A ×3, B → agreement 3/4 = 0.75; sorted 0.5, 0.6, 0.8, 0.9 → (0.6 + 0.8) / 2 = 0.7
		// 0.75 × 0.7 = 0.525; majority and 0.7 ≥ 0.7 → robust
		await runCase(ctx, w, {
			agents: ra([['A', 0.9], ['A', 0.6], ['A', 0.5], ['B', 0.8]]),
			input: { task: 't' },
			confidence: 0.525,
			value: { conclusion: 'A', status: 'robust', agreement: 0.75, median: 0.7 },
		}, 'even');
	});

	test('agreement with low confidence is weak', async () => {
		// A ×3 → agreement 1; median of 0.4, 0.5, 0.6 = 0.5 → 0.5; majority but 0.5 < 0.7 → weak
		await runCase(ctx, w, {
			agents: ra([['A', 0.6], ['A', 0.5], ['A', 0.4]]),
			input: { task: 't' },
			confidence: 0.5,
			value: { conclusion: 'A', status: 'weak', agreement: 1, median: 0.5 },
		}, 'weak');
	});
});
