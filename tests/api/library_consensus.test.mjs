// Runs of the built-in consensus family (consensus-builder, simple-consensus,
// epistemic-orchestrator, multi-model-voting) with builtin constant agents a1, a2, ...
// (results come in agent name order). Every expected number is worked out by hand from
// SPEC §3 and each pattern's description; the arithmetic is in the comment above it.
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

describe(`consensus-builder [${backend}]`, () => {
	let w;
	const code = { code: 'int main(void) { return 0; }' };
	const cb = (rows) => constants('code-analysis', rows);
	before(async () => {
		w = await patternWorkspace(ctx, 'consensus-builder');
	});

	test('weighted by expertise; 0.8 is not above 0.8, so two high results: moderate', async () => {
		// (0.9·0.9 + 0.8·0.5 + 0.85·0.7) / (0.9 + 0.5 + 0.7) = (0.81 + 0.4 + 0.595) / 2.1 = 1.805 / 2.1
		// high (> 0.8): 0.9 and 0.85 → 2, and 0.859524 > 0.6 → moderate_consensus
		await runCase(ctx, w, {
			agents: cb([['approve', 0.9, 0.9], ['approve', 0.8, 0.5], ['revise', 0.85, 0.7]]),
			input: code,
			confidence: 0.859524,
			value: { status: 'moderate_consensus', recommendation: 'approve', recommended_by: 'a1', high_confidence: 2, agents: 3 },
		}, 'moderate');
	});

	test('three above 0.8 and a confidence above 0.8: strong', async () => {
		// (0.95·1 + 0.9·0.5 + 0.85·0.5) / (1 + 0.5 + 0.5) = (0.95 + 0.45 + 0.425) / 2 = 1.825 / 2 = 0.9125
		await runCase(ctx, w, {
			agents: cb([['approve', 0.95, 1], ['approve', 0.9, 0.5], ['approve', 0.85, 0.5]]),
			input: code,
			confidence: 0.9125,
			value: { status: 'strong_consensus', recommendation: 'approve', recommended_by: 'a1', high_confidence: 3 },
		}, 'strong');
	});

	test('a failed analyst counts 0 with its expertise; the tie for the best goes to the first', async () => {
		// (0.9·0.5 + 0·0.5 + 0.9·1) / (0.5 + 0.5 + 1) = (0.45 + 0 + 0.9) / 2 = 1.35 / 2 = 0.675
		// high: a1 and a3 → 2, 0.675 > 0.6 → moderate; recommendation: a1 and a3 tie at 0.9 → a1
		await runCase(ctx, w, {
			agents: cb([['keep', 0.9, 0.5], [FAIL, null, 0.5], ['rewrite', 0.9, 1]]),
			input: code,
			confidence: 0.675,
			value: { status: 'moderate_consensus', recommendation: 'keep', recommended_by: 'a1', high_confidence: 2 },
		}, 'failure and tie');
	});

	test('all exactly 0.8: nothing is above 0.8, weak', async () => {
		// (0.8·1 + 0.8·1 + 0.8·1) / 3 = 0.8; high: 0 → weak_consensus
		await runCase(ctx, w, {
			agents: cb([['a', 0.8, 1], ['b', 0.8, 1], ['c', 0.8, 1]]),
			input: code,
			confidence: 0.8,
			value: { status: 'weak_consensus', recommendation: 'a', high_confidence: 0 },
		}, 'boundary 0.8');
	});

	test('fewer than three analysts fail the run at the agent node', async () => {
		await setAgents(ctx, w, cb([['a', 0.9, 1], ['b', 0.9, 1]]));
		const res = await runPattern(ctx, w, code);
		assert.equal(res.status, 200, res.text);
		assert.equal(res.json.status, 'failed');
		assert.equal(res.json.result, null);
		assert.equal(res.json.error.node, 'analysts');
	});
});

