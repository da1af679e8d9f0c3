// The pattern document (SPEC.md §3) and the canvas graph, each made from the other. The
// canvas holds the nodes in document order (each node's own members, other than id and
// from, in data.def) and one edge per "from" entry; the top-level members other than nodes
// and ui ride along untouched in meta. Positions live in the document's ui member
// (ui.positions.<id> = {x, y}), which the server stores as it is and never reads.
import YAML from 'yaml';

export const DEFAULT_PORT = 'out';

// A node's identity on the canvas across renames (its property panel stays mounted).
let uids = 0;
export function nextUid() {
	return ++uids;
}

// "a" or "a.port" -> {source, port}; a node id has no '.', so the first '.' splits.
export function parseSource(s) {
	const dot = s.indexOf('.');
	return dot < 0 ? { source: s, port: DEFAULT_PORT } : { source: s.slice(0, dot), port: s.slice(dot + 1) };
}

export function sourceText(source, port) {
	return !port || port === DEFAULT_PORT ? source : `${source}.${port}`;
}

export function edgeId(source, port, target) {
	return `${source}.${port || DEFAULT_PORT}->${target}`;
}

function fromList(from) {
	if (typeof from === 'string') return [from];
	return Array.isArray(from) ? from.filter((s) => typeof s === 'string') : [];
}

// A document -> {meta, nodes, edges}. previous: positions to keep for nodes the document
// does not place (a YAML edit keeps the layout of the nodes it did not move).
export function docToGraph(doc, previous = {}) {
	const { nodes: list = [], ui, ...meta } = doc && typeof doc === 'object' && !Array.isArray(doc) ? doc : {};
	const placed = (ui && typeof ui === 'object' && ui.positions) || {};
	const nodes = [];
	const edges = [];
	const seen = new Set();
	const known = (p) => p && Number.isFinite(p.x) && Number.isFinite(p.y);
	// a node without a position takes the first grid slot clear of every placed node, so a
	// node added through the text never lands on top of another
	const taken = [];
	const free = () => {
		for (let k = 0; ; k++) {
			const at = { x: 40 + 220 * (k % 4), y: 40 + 140 * Math.floor(k / 4) };
			if (!taken.some((t) => Math.abs(t.x - at.x) < 200 && Math.abs(t.y - at.y) < 120)) return at;
		}
	};
	const items = (Array.isArray(list) ? list : []).map((n, i) => {
		if (!n || typeof n !== 'object') return null;
		let id = typeof n.id === 'string' && n.id ? n.id : `node${i + 1}`;
		while (seen.has(id)) id = `${id}_`;
		seen.add(id);
		const p = placed[id] || previous[id];
		if (known(p)) taken.push(p);
		return { n, id, p: known(p) ? { x: p.x, y: p.y } : null };
	});
	for (const it of items) {
		if (!it) continue;
		const { n, id } = it;
		const { id: _id, from, ...def } = n;
		const position = it.p || free();
		if (!it.p) taken.push(position);
		// a one-source list stays a list on the way back (import then export gives the
		// document back as it was written)
		const data = { def, uid: nextUid() };
		if (Array.isArray(from)) data.fromList = true;
		nodes.push({ id, type: 'pattern', position, data });
		for (const s of fromList(from)) {
			const { source, port } = parseSource(s);
			edges.push({ id: edgeId(source, port, id), source, sourceHandle: port, target: id, targetHandle: 'in' });
		}
	}
	if (ui && typeof ui === 'object' && !Array.isArray(ui)) meta.__ui = ui; // members other than positions stay
	return { meta, nodes, edges, unplaced: !ui || !ui.positions };
}

// {meta, nodes, edges} -> the document, members in the usual order (name, description, tags,
// input, nodes, ui); withUi false leaves the positions out (what validation needs is the same
// either way, but the stored version keeps them).
export function graphToDoc(meta, nodes, edges, withUi = true) {
	const incoming = new Map();
	for (const e of edges) {
		if (!incoming.has(e.target)) incoming.set(e.target, []);
		incoming.get(e.target).push(sourceText(e.source, e.sourceHandle));
	}
	const out = {};
	for (const k of ['name', 'description', 'tags', 'input']) if (meta[k] !== undefined) out[k] = meta[k];
	for (const k of Object.keys(meta)) if (!(k in out)) out[k] = meta[k];
	out.nodes = nodes.map((n) => {
		const { type, ...rest } = n.data.def;
		const o = { id: n.id, type };
		const from = incoming.get(n.id);
		if (from && from.length) o.from = from.length === 1 && !n.data.fromList ? from[0] : from;
		return Object.assign(o, rest);
	});
	if (withUi) {
		const positions = {};
		for (const n of nodes) positions[n.id] = { x: Math.round(n.position.x), y: Math.round(n.position.y) };
		out.ui = { ...(meta.__ui || {}), positions };
	}
	delete out.__ui;
	return out;
}

export function toYaml(doc) {
	return YAML.stringify(doc, { lineWidth: 0 });
}

// YAML text -> {doc} or {error, line} (line 1-based, when the parser knows it).
export function fromYaml(text) {
	const d = YAML.parseDocument(text, { prettyErrors: true });
	if (d.errors.length) {
		const e = d.errors[0];
		const line = e.linePos && e.linePos[0] ? e.linePos[0].line : null;
		return { error: e.message.split('\n')[0], line };
	}
	const doc = d.toJS();
	if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return { error: 'The document must be a mapping (name, nodes, …).', line: 1 };
	return { doc };
}

// A node id that is not taken yet: type, type2, type3, … (a copy of ask2 is ask3, not ask22)
export function freeId(nodes, base) {
	const taken = new Set(nodes.map((n) => n.id));
	const clean = base.replace(/[^A-Za-z0-9_-]/g, '_') || 'node';
	const stem = taken.has(clean) ? clean.replace(/\d+$/, '') || clean : clean;
	if (!taken.has(stem)) return stem;
	for (let i = 2; ; i++) if (!taken.has(`${stem}${i}`)) return `${stem}${i}`;
}

export const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
