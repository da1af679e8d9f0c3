// A test run from the builder: a form made from the saved version's input schema (the same
// checks as the property panel), submitted to the queue (POST /api/v1/executions), then
// the execution's event stream drives each node's state on the canvas: queued, running,
// succeeded, failed or skipped, with its confidence and duration. When the stream says the
// execution finished, its steps are read once, so the canvas ends on the stored record.
import { useEffect, useRef, useState } from 'react';
import { api, refusal } from './api.js';
import { check, kindOf } from './PropertyPanel.jsx';

const EVENTS = ['node_started', 'node_finished', 'node_failed', 'node_skipped', 'waiting_approval', 'execution_finished'];
const TERMINAL = new Set(['succeeded', 'failed', 'cancelled', 'timed_out']);

// The input schema's fields, in the schema's order.
function fieldsOf(schema) {
	const props = schema && typeof schema === 'object' && schema.properties && typeof schema.properties === 'object' ? schema.properties : {};
	const required = new Set(Array.isArray(schema?.required) ? schema.required : []);
	return Object.entries(props).map(([name, s]) => ({ name, schema: s && typeof s === 'object' ? s : {}, required: required.has(name) }));
}

function InputField({ f, text, error, onText }) {
	const kind = kindOf(f.schema);
	const id = `run-in-${f.name}`;
	const common = { id, 'aria-describedby': `${id}-hint`, 'aria-invalid': error ? 'true' : undefined, required: f.required };
	let control;
	if (kind === 'boolean') {
		control = <input type="checkbox" id={id} checked={text === 'true'} onChange={(e) => onText(e.target.checked ? 'true' : 'false')} aria-describedby={`${id}-hint`} />;
	} else if (kind === 'enum') {
		control = (
			<select {...common} value={text} onChange={(e) => onText(e.target.value)}>
				<option value="">—</option>
				{f.schema.enum.map((o) => (
					<option key={String(o)} value={String(o)}>{String(o)}</option>
				))}
			</select>
		);
	} else if (kind === 'json' || (kind === 'string' && !(f.schema.maxLength <= 200))) {
		control = <textarea {...common} rows={kind === 'json' ? 3 : 2} spellCheck="false" value={text} onChange={(e) => onText(e.target.value)} />;
	} else {
		const num = kind === 'integer' || kind === 'number';
		control = <input {...common} type={num ? 'number' : 'text'} step={kind === 'integer' ? 1 : 'any'} min={f.schema.minimum} max={f.schema.maximum} value={text} onChange={(e) => onText(e.target.value)} />;
	}
	return (
		<div className={`prop${error ? ' prop-bad' : ''}`}>
			<label htmlFor={id}>
				{f.name}
				{f.required ? <span className="req" aria-hidden="true"> *</span> : null}
				<span className="muted prop-kind"> {kind === 'json' ? f.schema.type || 'JSON' : kind}</span>
			</label>
			{control}
			<p className={error ? 'prop-error' : 'muted prop-hint'} id={`${id}-hint`} role={error ? 'alert' : undefined}>
				{error || f.schema.description || ''}
			</p>
		</div>
	);
}

// The node states an execution's steps end on (the record, not the stream).
function statesFromSteps(steps) {
	const out = {};
	for (const s of steps || []) {
		if (!s || typeof s.node_id !== 'string') continue;
		const ms = s.started_at && s.finished_at ? Date.parse(s.finished_at) - Date.parse(s.started_at) : null;
		out[s.node_id] = { status: s.status, confidence: typeof s.confidence === 'number' ? s.confidence : null, duration_ms: Number.isFinite(ms) ? ms : null, error: s.error || null };
	}
	return out;
}

