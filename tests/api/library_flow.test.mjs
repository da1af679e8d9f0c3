// Runs of the built-in patterns that branch or stop early (confidence-cascade,
// uncertainty-router, cascading-refinement, multi-validator, load-balancer) with builtin
// constant agents. Every expected number is worked out by hand from SPEC §3 and each
// pattern's description; the arithmetic is in the comment above it. Which nodes ran and
// which were skipped is checked on the run's steps.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backend } from './helpers/server.mjs';
import {
	FAIL, constants, expectStatus, libraryServer, near, patternWorkspace, runCase, runPattern, setAgents,
	stepOf,
} from './helpers/library.mjs';

let ctx;

before(async () => {
	ctx = await libraryServer();
});

after(async () => {
	await ctx?.server?.stop();
});

const skipped = (run, id) => assert.equal(stepOf(run, id)?.status, 'skipped', `${id} was skipped: ${JSON.stringify(stepOf(run, id))}`);
const ran = (run, id) => assert.equal(stepOf(run, id)?.status, 'succeeded', `${id} ran: ${JSON.stringify(stepOf(run, id))}`);

describe(`confidence-cascade [${backend}]`, () => {
	let w;
	const cc = (rows) => constants('cascade', rows);
	before(async () => {
		w = await patternWorkspace(ctx, 'confidence-cascade');
	});

	test('stops at the first result at or above the default 0.8', async () => {
		// a1 0.5 < 0.8, a2 0.85 ≥ 0.8 → stop after 2; a3 is never asked
		await runCase(ctx, w, {
			agents: cc([['small', 0.5], ['medium', 0.85], ['large', 0.95]]),
			input: { task: 't' },
			confidence: 0.85,
			value: { status: 'target_achieved', answer: 'medium', answered_by: 'a2', target: 0.8, attempts: 2 },
		}, 'default target');
	});

	test('minConfidence from the input; none reaches it: the best seen, best_effort', async () => {
		// target 0.9: 0.5, 0.85, 0.7 all below → best 0.85 (a2) > 0.6 → best_effort, 3 attempts
		await runCase(ctx, w, {
			agents: cc([['small', 0.5], ['medium', 0.85], ['large', 0.7]]),
			input: { task: 't', minConfidence: 0.9 },
			confidence: 0.85,
			value: { status: 'best_effort', answer: 'medium', target: 0.9, attempts: 3 },
		}, 'input target');
	});

	test('best exactly 0.6 is low_confidence; a tie for the best keeps the earliest', async () => {
		// 0.6, 0.6, 0.3 all below 0.8 → best 0.6 (a1 and a2 tie → a1); 0.6 is not above 0.6
		await runCase(ctx, w, {
			agents: cc([['first', 0.6], ['second', 0.6], ['third', 0.3]]),
			input: { task: 't' },
			confidence: 0.6,
			value: { status: 'low_confidence', answer: 'first', answered_by: 'a1', attempts: 3 },
		}, 'low');
	});

	test('exactly the target stops at once; a failed first agent is passed over', async () => {
		// 0.8 ≥ 0.8 at the first attempt
		await runCase(ctx, w, {
			agents: cc([['small', 0.8], ['large', 0.95]]),
			input: { task: 't' },
			confidence: 0.8,
			value: { status: 'target_achieved', answer: 'small', attempts: 1 },
		}, 'boundary');
		// a1 fails (confidence 0), a2 0.9 ≥ 0.8 → stop after 2
		await runCase(ctx, w, {
			agents: cc([FAIL, ['large', 0.9]]),
			input: { task: 't' },
			confidence: 0.9,
			value: { status: 'target_achieved', answer: 'large', answered_by: 'a2', attempts: 2 },
		}, 'failure');
	});

	test('an input outside the schema is 422 invalid_input', async () => {
		await setAgents(ctx, w, cc([['x', 0.9]]));
		const res = await runPattern(ctx, w, { task: 't', minConfidence: 1.5 });
		assert.equal(res.status, 422, res.text);
		assert.equal(res.json.error.code, 'invalid_input');
		assert.equal(res.json.error.field, 'input.minConfidence');
		assert.ok(res.json.problems.length >= 1);
		const missing = await runPattern(ctx, w, { minConfidence: 0.5 });
		assert.equal(missing.status, 422, missing.text);
		assert.equal(missing.json.error.field, 'input.task');
	});
});

