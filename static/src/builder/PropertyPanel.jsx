// The selected node's properties: its id, then one field per option of its type's option
// schema (as GET /api/v1/node-types publishes it), so a new node type needs no change here.
// Each field checks as you type (required, ranges, lengths, enums, JSON for objects and
// arrays); a value reaches the document only when it passes, so the canvas, the YAML and
// the server's validation always see a well-formed node.
import { useState } from 'react';
import { ID_RE } from './doc.js';

export function kindOf(schema) {
	const t = Array.isArray(schema.type) ? schema.type[0] : schema.type;
	if (Array.isArray(schema.enum)) return 'enum';
	if (t === 'integer' || t === 'number' || t === 'boolean' || t === 'string') return t;
	return 'json'; // object, array, or any value
}

// The text a field shows for a value.
function shown(kind, v) {
	if (v === undefined || v === null) return '';
	if (kind === 'json') return JSON.stringify(v, null, 2);
	return String(v);
}

// text -> {value} (undefined: leave the option out) or {error}.
export function check(kind, schema, text, required) {
	const t = text.trim();
	if (t === '') return required ? { error: 'Required.' } : { value: undefined };
	if (kind === 'integer' || kind === 'number') {
		const n = Number(t);
		if (!Number.isFinite(n)) return { error: 'Enter a number.' };
		if (kind === 'integer' && !Number.isInteger(n)) return { error: 'Enter a whole number.' };
		if (schema.minimum !== undefined && n < schema.minimum) return { error: `At least ${schema.minimum}.` };
		if (schema.maximum !== undefined && n > schema.maximum) return { error: `At most ${schema.maximum}.` };
		return { value: n };
	}
	if (kind === 'boolean') return { value: t === 'true' };
	if (kind === 'enum') return { value: schema.enum.find((e) => String(e) === t) };
	if (kind === 'string') {
		if (schema.maxLength !== undefined && text.length > schema.maxLength) return { error: `At most ${schema.maxLength} characters.` };
		return { value: text };
	}
	try {
		const v = JSON.parse(t);
		const want = schema.type;
		if (want === 'object' && (typeof v !== 'object' || v === null || Array.isArray(v))) return { error: 'Enter a JSON object, {…}.' };
		if (want === 'array' && !Array.isArray(v)) return { error: 'Enter a JSON array, […].' };
		return { value: v };
	} catch (e) {
		return { error: `Not JSON: ${e.message}` };
	}
}

function Field({ nodeId, name, schema, required, value, onChange, readOnly, server }) {
	const kind = kindOf(schema);
	const [text, setText] = useState(() => shown(kind, value));
	const [error, setError] = useState(() => (required && (value === undefined || value === null) ? 'Required.' : ''));
	const id = `prop-${nodeId}-${name}`;
	const hint = `${id}-hint`;
	const change = (t) => {
		setText(t);
		const r = check(kind, schema, t, required);
		setError(r.error || '');
		if (!r.error) onChange(name, r.value);
	};
	const common = {
		id,
		'aria-describedby': hint,
		'aria-invalid': error ? 'true' : undefined,
		disabled: readOnly,
	};
	let control;
	if (kind === 'enum' || kind === 'boolean') {
		const options = kind === 'boolean' ? ['true', 'false'] : schema.enum.map(String);
		control = (
			<select {...common} value={text} onChange={(e) => change(e.target.value)}>
				<option value="">{schema.default !== undefined ? `default (${schema.default})` : '—'}</option>
				{options.map((o) => (
					<option key={o} value={o}>{o}</option>
				))}
			</select>
		);
	} else if (kind === 'json' || schema.format === 'jq' || (schema.maxLength || 0) > 1000) {
		control = <textarea {...common} rows={kind === 'json' ? 4 : 2} spellCheck="false" value={text} onChange={(e) => change(e.target.value)} />;
	} else {
		const num = kind === 'integer' || kind === 'number';
		control = (
			<input
				{...common}
				type={num ? 'number' : 'text'}
				step={kind === 'integer' ? 1 : 'any'}
				min={schema.minimum}
				max={schema.maximum}
				placeholder={schema.default !== undefined ? `default ${schema.default}` : undefined}
				value={text}
				onChange={(e) => change(e.target.value)}
			/>
		);
	}
	const range = schema.minimum !== undefined && schema.maximum !== undefined ? ` ${schema.minimum} to ${schema.maximum}.` : '';
	// the field's own check first; then what the server said of the value it has (a jq
	// expression is compiled there, as the pattern is validated after each change)
	const said = !error && server ? server : '';
	return (
		<div className={`prop${error || said ? ' prop-bad' : ''}`} data-prop={name}>
			<label htmlFor={id}>
				{name}
				{required ? <span className="req" aria-hidden="true"> *</span> : null}
				<span className="muted prop-kind"> {kind === 'json' ? schema.type || 'JSON' : kind}{schema.format === 'jq' ? ' (jq)' : ''}</span>
			</label>
			{control}
			<p className={error || said ? 'prop-error' : 'muted prop-hint'} id={hint} role={error || said ? 'alert' : undefined}>
				{error || said || `${schema.description || ''}${range}`}
			</p>
		</div>
	);
}