describe(`simple-consensus [${backend}]`, () => {
	let w;
	const task = { task: 'Pick one' };
	const sc = (rows) => constants('general', rows);
	before(async () => {
		w = await patternWorkspace(ctx, 'simple-consensus');
	});

	test('the heavier group wins: agreement × its mean', async () => {
		// A: 0.9 + 0.8 = 1.7, B: 0.6; agreement 1.7 / 2.3 = 0.739130; mean (0.9 + 0.8) / 2 = 0.85
		// 0.739130 × 0.85 = 0.628261; 0.85 ≥ 0.7 and 0.739 ≥ 0.5 → consensus
		await runCase(ctx, w, {
			agents: sc([['A', 0.9], ['A', 0.8], ['B', 0.6]]),
			input: task,
			confidence: 0.628261,
			value: { answer: 'A', status: 'consensus', agreement: 0.739130, tied: false, votes: [{ value: 'A', count: 2 }, { value: 'B', count: 1 }] },
		}, 'A wins');
	});

	test('a tie goes to the first group; agreement exactly 0.5 still reaches consensus', async () => {
		// A: 0.8, B: 0.8 → tied; agreement 0.8 / 1.6 = 0.5, mean 0.8 → 0.5 × 0.8 = 0.4
		// 0.8 ≥ 0.7 and 0.5 ≥ 0.5 → consensus
		await runCase(ctx, w, {
			agents: sc([['A', 0.8], ['B', 0.8]]),
			input: task,
			confidence: 0.4,
			value: { answer: 'A', status: 'consensus', agreement: 0.5, tied: true },
		}, 'tie');
	});

	test('a failed agent is not counted', async () => {
		// A: 0.9, B: 0.5 (a2 failed) → agreement 0.9 / 1.4 = 0.642857, mean 0.9 → 0.578571
		await runCase(ctx, w, {
			agents: sc([['A', 0.9], FAIL, ['B', 0.5]]),
			input: task,
			confidence: 0.578571,
			value: { answer: 'A', status: 'consensus', agreement: 0.642857, votes: [{ value: 'A', count: 1 }, { value: 'B', count: 1 }] },
		}, 'failure');
	});

	test('three-way split: no consensus', async () => {
		// A 0.6, B 0.65, C 0.55: B wins with 0.65 / 1.8 = 0.361111; mean 0.65 → 0.234722
		// 0.361 < 0.5 → no_consensus
		await runCase(ctx, w, {
			agents: sc([['A', 0.6], ['B', 0.65], ['C', 0.55]]),
			input: task,
			confidence: 0.234722,
			value: { answer: 'B', status: 'no_consensus', agreement: 0.361111, tied: false },
		}, 'split');
	});
});

describe(`epistemic-orchestrator [${backend}]`, () => {
	let w;
	const task = { task: 'Is it safe?' };
	const ex = (rows) => constants('domain-expert', rows);
	before(async () => {
		w = await patternWorkspace(ctx, 'epistemic-orchestrator');
	});

	test('two confident experts disagree: valuable disagreement, their mean × 0.8', async () => {
		// above 0.8: a1 (A, 0.9) and a2 (B, 0.85) differ → (0.9 + 0.85) / 2 × 0.8 = 0.875 × 0.8 = 0.7
		await runCase(ctx, w, {
			agents: ex([['A', 0.9, 1], ['B', 0.85, 1], ['A', 0.5, 1]]),
			input: task,
			confidence: 0.7,
			value: {
				status: 'valuable_disagreement', conclusion: null, agreement: null,
				perspectives: [{ agent: 'a1', value: 'A', confidence: 0.9 }, { agent: 'a2', value: 'B', confidence: 0.85 }],
			},
		}, 'disagreement');
	});

	test('confident experts agree: the expertise-weighted consensus', async () => {
		// above 0.8 both say A → no disagreement. Weights c·e: A 0.9·1 + 0.85·0.5 = 1.325, B 0.6·1 = 0.6
		// agreement 1.325 / 1.925 = 0.688312; mean of A (0.9 + 0.85) / 2 = 0.875 → 0.602273
		await runCase(ctx, w, {
			agents: ex([['A', 0.9, 1], ['A', 0.85, 0.5], ['B', 0.6, 1]]),
			input: task,
			confidence: 0.602273,
			value: { status: 'consensus', conclusion: 'A', agreement: 0.688312 },
		}, 'agreement');
	});

	test('exactly 0.8 is not confident: one confident expert, no disagreement', async () => {
		// above 0.8: only a2 (B, 0.9). Weights: A 0.8, B 0.9 → B, agreement 0.9 / 1.7 = 0.529412
		// mean 0.9 → 0.476471; 0.9 ≥ 0.7 and 0.529 ≥ 0.5 → consensus
		await runCase(ctx, w, {
			agents: ex([['A', 0.8, 1], ['B', 0.9, 1]]),
			input: task,
			confidence: 0.476471,
			value: { status: 'consensus', conclusion: 'B', agreement: 0.529412, perspectives: [{ agent: 'a2', value: 'B' }] },
		}, 'boundary 0.8');
	});

	test('a failed expert is left out of the perspectives', async () => {
		// above 0.8: a1 (A, 0.95), a3 (B, 0.9) → (0.95 + 0.9) / 2 × 0.8 = 0.925 × 0.8 = 0.74
		await runCase(ctx, w, {
			agents: ex([['A', 0.95, 1], [FAIL, null, 1], ['B', 0.9, 0.5]]),
			input: task,
			confidence: 0.74,
			value: { status: 'valuable_disagreement', perspectives: [{ agent: 'a1' }, { agent: 'a3' }] },
		}, 'failure');
	});
});