export default function RunPanel({ pattern, schema, nodeIds, dirty, onRun }) {
	const fields = fieldsOf(schema);
	const [texts, setTexts] = useState(() => Object.fromEntries(fields.map((f) => [f.name, f.schema.default !== undefined ? (kindOf(f.schema) === 'json' ? JSON.stringify(f.schema.default) : String(f.schema.default)) : kindOf(f.schema) === 'boolean' ? 'false' : ''])));
	const [errors, setErrors] = useState({});
	const [refused, setRefused] = useState(null);
	const [busy, setBusy] = useState(false);
	const [exec, setExec] = useState(null); // {id, status}
	const source = useRef(null);
	useEffect(() => () => source.current && source.current.close(), []);

	const follow = (id, states) => {
		if (source.current) source.current.close();
		let done = false;
		const es = new EventSource(`/api/v1/executions/${encodeURIComponent(id)}/events?follow=1`);
		source.current = es;
		const set = (node, st) => {
			states = { ...states, [node]: { ...(states[node] || {}), ...st } };
			onRun({ id, nodes: states });
		};
		const finish = async () => {
			if (done) return;
			done = true;
			es.close();
			const r = await api('GET', `/api/v1/executions/${encodeURIComponent(id)}`);
			if (r.status !== 200 || !r.json) return;
			// the record wins, but what it does not say (an agent node's confidences) stays
			for (const [n, st] of Object.entries(statesFromSteps(r.json.steps))) {
				const was = states[n] || {};
				states = { ...states, [n]: { ...st, confidence: st.confidence ?? was.confidence ?? null, confidences: was.confidences || null, duration_ms: st.duration_ms ?? was.duration_ms ?? null } };
			}
			// a node the run never reached stays queued no longer: it did not run
			for (const n of Object.keys(states)) if (states[n].status === 'queued' || states[n].status === 'running') states[n] = { status: TERMINAL.has(r.json.status) ? 'skipped' : states[n].status };
			onRun({ id, nodes: states, status: r.json.status });
			setExec({ id, status: r.json.status });
		};
		for (const type of EVENTS) {
			es.addEventListener(type, (m) => {
				let ev;
				try {
					ev = JSON.parse(m.data);
				} catch {
					return;
				}
				const d = ev.data || {};
				if (type === 'execution_finished') finish();
				else if (!ev.node) return;
				else if (type === 'node_started') set(ev.node, { status: 'running' });
				else if (type === 'node_finished') set(ev.node, { status: 'succeeded', confidence: d.confidence ?? null, confidences: Array.isArray(d.confidences) ? d.confidences : null, duration_ms: d.duration_ms ?? null });
				else if (type === 'node_failed') set(ev.node, { status: 'failed', duration_ms: d.duration_ms ?? null, error: d.error || null });
				else if (type === 'node_skipped') set(ev.node, { status: 'skipped' });
				else if (type === 'waiting_approval') set(ev.node, { status: 'waiting' });
			});
		}
		// the server ends the stream when the execution has ended; a drop before that reconnects
		es.onerror = () => {
			if (es.readyState === EventSource.CLOSED) finish();
		};
	};

	const submit = async (e) => {
		e.preventDefault();
		if (busy || dirty) return;
		const input = {};
		const errs = {};
		for (const f of fields) {
			const kind = kindOf(f.schema);
			const text = texts[f.name] ?? '';
			if (kind === 'boolean') {
				input[f.name] = text === 'true';
				continue;
			}
			const r = check(kind, f.schema, text, f.required);
			if (r.error) errs[f.name] = r.error;
			else if (r.value !== undefined) input[f.name] = r.value;
		}
		setErrors(errs);
		setRefused(null);
		if (Object.keys(errs).length) return;
		setBusy(true);
		const r = await api('POST', '/api/v1/executions', { pattern: pattern.id, version: pattern.version, input });
		setBusy(false);
		if ((r.status !== 202 && r.status !== 201) || !r.json || !r.json.id) {
			const field = r.json && r.json.error && r.json.error.field;
			const m = /^input\.([^.[]+)/.exec(field || '');
			if (m && fields.some((f) => f.name === m[1])) setErrors({ [m[1]]: refusal(r) });
			else setRefused(refusal(r));
			return;
		}
		const states = Object.fromEntries(nodeIds.map((id) => [id, { status: 'queued' }]));
		setExec({ id: r.json.id, status: r.json.status || 'queued' });
		onRun({ id: r.json.id, nodes: states });
		follow(r.json.id, states);
	};

	return (
		<section className="bl-run card" aria-labelledby="run-h">
			<h2 id="run-h">Test run</h2>
			<form onSubmit={submit} noValidate id="run-form">
				{fields.length ? fields.map((f) => <InputField key={f.name} f={f} text={texts[f.name] ?? ''} error={errors[f.name]} onText={(t) => setTexts((x) => ({ ...x, [f.name]: t }))} />) : <p className="muted">This pattern takes no input.</p>}
				{refused ? (
					<p className="prop-error" role="alert">
						Not run: {refused}
					</p>
				) : null}
				<button type="submit" className="primary" disabled={busy || dirty} id="run-submit" aria-describedby="run-hint">
					{busy ? 'Submitting…' : `Run v${pattern.version}`}
				</button>
				<p className="muted" id="run-hint">
					{dirty ? 'Save first: a run uses the saved version.' : 'Runs the saved version through the queue; the canvas shows each node live.'}
				</p>
			</form>
			{exec ? (
				<p id="run-status" role="status">
					<a href={`/executions/${encodeURIComponent(exec.id)}`}>Execution</a> <span className={`badge s-${exec.status}`}>{exec.status === 'queued' ? 'running' : exec.status}</span>
				</p>
			) : null}
		</section>
	);
}