describe(`uncertainty-router [${backend}]`, () => {
	let w;
	const agents = (triage) => [
		{ name: 'triage', capabilities: ['triage'], ...triage },
		{ name: 'gen', capabilities: ['generalist'], value: 'general answer', confidence: 0.9 },
		{ name: 'bal', capabilities: ['balanced'], value: 'balanced answer', confidence: 0.7 },
		{ name: 'spec', capabilities: ['specialist'], value: 'specialist answer', confidence: 0.95 },
	];
	before(async () => {
		w = await patternWorkspace(ctx, 'uncertainty-router');
	});

	test('a ≥ 0.8 (exactly 0.8): the generalist', async () => {
		const run = await runCase(ctx, w, {
			agents: agents({ value: 'first', confidence: 0.8 }),
			input: { task: 't' },
			confidence: 0.9,
			value: { route: 'generalist', answer: 'general answer', answered_by: 'gen', triage_confidence: 0.8 },
		}, 'high');
		skipped(run, 'balanced');
		skipped(run, 'specialist');
	});

	test('0.79 and exactly 0.5: the balanced agent', async () => {
		for (const a of [0.79, 0.5]) {
			const run = await runCase(ctx, w, {
				agents: agents({ value: 'first', confidence: a }),
				input: { task: 't' },
				confidence: 0.7,
				value: { route: 'balanced', answer: 'balanced answer', answered_by: 'bal', triage_confidence: a },
			}, `medium ${a}`);
			skipped(run, 'generalist');
			skipped(run, 'specialist');
		}
	});

	test('a < 0.5: the specialist', async () => {
		const run = await runCase(ctx, w, {
			agents: agents({ value: 'first', confidence: 0.49 }),
			input: { task: 't' },
			confidence: 0.95,
			value: { route: 'specialist', answer: 'specialist answer', answered_by: 'spec' },
		}, 'low');
		ran(run, 'specialist');
		skipped(run, 'generalist');
	});

	test('the chosen agent fails (retried once): the run fails there', async () => {
		const list = agents({ value: 'first', confidence: 0.95 });
		list[1] = { ...list[1], fail: true };
		await setAgents(ctx, w, list);
		const run = expectStatus(await runPattern(ctx, w, { task: 't' }), 200, 'run');
		assert.equal(run.status, 'failed');
		assert.equal(run.result, null);
		assert.equal(run.error.node, 'generalist');
	});
});