// The server's problems with this node, by option: nodes[3].expr -> expr.
function serverByOption(problems) {
	const m = {};
	for (const p of problems || []) {
		const r = /^nodes\[\d+\]\.([A-Za-z0-9_]+)/.exec(p.path || '');
		if (r && !m[r[1]]) m[r[1]] = p.message;
	}
	return m;
}

// The node's sources as checkboxes, one per port of every other node: connecting without a
// pointer. A source that would close a cycle is offered disabled.
function Sources({ node, nodes, types, edges, wouldCycle, onSource }) {
	const others = nodes.filter((n) => n.id !== node.id);
	if (!others.length) return null;
	const has = (src, port) => edges.some((e) => e.target === node.id && e.source === src && (e.sourceHandle || 'out') === port);
	return (
		<fieldset className="sources">
			<legend>From</legend>
			{others.map((o) => {
				const t = types.get(o.data.def.type);
				return (t ? t.ports : ['out']).map((port) => {
					const on = has(o.id, port);
					const id = `src-${node.id}-${o.id}-${port}`;
					return (
						<div className="source" key={`${o.id}.${port}`}>
							<input type="checkbox" id={id} checked={on} disabled={!on && wouldCycle(o.id, node.id)} onChange={(e) => onSource(o.id, port, e.target.checked)} />
							<label htmlFor={id}>
								<code>{port === 'out' ? o.id : `${o.id}.${port}`}</code>
							</label>
						</div>
					);
				});
			})}
		</fieldset>
	);
}

export default function PropertyPanel({ node, type, nodes, readOnly, onOption, onRename, sources, problems }) {
	const server = serverByOption(problems);
	const [idText, setIdText] = useState(node.id);
	const [idError, setIdError] = useState('');
	const schema = (type && type.options_schema) || {};
	const props = schema.properties || {};
	const required = new Set(schema.required || []);
	const renamed = (t) => {
		setIdText(t);
		if (!ID_RE.test(t)) setIdError('1 to 64 characters: letters, digits, _ and -.');
		else if (t !== node.id && nodes.some((n) => n.id === t)) setIdError('Another node has this id.');
		else {
			setIdError('');
			if (t !== node.id) onRename(node.id, t);
		}
	};
	const def = node.data.def;
	return (
		<form className="props" onSubmit={(e) => e.preventDefault()} aria-label={`Properties of ${node.id}`}>
			<fieldset disabled={readOnly}>
				<div className={`prop${idError ? ' prop-bad' : ''}`}>
					<label htmlFor="prop-node-id">Node id</label>
					<input id="prop-node-id" value={idText} onChange={(e) => renamed(e.target.value)} aria-invalid={idError ? 'true' : undefined} aria-describedby="prop-node-id-hint" spellCheck="false" />
					<p className={idError ? 'prop-error' : 'muted prop-hint'} id="prop-node-id-hint" role={idError ? 'alert' : undefined}>
						{idError || `Type ${def.type}. Other nodes name it in their from.`}
					</p>
				</div>
				{!type || type.takes_input ? <Sources node={node} nodes={nodes} {...sources} /> : null}
				{!type ? <p className="prop-error">Unknown node type {def.type}: the server publishes no such type.</p> : null}
				{Object.keys(props).length === 0 && type ? <p className="muted">A {def.type} node has no options.</p> : null}
				{Object.entries(props).map(([name, s]) => (
					<Field key={name} nodeId={node.id} name={name} schema={s} required={required.has(name)} value={def[name]} onChange={onOption} readOnly={readOnly} server={server[name]} />
				))}
			</fieldset>
		</form>
	);
}
