// A ws agent: a real process that dials /api/v1/agents/connect with its connect token and
// answers tasks. Usage: node ws-agent.mjs <server-url> <token> [options as JSON]
//   {capabilities: [...], confidence: 0.8, delay_ms: 0, silent: false, fail: false,
//    heartbeat_ms: 10000}
// It prints one JSON line per event on stdout: {event:"welcome"|"task"|"cancel"|"error"|
// "closed", ...}, so a test can follow it. It exits when stdin closes.
import WebSocket from 'ws';

const [base, token, optText] = process.argv.slice(2);
const opts = { confidence: 0.8, delay_ms: 0, heartbeat_ms: 10000, ...(optText ? JSON.parse(optText) : {}) };
const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

const url = `${base.replace(/^http/, 'ws')}/api/v1/agents/connect`;
const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${token}` } });
let beat = null;

ws.on('open', () => {
	ws.send(JSON.stringify({ type: 'hello', name: 'ws-test-agent', ...(opts.capabilities ? { capabilities: opts.capabilities } : {}) }));
	beat = setInterval(() => ws.send(JSON.stringify({ type: 'heartbeat' })), opts.heartbeat_ms);
});
ws.on('unexpected-response', (_req, res) => {
	say({ event: 'refused', status: res.statusCode });
	process.exit(0);
});
ws.on('message', (buf) => {
	const m = JSON.parse(buf.toString());
	if (m.type === 'welcome') say({ event: 'welcome', agent_id: m.agent_id, heartbeat_ms: m.heartbeat_ms });
	else if (m.type === 'cancel') say({ event: 'cancel', task_id: m.task_id });
	else if (m.type === 'error') say({ event: 'error', message: m.message });
	else if (m.type === 'task') {
		say({ event: 'task', task_id: m.task_id, execution_id: m.execution_id, node_id: m.node_id, task: m.task, data: m.data, deadline_ms: m.deadline_ms });
		if (opts.silent) return;
		setTimeout(() => {
			const reply = opts.fail
				? { type: 'result', task_id: m.task_id, error: 'the model is overloaded' }
				: { type: 'result', task_id: m.task_id, value: { echo: m.data, task: m.task }, confidence: opts.confidence, reasoning: 'ws agent', usage: { input_tokens: 5, output_tokens: 3 } };
			ws.send(JSON.stringify(reply));
		}, opts.delay_ms);
	}
});
ws.on('close', (code) => {
	clearInterval(beat);
	say({ event: 'closed', code });
	process.exit(0);
});
ws.on('error', (e) => say({ event: 'error', message: String(e.message || e) }));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