describe(`cascading-refinement [${backend}]`, () => {
	let w;
	const stages = (d, r, e) => [
		{ name: 'drafter', capabilities: ['drafting'], ...d },
		{ name: 'refiner', capabilities: ['refinement'], ...r },
		{ name: 'expert', capabilities: ['expert-refinement'], ...e },
	];
	before(async () => {
		w = await patternWorkspace(ctx, 'cascading-refinement');
	});

	test('a good draft ends the run', async () => {
		// 0.9 ≥ 0.8 → stage draft
		const run = await runCase(ctx, w, {
			agents: stages({ value: 'd', confidence: 0.9 }, { value: 'r', confidence: 0.99 }, { value: 'e', confidence: 0.99 }),
			input: { task: 't' },
			confidence: 0.9,
			value: { answer: 'd', stage: 'draft', stages: 1, target_reached: true },
		}, 'draft');
		skipped(run, 'refine');
		skipped(run, 'expert');
	});

	test('a refinement at exactly 0.8 ends it; a failed draft fails the run', async () => {
		// 0.6 < 0.8 → refine; 0.8 ≥ 0.8 → stage refined
		await runCase(ctx, w, {
			agents: stages({ value: 'd', confidence: 0.6 }, { value: 'r', confidence: 0.8 }, { value: 'e', confidence: 0.99 }),
			input: { task: 't' },
			confidence: 0.8,
			value: { answer: 'r', stage: 'refined', stages: 2, target_reached: true },
		}, 'refined');
		await setAgents(ctx, w, stages({ value: 'd', fail: true }, { value: 'r', confidence: 0.85 }, { value: 'e', confidence: 0.99 }));
		const run = expectStatus(await runPattern(ctx, w, { task: 't' }), 200, 'failed draft');
		assert.equal(run.status, 'failed');
		assert.equal(run.error.node, 'draft');
		assert.equal(stepOf(run, 'refine'), undefined, 'refine never ran');
	});

	test('the expert always ends it, reached or not', async () => {
		// 0.5, 0.7 < 0.8 → expert 0.95
		await runCase(ctx, w, {
			agents: stages({ value: 'd', confidence: 0.5 }, { value: 'r', confidence: 0.7 }, { value: 'e', confidence: 0.95 }),
			input: { task: 't' },
			confidence: 0.95,
			value: { answer: 'e', stage: 'expert', stages: 3, target_reached: true },
		}, 'expert');
		// minConfidence 0.95: 0.9, 0.9 < 0.95 → expert 0.9, still below
		await runCase(ctx, w, {
			agents: stages({ value: 'd', confidence: 0.9 }, { value: 'r', confidence: 0.9 }, { value: 'e', confidence: 0.9 }),
			input: { task: 't', minConfidence: 0.95 },
			confidence: 0.9,
			value: { answer: 'e', stage: 'expert', stages: 3, target_reached: false },
		}, 'not reached');
	});

	test('each stage gets the previous answer (an echo expert shows it)', async () => {
		// echo answers with its data at confidence 1
		await runCase(ctx, w, {
			agents: stages({ value: 'draft text', confidence: 0.5 }, { value: 'refined text', confidence: 0.6 }, { type: 'echo' }),
			input: { task: 'write', data: { topic: 'x' } },
			confidence: 1,
			value: { answer: { task: 'write', data: { topic: 'x' }, previous: 'refined text' }, stage: 'expert', stages: 3 },
		}, 'echo');
	});
});

describe(`multi-validator [${backend}]`, () => {
	let w;
	const validators = (lead, panel) => [
		{ name: 'lead', capabilities: ['lead-validation'], value: 'ok', confidence: lead },
		...panel.map((c, i) => (c === FAIL
			? { name: `p${i + 1}`, capabilities: ['validation'], value: 'x', fail: true }
			: { name: `p${i + 1}`, capabilities: ['validation'], value: 'ok', confidence: c })),
	];
	before(async () => {
		w = await patternWorkspace(ctx, 'multi-validator');
	});

	test('fast path: a lead at 0.95, and at exactly 0.9, decides alone', async () => {
		for (const lead of [0.95, 0.9]) {
			// one validator, valid (> 0.6): strength |1 - 0| / 1 = 1
			const run = await runCase(ctx, w, {
				agents: validators(lead, [0.1, 0.1]),
				input: { task: 't' },
				confidence: lead,
				value: { valid: true, fast_path: true, valid_votes: 1, invalid_votes: 0, validators: 1, strength: 1 },
			}, `fast ${lead}`);
			skipped(run, 'panel');
		}
	});

	test('slow path: the mean of lead and panel; strength |valid - invalid| / total', async () => {
		// (0.7 + 0.8 + 0.5) / 3 = 0.666667 > 0.6 → valid; votes: 0.7, 0.8 valid, 0.5 invalid → |2 - 1| / 3
		const run = await runCase(ctx, w, {
			agents: validators(0.7, [0.8, 0.5]),
			input: { task: 't' },
			confidence: 0.666667,
			value: { valid: true, fast_path: false, valid_votes: 2, invalid_votes: 1, validators: 3, strength: 0.333333 },
		}, 'slow');
		ran(run, 'panel');
	});

	test('exactly 0.6 is not valid; a failed validator counts 0 and invalid', async () => {
		// (0.6 + 0.9 + 0) / 3 = 0.5 → invalid; votes: 0.9 valid; 0.6 and the failure invalid → |1 - 2| / 3
		await runCase(ctx, w, {
			agents: validators(0.6, [0.9, FAIL]),
			input: { task: 't' },
			confidence: 0.5,
			value: { valid: false, fast_path: false, valid_votes: 1, invalid_votes: 2, validators: 3, strength: 0.333333 },
		}, 'failure');
	});

	test('a failed lead fails the run', async () => {
		await setAgents(ctx, w, [{ name: 'lead', capabilities: ['lead-validation'], value: 'x', fail: true },
			...validators(0.9, [0.9]).slice(1)]);
		const run = expectStatus(await runPattern(ctx, w, { task: 't' }), 200, 'failed lead');
		assert.equal(run.status, 'failed');
		assert.equal(run.error.node, 'lead');
	});

	test('a tied panel has strength 0', async () => {
		// (0.8 + 0.5) / 2 = 0.65 > 0.6 → valid; 1 valid, 1 invalid → 0
		await runCase(ctx, w, {
			agents: validators(0.8, [0.5]),
			input: { task: 't' },
			confidence: 0.65,
			value: { valid: true, valid_votes: 1, invalid_votes: 1, validators: 2, strength: 0 },
		}, 'tie');
	});
});

