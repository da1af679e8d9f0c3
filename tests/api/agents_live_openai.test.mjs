// Live openai agents against a real OpenAI-compatible server process
// (tests/agents/openai-agent.mjs): the chat-completions request (model, system and user
// messages, temperature, response_format, Authorization with the write-only api key),
// JSON-mode and marker confidences, token usage, and failures (docs/engine.md "Agent
// protocols").
import test, { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startOpenAIAgent, OPENAI_USAGE } from '../agents/agents.mjs';
import {
	agentWithPattern,
	api,
	assertFailedAt,
	assertSucceeded,
	expectStatus,
	liveServer,
	runPattern,
	uniq,
} from './helpers/live.mjs';

const API_KEY = `sk-live-${randomBytes(16).toString('hex')}`;
const TASK = 'Answer the question';
const PAYLOAD = { q: 'six-times-seven', n: 42 };
const RUN_USAGE = { input_tokens: OPENAI_USAGE.prompt_tokens, output_tokens: OPENAI_USAGE.completion_tokens };

let ctx, oa;

before(async () => {
	oa = await startOpenAIAgent();
	ctx = await liveServer();
});

after(async () => {
	await oa?.stop();
	await ctx?.stop();
});

// An openai agent at <oa>/<behaviour>/v1 and its pattern; `config` adds to the agent config.
function setup(behaviour, config = {}, node = {}) {
	return agentWithPattern(
		ctx,
		{ kind: 'openai', config: { base_url: `${oa.url}/${behaviour}/v1`, model: 'test-model-x', ...config } },
		{ task: TASK, ...node },
	);
}

async function completionsFor(behaviour) {
	return oa.requests({ path: `/${behaviour}/v1/chat/completions` });
}

describe('openai agents', () => {
	test('JSON mode: the confidence member is the confidence and leaves the value', async () => {
		const behaviour = `json/0.72/${uniq('k')}`;
		const { pattern } = await setup(behaviour, { api_key: API_KEY, system: 'You are terse.', temperature: 0.3, json_mode: true });
		const { run, res } = await runPattern(ctx, pattern, { payload: PAYLOAD });
		const r = assertSucceeded(run);
		assert.deepEqual(r.value, { answer: 'forty-two' }, 'confidence removed from the value');
		assert.equal(r.confidence, 0.72);
		assert.equal(run.result.confidence, 0.72);
		assert.deepEqual(run.usage, RUN_USAGE, 'prompt/completion tokens recorded as the run usage');
		assert.ok(!res.text.includes(API_KEY), 'the run never shows the api key');

		const reqs = await completionsFor(behaviour);
		assert.equal(reqs.length, 1);
		const [rq] = reqs;
		assert.equal(rq.method, 'POST');
		assert.equal(rq.headers.authorization, `Bearer ${API_KEY}`);
		assert.match(rq.headers['content-type'] || '', /^application\/json/);
		const b = rq.json;
		assert.equal(b.model, 'test-model-x');
		assert.equal(b.temperature, 0.3);
		assert.deepEqual(b.response_format, { type: 'json_object' });
		assert.equal(b.messages.length, 2, `system + user: ${JSON.stringify(b.messages)}`);
		assert.deepEqual(b.messages[0], { role: 'system', content: 'You are terse.' });
		assert.equal(b.messages[1].role, 'user');
		const user = b.messages[1].content;
		assert.ok(user.startsWith(TASK), `the user message starts with the task: ${JSON.stringify(user)}`);
		assert.ok(user.replace(/\s+/g, '').includes(JSON.stringify(PAYLOAD)), `then the data as JSON: ${JSON.stringify(user)}`);
		assert.equal(rq.headers['idempotency-key'], `${run.id}/ask`);
		assert.match(rq.headers.traceparent || '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/);
	});

	test('text: the last CONFIDENCE marker, ANSI codes stripped', async () => {
		const behaviour = `marker/0.64/${uniq('k')}`;
		const { pattern } = await setup(behaviour);
		const { run } = await runPattern(ctx, pattern, { payload: PAYLOAD });
		const r = assertSucceeded(run);
		assert.equal(r.confidence, 0.64, 'the last marker, not the decoy 0.10');
		assert.equal(typeof r.value, 'string');
		assert.match(r.value, /forty-two/);
		assert.deepEqual(run.usage, RUN_USAGE);
		const [rq] = await completionsFor(behaviour);
		assert.ok(!('response_format' in rq.json), 'no response_format without json_mode');
		assert.equal(rq.json.messages.length, 1, 'no system message without a system prompt');
		assert.equal(rq.json.messages[0].role, 'user');
		assert.equal(rq.headers.authorization, undefined, 'no Authorization without an api key');
	});

	test('text without a marker: no signal', async () => {
		const { pattern } = await setup('none');
		const { run } = await runPattern(ctx, pattern, { payload: PAYLOAD });
		const r = assertSucceeded(run);
		assert.equal(r.confidence, null);
		assert.match(r.value, /forty-two/);
	});

	test('usage is counted per run', async () => {
		const behaviour = `json/0.9/${uniq('k')}`;
		const { pattern } = await setup(behaviour, { json_mode: true });
		const first = await runPattern(ctx, pattern, { payload: 1 });
		assert.deepEqual(first.run.usage, RUN_USAGE);
		const second = await runPattern(ctx, pattern, { payload: 2 });
		assert.deepEqual(second.run.usage, RUN_USAGE, 'usage is per run');
	});

	test('a slow completion fails at the node timeout', async () => {
		const { pattern } = await setup('slow/5000', {}, { timeout_ms: 300 });
		const { run, ms } = await runPattern(ctx, pattern, { payload: 1 });
		assertFailedAt(run, /time|within 300 ms/i);
		assert.ok(ms < 2500, `the run ended after ${ms} ms`);
	});

	test('HTTP 500 fails the step naming the status', async () => {
		const { pattern } = await setup('fail');
		const { run } = await runPattern(ctx, pattern, { payload: 1 });
		assertFailedAt(run, /\b500\b/);
	});

	test('a reply that is not JSON fails the step with a clear reason', async () => {
		const { pattern } = await setup('malformed');
		const { run } = await runPattern(ctx, pattern, { payload: 1 });
		assertFailedAt(run, /json/i);
	});

	test('the api key is never returned: agent, list, test', async () => {
		const { agent: a } = await setup(`json/0.5/${uniq('k')}`, { api_key: API_KEY, json_mode: true });
		for (const p of [`/api/v1/agents/${a.id}`, '/api/v1/agents', `/api/v1/agents/${a.id}/health`]) {
			const res = await api(ctx, 'GET', p, ctx.dev.token);
			expectStatus(res, 200, p);
			assert.ok(!res.text.includes(API_KEY), `${p} never shows the key`);
		}
		const t = await api(ctx, 'POST', `/api/v1/agents/${a.id}/test`, ctx.dev.token, { task: 'ping' });
		expectStatus(t, 200, 'test');
		assert.ok(!t.text.includes(API_KEY), '/test never shows the key');
		const log = ctx.server.stderr() + ctx.server.stdout();
		assert.ok(!log.includes(API_KEY), 'the server log holds no key');
	});
});
