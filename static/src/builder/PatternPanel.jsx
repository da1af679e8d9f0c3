// The pattern's own members, shown when no node is selected: its description, tags and the
// input schema (one row per input field: name, type, required, description, and the type's
// limits), so a pattern, input form included, can be written without the text panel. What
// the form does not know (a field's default, items, nested properties; the schema's other
// members) is kept as it is.
import { useRef, useState } from 'react';

const TYPES = ['any', 'string', 'number', 'integer', 'boolean', 'object', 'array'];
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

// text -> {value} (undefined when empty) or {error}
function num(text, integer) {
	const t = text.trim();
	if (t === '') return { value: undefined };
	const n = Number(t);
	if (!Number.isFinite(n)) return { error: 'Enter a number.' };
	if (integer && (!Number.isInteger(n) || n < 0)) return { error: 'Enter a whole number, 0 or more.' };
	return { value: n };
}

function set(obj, key, value) {
	const o = { ...obj };
	if (value === undefined) delete o[key];
	else o[key] = value;
	return o;
}

function Row({ name, schema, required, taken, readOnly, onChange, onRename, onRemove }) {
	const id = `in-${name}`;
	const [nameText, setNameText] = useState(name);
	const [nameError, setNameError] = useState('');
	const [texts, setTexts] = useState(() => ({
		minimum: schema.minimum !== undefined ? String(schema.minimum) : '',
		maximum: schema.maximum !== undefined ? String(schema.maximum) : '',
		maxLength: schema.maxLength !== undefined ? String(schema.maxLength) : '',
		enum: Array.isArray(schema.enum) ? schema.enum.join(', ') : '',
	}));
	const [errors, setErrors] = useState({});
	const type = typeof schema.type === 'string' ? schema.type : 'any';
	const limit = (key, text) => {
		setTexts((t) => ({ ...t, [key]: text }));
		let r;
		if (key === 'enum') {
			const items = text.split(',').map((s) => s.trim()).filter(Boolean);
			r = { value: items.length ? items : undefined };
		} else r = num(text, key === 'maxLength');
		setErrors((e) => ({ ...e, [key]: r.error || '' }));
		if (!r.error) onChange(set(schema, key, r.value), required);
	};
	const rename = (t) => {
		setNameText(t);
		if (!NAME_RE.test(t)) setNameError('Letters, digits and _, not starting with a digit.');
		else if (t !== name && taken.includes(t)) setNameError('Another field has this name.');
		else {
			setNameError('');
			if (t !== name) onRename(t);
		}
	};
	const retype = (t) => {
		let s = set(schema, 'type', t === 'any' ? undefined : t);
		// limits that the new type does not have go
		if (t !== 'number' && t !== 'integer') s = set(set(s, 'minimum', undefined), 'maximum', undefined);
		if (t !== 'string') s = set(set(s, 'maxLength', undefined), 'enum', undefined);
		onChange(s, required);
	};
	const field = (key, label, extra = {}) => (
		<div className={`prop${errors[key] ? ' prop-bad' : ''}`}>
			<label htmlFor={`${id}-${key}`}>{label}</label>
			<input id={`${id}-${key}`} value={texts[key]} onChange={(e) => limit(key, e.target.value)} aria-invalid={errors[key] ? 'true' : undefined} aria-describedby={`${id}-${key}-hint`} {...extra} />
			<p className={errors[key] ? 'prop-error' : 'muted prop-hint'} id={`${id}-${key}-hint`} role={errors[key] ? 'alert' : undefined}>
				{errors[key] || extra['data-hint'] || ''}
			</p>
		</div>
	);
	return (
		<fieldset className="in-field" data-field={name}>
			<legend>
				<code>{name}</code>
			</legend>
			<div className={`prop${nameError ? ' prop-bad' : ''}`}>
				<label htmlFor={`${id}-name`}>Name</label>
				<input id={`${id}-name`} value={nameText} onChange={(e) => rename(e.target.value)} spellCheck="false" aria-invalid={nameError ? 'true' : undefined} aria-describedby={`${id}-name-hint`} />
				<p className={nameError ? 'prop-error' : 'muted prop-hint'} id={`${id}-name-hint`} role={nameError ? 'alert' : undefined}>
					{nameError || `Nodes read it as .input.${name}`}
				</p>
			</div>
			<div className="in-row">
				<div className="prop">
					<label htmlFor={`${id}-type`}>Type</label>
					<select id={`${id}-type`} value={type} onChange={(e) => retype(e.target.value)}>
						{TYPES.map((t) => (
							<option key={t} value={t}>
								{t}
							</option>
						))}
					</select>
				</div>
				<div className="prop in-req">
					<input type="checkbox" id={`${id}-required`} checked={required} onChange={(e) => onChange(schema, e.target.checked)} />
					<label htmlFor={`${id}-required`}>Required</label>
				</div>
			</div>
			<div className="prop">
				<label htmlFor={`${id}-description`}>Description</label>
				<input id={`${id}-description`} value={schema.description || ''} onChange={(e) => onChange(set(schema, 'description', e.target.value || undefined), required)} />
			</div>
			{type === 'number' || type === 'integer' ? (
				<div className="in-row">
					{field('minimum', 'Minimum', { inputMode: 'decimal' })}
					{field('maximum', 'Maximum', { inputMode: 'decimal' })}
				</div>
			) : null}
			{type === 'string' ? (
				<>
					{field('maxLength', 'Longest (characters)', { inputMode: 'numeric' })}
					{field('enum', 'One of', { placeholder: 'a, b, c', 'data-hint': 'Comma-separated choices; empty for free text.' })}
				</>
			) : null}
			{!readOnly ? (
				<button type="button" className="secondary small" onClick={onRemove} id={`${id}-remove`}>
					Remove {name}
				</button>
			) : null}
		</fieldset>
	);
}