describe(`load-balancer [${backend}]`, () => {
	let w;
	const workers = (rows) => constants('worker', rows);
	before(async () => {
		w = await patternWorkspace(ctx, 'load-balancer');
	});

	test('workers at exactly 0.5: one call, no fallback', async () => {
		// the least loaded (idle: the first by name) answers 0.5 ≥ 0.5
		await runCase(ctx, w, {
			agents: workers([['one', 0.5], ['two', 0.5]]),
			input: { task: 't' },
			confidence: 0.5,
			value: { answer: 'one', answered_by: 'a1', fallback: false, calls: 1 },
		}, 'single');
	});

	test('a failing worker: everyone is asked and the one that works answers', async () => {
		// a1 (idle, first by name) fails → every worker: a1 fails again, a2 0.8 → 1 + 2 calls
		await runCase(ctx, w, {
			agents: workers([FAIL, ['done', 0.8]]),
			input: { task: 't' },
			confidence: 0.8,
			value: { answer: 'done', answered_by: 'a2', fallback: true, calls: 3 },
		}, 'failure');
	});

	test('unsure workers (below 0.5): everyone is asked, the best wins', async () => {
		// a1 0.4 < 0.5 → every worker: 0.4, 0.45 → a2's 0.45
		await runCase(ctx, w, {
			agents: workers([['maybe', 0.4], ['perhaps', 0.45]]),
			input: { task: 't' },
			confidence: 0.45,
			value: { answer: 'perhaps', answered_by: 'a2', fallback: true, calls: 3 },
		}, 'unsure');
	});

	test('every worker failing fails the run', async () => {
		await setAgents(ctx, w, workers([FAIL, FAIL]));
		const run = expectStatus(await runPattern(ctx, w, { task: 't' }), 200, 'all fail');
		assert.equal(run.status, 'failed');
		assert.equal(run.error.node, 'balance');
	});

	test('concurrent runs go to different workers (least loaded)', async () => {
		await setAgents(ctx, w, [
			{ name: 'a1', capabilities: ['worker'], value: 'one', confidence: 0.9, delay_ms: 1500 },
			{ name: 'a2', capabilities: ['worker'], value: 'two', confidence: 0.9, delay_ms: 1500 },
		]);
		const first = runPattern(ctx, w, { task: 't' });
		await new Promise((r) => setTimeout(r, 400));
		const second = runPattern(ctx, w, { task: 't' });
		const runs = [];
		for (const res of await Promise.all([first, second])) {
			const run = expectStatus(res, 200, 'concurrent run');
			assert.equal(run.status, 'succeeded', JSON.stringify(run.error));
			near(run.result.confidence, 0.9, 'confidence');
			runs.push(run.result.value.answered_by);
		}
		assert.deepEqual(runs.sort(), ['a1', 'a2']);
	});
});