describe(`multi-model-voting [${backend}]`, () => {
	let w;
	const task = { task: 'Which one?' };
	const mv = (rows) => constants('voting', rows);
	before(async () => {
		w = await patternWorkspace(ctx, 'multi-model-voting');
	});

	test('unanimous: the mean', async () => {
		// (0.9 + 0.8 + 0.7) / 3 = 0.8 → unanimous, 0.8 ≥ 0.6: no review
		await runCase(ctx, w, {
			agents: mv([['A', 0.9], ['A', 0.8], ['A', 0.7]]),
			input: task,
			confidence: 0.8,
			value: { decision: 'A', status: 'unanimous', counted: 3, needs_human_review: false, votes: [{ value: 'A', count: 3 }] },
		}, 'unanimous');
	});

	test('majority: mean × 0.8, and below 0.6 it needs review', async () => {
		// 2 of 3 > half → majority; (0.9 + 0.8 + 0.4) / 3 = 0.7 → 0.7 × 0.8 = 0.56 < 0.6 → review
		await runCase(ctx, w, {
			agents: mv([['A', 0.9], ['A', 0.8], ['B', 0.4]]),
			input: task,
			confidence: 0.56,
			value: { decision: 'A', status: 'majority', needs_human_review: true },
		}, 'majority, low');
		// (0.9 + 0.9 + 0.9) / 3 × 0.8 = 0.72 ≥ 0.6 → no review
		await runCase(ctx, w, {
			agents: mv([['A', 0.9], ['B', 0.9], ['A', 0.9]]),
			input: task,
			confidence: 0.72,
			value: { decision: 'A', status: 'majority', needs_human_review: false },
		}, 'majority, confident');
	});

	test('a 2-2 tie is a split: mean × 0.5, the first group decides, review', async () => {
		// A: a1, a3; B: a2, a4 → 2 is not more than half of 4; (0.9 + 0.8 + 0.7 + 0.6) / 4 = 0.75 → 0.375
		await runCase(ctx, w, {
			agents: mv([['A', 0.9], ['B', 0.8], ['A', 0.7], ['B', 0.6]]),
			input: task,
			confidence: 0.375,
			value: { decision: 'A', status: 'split', counted: 4, needs_human_review: true },
		}, 'tie');
	});

	test('three-way split: mean × 0.5', async () => {
		// (0.9 + 0.8 + 0.7) / 3 × 0.5 = 0.4
		await runCase(ctx, w, {
			agents: mv([['A', 0.9], ['B', 0.8], ['C', 0.7]]),
			input: task,
			confidence: 0.4,
			value: { decision: 'A', status: 'split', needs_human_review: true },
		}, 'split');
	});

	test('a failed model does not vote', async () => {
		// a2 failed: 2 counted, both A → unanimous, (0.9 + 0.8) / 2 = 0.85
		const run = await runCase(ctx, w, {
			agents: mv([['A', 0.9], FAIL, ['A', 0.8]]),
			input: task,
			confidence: 0.85,
			value: { decision: 'A', status: 'unanimous', counted: 2, needs_human_review: false },
		}, 'failure');
		const models = stepOf(run, 'models');
		assert.equal(models.output.length, 3, JSON.stringify(models.output));
		assert.ok(models.output[1].error, 'a2 failed');
	});
});