export default function PatternPanel({ meta, readOnly, onMeta }) {
	const input = meta.input && typeof meta.input === 'object' && !Array.isArray(meta.input) ? meta.input : null;
	const props = input && input.properties && typeof input.properties === 'object' ? input.properties : {};
	const required = input && Array.isArray(input.required) ? input.required : [];
	const names = Object.keys(props);
	const [tagsText, setTagsText] = useState(() => (Array.isArray(meta.tags) ? meta.tags.join(', ') : ''));
	// a row keeps its identity (and the focus of its name field) while it is renamed
	const keys = useRef({ next: 0, of: new Map() });
	const keyOf = (n) => {
		const k = keys.current;
		if (!k.of.has(n)) k.of.set(n, ++k.next);
		return k.of.get(n);
	};

	// a new input schema: properties in the order given, required in the properties' order
	const setInput = (nextProps, nextRequired) => {
		const base = input || { type: 'object' };
		let s = set(base, 'properties', nextProps);
		const req = Object.keys(nextProps).filter((n) => nextRequired.includes(n));
		s = set(s, 'required', req.length ? req : undefined);
		onMeta((m) => ({ ...m, input: s }));
	};
	const change = (name) => (schema, isRequired) => {
		setInput({ ...props, [name]: schema }, isRequired ? [...new Set([...required, name])] : required.filter((r) => r !== name));
	};
	const rename = (from) => (to) => {
		keys.current.of.set(to, keyOf(from));
		keys.current.of.delete(from);
		const next = {};
		for (const [k, v] of Object.entries(props)) next[k === from ? to : k] = v;
		setInput(next, required.map((r) => (r === from ? to : r)));
	};
	const remove = (name) => () => {
		const { [name]: _gone, ...rest } = props;
		setInput(rest, required.filter((r) => r !== name));
	};
	const add = () => {
		let n = 'field';
		for (let i = 2; names.includes(n); i++) n = `field${i}`;
		setInput({ ...props, [n]: { type: 'string' } }, required);
	};
	const setTags = (t) => {
		setTagsText(t);
		const tags = t.split(',').map((s) => s.trim()).filter(Boolean);
		onMeta((m) => set(m, 'tags', tags.length ? tags : undefined));
	};
	return (
		<form className="props pattern-props" onSubmit={(e) => e.preventDefault()} aria-label="The pattern">
			<p className="muted bl-tip">No node selected: these are the pattern's own settings. Select a node to see its options.</p>
			<fieldset disabled={readOnly}>
				<div className="prop">
					<label htmlFor="pattern-description">Description</label>
					<textarea id="pattern-description" rows={3} value={meta.description || ''} onChange={(e) => onMeta((m) => set(m, 'description', e.target.value || undefined))} />
				</div>
				<div className="prop">
					<label htmlFor="pattern-tags">Tags</label>
					<input id="pattern-tags" value={tagsText} onChange={(e) => setTags(e.target.value)} placeholder="consensus, review" aria-describedby="pattern-tags-hint" />
					<p className="muted prop-hint" id="pattern-tags-hint">
						Comma-separated.
					</p>
				</div>
				<h3 className="in-head">Input</h3>
				<p className="muted prop-hint">The fields an execution's input has; the run form is made from them, and the input is checked against them.</p>
				{names.map((n) => (
					<Row key={keyOf(n)} name={n} schema={props[n] && typeof props[n] === 'object' ? props[n] : {}} required={required.includes(n)} taken={names} readOnly={readOnly} onChange={change(n)} onRename={rename(n)} onRemove={remove(n)} />
				))}
				{!readOnly ? (
					<button type="button" className="secondary small" onClick={add} id="input-add">
						Add an input field
					</button>
				) : null}
			</fieldset>
		</form>
	);
}
