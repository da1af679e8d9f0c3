// The pattern builder: a palette of the server's node types, the canvas (React Flow), the
// selected node's properties, the server's validation problems and the YAML of the
// document, all views of one document. The canvas's nodes and edges are the source of
// truth; the document is made from them on every change (doc.js), so the YAML, the
// validation and the save all see exactly what the canvas shows.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState } from 'react';
import {
	ReactFlow,
	ReactFlowProvider,
	Background,
	Controls,
	MiniMap,
	Handle,
	Position,
	useNodesState,
	useEdgesState,
	useReactFlow,
	addEdge,
} from '@xyflow/react';
import dagre from '@dagrejs/dagre';
import { DEFAULT_PORT, docToGraph, edgeId, freeId, fromYaml, graphToDoc, nextUid, toYaml } from './doc.js';
import { api, refusal } from './api.js';
import PropertyPanel from './PropertyPanel.jsx';
import PatternPanel from './PatternPanel.jsx';
import RunPanel from './RunPanel.jsx';
import Changes from './Changes.jsx';
import { download, readDocument } from './files.js';

const NODE_MIME = 'application/x-parallax-node-type';
const VALIDATE_DELAY_MS = 300;
const NODE_W = 200;
const NODE_H = 84;

// What every node on the canvas reads: the node types, the problems by node id, read-only,
// and the states of the test run the canvas shows (by node id).
const Shared = createContext({ types: new Map(), problems: new Map(), readOnly: true, run: null });

// The copied nodes (Ctrl+C), for Ctrl+V in this page: their definitions, positions and the
// edges between them.
let clipboard = null;

function RunState({ st }) {
	const parts = [st.status];
	const cs = Array.isArray(st.confidences) ? st.confidences.filter((c) => typeof c === 'number') : [];
	if (typeof st.confidence === 'number') parts.push(`confidence ${st.confidence.toFixed(2)}`);
	else if (cs.length === 1) parts.push(`confidence ${cs[0].toFixed(2)}`);
	else if (cs.length > 1) parts.push(`confidence ${Math.min(...cs).toFixed(2)}–${Math.max(...cs).toFixed(2)} (${cs.length} answers)`);
	if (typeof st.duration_ms === 'number') parts.push(st.duration_ms < 1000 ? `${Math.round(st.duration_ms)} ms` : `${(st.duration_ms / 1000).toFixed(1)} s`);
	return (
		<p className={`pnode-run run-${st.status}`} title={st.error || undefined}>
			{parts.join(' · ')}
		</p>
	);
}

function PatternNode({ id, data, selected }) {
	const { types, problems, readOnly, run } = useContext(Shared);
	const type = types.get(data.def.type);
	const ports = type ? type.ports : [DEFAULT_PORT];
	const mine = problems.get(id) || [];
	const st = run && run.nodes[id];
	return (
		<div className={`pnode${mine.length ? ' pnode-bad' : ''}${selected ? ' pnode-selected' : ''}${st ? ` pnode-${st.status}` : ''}`} data-node-id={id} data-type={data.def.type} data-run={st ? st.status : undefined}>
			{!type || type.takes_input ? <Handle type="target" position={Position.Top} id="in" isConnectable={!readOnly} title={`${id}: input`} /> : null}
			<div className="pnode-head">
				<span className="pnode-type">{data.def.type}</span>
				<strong className="pnode-id">{id}</strong>
			</div>
			{st ? <RunState st={st} /> : null}
			{mine.length ? (
				<p className="pnode-problem" role="note">
					{mine[0].message}
					{mine.length > 1 ? ` (+${mine.length - 1} more)` : ''}
				</p>
			) : null}
			<div className="pnode-ports">
				{ports.map((p) => (
					<span key={p} className={`pnode-port port-${p}`}>
						{ports.length > 1 ? p : ''}
						<Handle
							type="source"
							position={Position.Bottom}
							id={p}
							isConnectable={!readOnly}
							className={`handle-${p}`}
							title={`${id}: ${p} port`}
						/>
					</span>
				))}
			</div>
		</div>
	);
}

const nodeTypes = { pattern: PatternNode };

// Top-to-bottom layout with dagre, from each node's measured size.
function layout(nodes, edges) {
	const g = new dagre.graphlib.Graph();
	g.setGraph({ rankdir: 'TB', nodesep: 40, ranksep: 70, marginx: 20, marginy: 20 });
	g.setDefaultEdgeLabel(() => ({}));
	for (const n of nodes) g.setNode(n.id, { width: n.measured?.width || NODE_W, height: n.measured?.height || NODE_H });
	for (const e of edges) if (g.hasNode(e.source) && g.hasNode(e.target)) g.setEdge(e.source, e.target);
	dagre.layout(g);
	return nodes.map((n) => {
		const p = g.node(n.id);
		return { ...n, position: { x: p.x - p.width / 2, y: p.y - p.height / 2 } };
	});
}

// Whether a path of edges leads from node a to node b.
function reaches(edges, a, b) {
	const seen = new Set([a]);
	const todo = [a];
	while (todo.length) {
		const at = todo.pop();
		if (at === b) return true;
		for (const e of edges) {
			if (e.source === at && !seen.has(e.target)) {
				seen.add(e.target);
				todo.push(e.target);
			}
		}
	}
	return false;
}

// A problem's node: its node_id, or the node its path indexes (nodes[3].from).
function problemNode(p, nodes) {
	if (p.node_id && nodes.some((n) => n.id === p.node_id)) return p.node_id;
	const m = /^nodes\[(\d+)\]/.exec(p.path || '');
	return m && nodes[Number(m[1])] ? nodes[Number(m[1])].id : null;
}

function Palette({ types, readOnly, onAdd }) {
	return (
		<section className="bl-palette card" aria-labelledby="palette-h">
			<h2 id="palette-h">Nodes</h2>
			<p className="muted bl-tip">{readOnly ? 'Read-only: your role may not change this pattern.' : 'Drag a node onto the canvas, or focus one and press Enter.'}</p>
			<ul id="palette">
				{types.map((t) => (
					<li key={t.name}>
						<button
							type="button"
							className="palette-item"
							data-type={t.name}
							draggable={!readOnly}
							disabled={readOnly}
							aria-describedby={`pal-${t.name}`}
							onDragStart={(e) => {
								e.dataTransfer.setData(NODE_MIME, t.name);
								e.dataTransfer.effectAllowed = 'move';
							}}
							onClick={() => onAdd(t.name)}
						>
							<span className="palette-name">{t.name}</span>
							<span className="palette-desc" id={`pal-${t.name}`}>{t.description}</span>
						</button>
					</li>
				))}
			</ul>
		</section>
	);
}

function Problems({ problems, state, nodes, onPick }) {
	return (
		<section className="bl-problems card" aria-labelledby="problems-h">
			<h2 id="problems-h">
				Validation <span className={`badge ${state === 'valid' ? 's-succeeded' : state === 'invalid' ? 's-failed' : ''}`} id="validation-state" role="status">
					{state === 'valid' ? 'valid' : state === 'invalid' ? `${problems.length} problem${problems.length === 1 ? '' : 's'}` : state === 'offline' ? 'not checked' : 'checking…'}
				</span>
			</h2>
			{problems.length ? (
				<ul id="problems">
					{problems.map((p, i) => {
						const node = problemNode(p, nodes);
						const text = `${p.path ? `${p.path}: ` : ''}${p.message}`;
						return (
							<li key={i} data-node={node || ''}>
								{node ? (
									<button type="button" className="link problem" onClick={() => onPick(node)}>
										<code>{node}</code> {p.message}
									</button>
								) : (
									<span className="problem">{text}</span>
								)}
							</li>
						);
					})}
				</ul>
			) : state === 'valid' ? (
				<p className="muted">The server accepts this pattern.</p>
			) : null}
		</section>
	);
}

function TextPanel({ text, error, readOnly, onText, format, onFormat }) {
	return (
		<section className="bl-text card" aria-labelledby="yaml-h">
			<div className="bl-text-head">
				<h2 id="yaml-h">{format === 'json' ? 'JSON' : 'YAML'}</h2>
				<div className="seg" role="group" aria-label="Text format">
					{['yaml', 'json'].map((f) => (
						<button key={f} type="button" className="secondary small" aria-pressed={format === f} onClick={() => onFormat(f)} id={`text-${f}`}>
							{f.toUpperCase()}
						</button>
					))}
				</div>
			</div>
			<label htmlFor="builder-yaml" className="sr-only">
				The pattern as {format === 'json' ? 'JSON' : 'YAML'}
			</label>
			<textarea
				id="builder-yaml"
				spellCheck="false"
				rows={16}
				readOnly={readOnly}
				value={text}
				aria-invalid={error ? 'true' : undefined}
				aria-describedby="yaml-status"
				onChange={(e) => onText(e.target.value)}
			/>
			<p id="yaml-status" className={error ? 'prop-error' : 'muted'} role={error ? 'alert' : undefined}>
				{error ? `Line ${error.line ?? '?'}: ${error.error}` : 'Edits here change the canvas when they parse.'}
			</p>
		</section>
	);
}

function Canvas({ boot, types }) {
	const readOnly = !boot.can_save;
	const rf = useReactFlow();
	const first = useMemo(() => docToGraph(boot.definition || { name: '', nodes: [] }), [boot]);
	const [meta, setMeta] = useState(first.meta);
	const [nodes, setNodes, onNodesChange] = useNodesState(first.nodes);
	const [edges, setEdges, onEdgesChange] = useEdgesState(first.edges);
	const [problems, setProblems] = useState([]);
	const [vstate, setVstate] = useState('checking');
	const [pattern, setPattern] = useState(boot.pattern);
	const [message, setMessage] = useState('');
	const [saving, setSaving] = useState(false);
	// the status line's notice (saved, copied, imported, refused) lasts until the next edit; a
	// notice about an edit (an import) outlives that edit's own undo step
	const [notice, setNotice] = useState(() => (boot.notice ? { text: boot.notice, fresh: true } : null));
	const noticeRef = useRef(notice);
	noticeRef.current = notice;
	const [panelRev, setPanelRev] = useState(0); // remounts the property fields after outside edits
	const [run, setRun] = useState(null); // {id, nodes: {id: {status, confidence, duration_ms}}}
	const [savedDoc, setSavedDoc] = useState(() => boot.definition || null); // the last version, for the diff
	const typeMap = useMemo(() => new Map(types.map((t) => [t.name, t])), [types]);

	const doc = useMemo(() => graphToDoc(meta, nodes, edges), [meta, nodes, edges]);
	const bare = useMemo(() => JSON.stringify(graphToDoc(meta, nodes, edges, false)), [meta, nodes, edges]);
	const docText = useMemo(() => JSON.stringify(doc), [doc]);
	const [saved, setSaved] = useState(docText);
	const dirty = docText !== saved;

	// a pattern saved without positions: lay it out once its nodes are measured
	const laidOut = useRef(!first.unplaced || !first.nodes.length);
	const opened = useRef(laidOut.current); // the document the page opened with is laid out
	useEffect(() => {
		if (laidOut.current || !nodes.length || !nodes.every((n) => n.measured)) return;
		laidOut.current = true;
		// the layout is part of the step that brought the nodes (opening is no step at all)
		undoLog.current.key = 'layout';
		const placed = layout(nodes, edges);
		setNodes(placed);
		if (!opened.current && boot.pattern) setSaved(JSON.stringify(graphToDoc(meta, placed, edges)));
		opened.current = true;
		requestAnimationFrame(() => rf.fitView({ padding: 0.15 }));
	}, [nodes, edges, meta, rf, setNodes, boot.pattern]);

	// ---- validation: the server's, 300 ms after the last change ----
	useEffect(() => {
		const ctl = new AbortController();
		setVstate('checking');
		const t = setTimeout(async () => {
			try {
				const r = await api('POST', '/api/v1/patterns/validate', JSON.parse(bare), ctl.signal);
				if (r.status === 200 && r.json) {
					setProblems(r.json.problems || []);
					setVstate(r.json.valid ? 'valid' : 'invalid');
				} else {
					setProblems([{ message: refusal(r) }]);
					setVstate('offline');
				}
			} catch {
				/* superseded by a newer change */
			}
		}, VALIDATE_DELAY_MS);
		return () => {
			clearTimeout(t);
			ctl.abort();
		};
	}, [bare]);

	const problemsByNode = useMemo(() => {
		const m = new Map();
		for (const p of problems) {
			const id = problemNode(p, nodes);
			if (!id) continue;
			if (!m.has(id)) m.set(id, []);
			m.get(id).push(p);
		}
		return m;
	}, [problems, nodes]);
	const shared = useMemo(() => ({ types: typeMap, problems: problemsByNode, readOnly, run }), [typeMap, problemsByNode, readOnly, run]);
	// a change to what the nodes do makes the last run's states stale
	const ranOn = useRef(bare);
	useEffect(() => {
		if (run && bare !== ranOn.current) setRun(null);
	}, [bare, run]);

	// ---- the YAML panel: follows the canvas, and drives it when it parses ----
	const [format, setFormat] = useState('yaml');
	const asText = (d, f) => (f === 'json' ? JSON.stringify(d, null, 2) : toYaml(d));
	const [text, setText] = useState(() => toYaml(doc));
	const [textError, setTextError] = useState(null);
	const fromText = useRef(null); // the document the last text edit made
	useEffect(() => {
		if (docText === fromText.current) return;
		fromText.current = null;
		setText(asText(doc, format));
		setTextError(null);
	}, [doc, docText, format]);
	const onFormat = (f) => {
		fromText.current = null;
		setFormat(f);
		setText(asText(doc, f));
		setTextError(null);
	};
	const onText = (t) => {
		setText(t);
		const r = fromYaml(t);
		if (r.error) {
			setTextError(r);
			return;
		}
		setTextError(null);
		const keep = Object.fromEntries(nodes.map((n) => [n.id, n.position]));
		showDoc(r.doc, keep);
	};
	// a document from the text, a file or a template on the canvas; keep: positions for the
	// nodes it does not place
	const showDoc = (d, keep) => {
		const g = docToGraph(d, keep || {});
		const sel = new Set(nodes.filter((n) => n.selected).map((n) => n.id));
		const next = g.nodes.map((n) => (sel.has(n.id) ? { ...n, selected: true } : n));
		fromText.current = keep ? JSON.stringify(graphToDoc(g.meta, next, g.edges)) : null;
		setMeta(g.meta);
		setNodes(next);
		setEdges(g.edges);
		setPanelRev((v) => v + 1);
		// a whole new document without positions is laid out once its nodes are measured
		if (!keep && g.unplaced && g.nodes.length) laidOut.current = false;
		// a node the text added may sit outside the view: bring every node into it
		else if (next.some((n) => !keep || !(n.id in keep))) requestAnimationFrame(() => rf.fitView({ padding: 0.15, duration: 150 }));
	};

	// ---- undo and redo: snapshots of the document (positions included) ----
	// Typing into one field, or one drag, is one step: a change made while the same control
	// has focus, or while a node is being dragged, replaces the last snapshot.
	const undoLog = useRef({ stack: [], at: -1, key: null, applying: false });
	const [, setHistoryRev] = useState(0);
	useEffect(() => {
		const h = undoLog.current;
		if (h.applying) {
			h.applying = false;
			return;
		}
		const dragging = nodes.some((n) => n.dragging);
		if (h.key === 'drag' && !dragging) h.key = null; // the drag is over: its frames were one step
		if (h.stack[h.at] === docText) return;
		const el = document.activeElement;
		let key = el && /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName) && el.id ? el.id : null;
		if (dragging) key = 'drag';
		const merge = h.at >= 0 && ((key && key === h.key) || h.key === 'layout');
		h.stack.splice(merge ? h.at : h.at + 1);
		h.stack.push(docText);
		h.at = h.stack.length - 1;
		h.key = key;
		setHistoryRev((v) => v + 1);
		const n = noticeRef.current;
		if (n && !merge) setNotice(n.fresh ? { ...n, fresh: false } : null);
	}, [docText, nodes]);
	const travel = (step) => {
		const h = undoLog.current;
		const to = h.at + step;
		if (to < 0 || to >= h.stack.length) return;
		h.at = to;
		h.key = null;
		h.applying = true;
		const keep = Object.fromEntries(nodes.map((n) => [n.id, n.position]));
		const g = docToGraph(JSON.parse(h.stack[to]), keep);
		setMeta(g.meta);
		setNodes(g.nodes);
		setEdges(g.edges);
		setPanelRev((v) => v + 1);
		setHistoryRev((v) => v + 1);
	};
	const canUndo = undoLog.current.at > 0;
	const canRedo = undoLog.current.at < undoLog.current.stack.length - 1;
	useEffect(() => {
		if (readOnly) return undefined;
		const onKey = (e) => {
			if (!(e.ctrlKey || e.metaKey) || e.altKey) return;
			const t = e.target;
			if (t && (/^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName) || t.isContentEditable)) return; // the field's own undo
			const k = e.key.toLowerCase();
			if (k === 'd' && !e.shiftKey) {
				e.preventDefault(); // not the browser's bookmark
				duplicateSelected();
			} else if (k === 'c' && !e.shiftKey && selected.length) {
				if (window.getSelection && String(window.getSelection())) return; // copying text
				e.preventDefault();
				copySelected();
			} else if (k === 'v' && !e.shiftKey && clipboard) {
				e.preventDefault();
				paste(clipboard);
			} else if (k === 'a' && !e.shiftKey) {
				e.preventDefault();
				setNodes((ns) => ns.map((n) => (n.selected ? n : { ...n, selected: true })));
			} else if (k === 'z' || k === 'y') {
				e.preventDefault();
				travel(k === 'y' || e.shiftKey ? 1 : -1);
			}
		};
		window.addEventListener('keydown', onKey);
		return () => window.removeEventListener('keydown', onKey);
	});

	// ---- editing ----
	const addNode = useCallback(
		(typeName, position) => {
			if (readOnly) return;
			const id = freeId(nodes, typeName);
			let at;
			if (position) at = { x: position.x - NODE_W / 2, y: position.y - NODE_H / 2 };
			else if (nodes.length) {
				// from the keyboard: under the last node added, and the view follows
				const last = nodes[nodes.length - 1];
				at = { x: last.position.x, y: last.position.y + (last.measured?.height || NODE_H) + 50 };
				requestAnimationFrame(() => rf.fitView({ padding: 0.2, duration: 150, maxZoom: 1 }));
			} else {
				const c = rf.screenToFlowPosition(centerOf(document.querySelector('.bl-flow')));
				at = { x: c.x - NODE_W / 2, y: c.y - NODE_H * 2 };
			}
			const node = { id, type: 'pattern', position: at, data: { def: { type: typeName }, uid: nextUid() }, selected: true };
			setNodes((ns) => ns.map((n) => (n.selected ? { ...n, selected: false } : n)).concat(node));
		},
		[nodes, readOnly, rf, setNodes],
	);
	const onDrop = (e) => {
		const t = e.dataTransfer.getData(NODE_MIME);
		if (!t) return;
		e.preventDefault();
		addNode(t, rf.screenToFlowPosition({ x: e.clientX, y: e.clientY }));
	};
	const onDragOver = (e) => {
		if (readOnly || !e.dataTransfer.types.includes(NODE_MIME)) return;
		e.preventDefault();
		e.dataTransfer.dropEffect = 'move';
	};
	// what the server would refuse is not drawn: a second identical edge, or a cycle
	const isValidConnection = useCallback(
		(c) =>
			c.source !== c.target &&
			!edges.some((e) => e.source === c.source && e.target === c.target && (e.sourceHandle || DEFAULT_PORT) === (c.sourceHandle || DEFAULT_PORT)) &&
			!reaches(edges, c.target, c.source),
		[edges],
	);
	const onConnect = useCallback(
		(c) => setEdges((es) => addEdge({ ...c, id: edgeId(c.source, c.sourceHandle, c.target), targetHandle: 'in' }, es)),
		[setEdges],
	);
	const selected = nodes.filter((n) => n.selected);
	const one = selected.length === 1 ? selected[0] : null;
	const setOption = (name, value) => {
		setNodes((ns) =>
			ns.map((n) => {
				if (n.id !== one.id) return n;
				const def = { ...n.data.def };
				if (value === undefined) delete def[name];
				else def[name] = value;
				return { ...n, data: { ...n.data, def } };
			}),
		);
	};
	const rename = (from, to) => {
		setNodes((ns) => ns.map((n) => (n.id === from ? { ...n, id: to } : n)));
		setEdges((es) =>
			es.map((e) => {
				if (e.source !== from && e.target !== from) return e;
				const source = e.source === from ? to : e.source;
				const target = e.target === from ? to : e.target;
				return { ...e, source, target, id: edgeId(source, e.sourceHandle, target) };
			}),
		);
	};
	// the property panel's From checkboxes: an edge from source's port into the selected node
	const setSource = (source, port, on) => {
		const target = one.id;
		if (on) onConnect({ source, sourceHandle: port, target });
		else setEdges((es) => es.filter((e) => !(e.source === source && e.target === target && (e.sourceHandle || DEFAULT_PORT) === port)));
	};
	// The selected nodes and the edges between them, as the clipboard holds them.
	const cut = () => {
		const ids = new Set(selected.map((n) => n.id));
		return {
			nodes: selected.map((n) => ({ id: n.id, position: { ...n.position }, def: structuredClone(n.data.def) })),
			edges: edges.filter((e) => ids.has(e.source) && ids.has(e.target)).map((e) => ({ source: e.source, port: e.sourceHandle || DEFAULT_PORT, target: e.target })),
			pastes: 0,
		};
	};
	const copySelected = () => {
		if (!selected.length) return;
		clipboard = cut();
		setNotice({ text: `Copied ${clipboard.nodes.length} node${clipboard.nodes.length === 1 ? '' : 's'}: Ctrl+V pastes them.` });
	};
	// Pastes a clipboard: fresh ids (a copy of ask2 is ask3), offset from the originals (a
	// further 40 px each time), the edges between the copies kept, and the copies selected.
	const paste = (clip) => {
		if (readOnly || !clip || !clip.nodes.length) return;
		clip.pastes += 1;
		const shift = 40 * clip.pastes;
		const taken = [...nodes];
		const rename = new Map();
		const copies = clip.nodes.map((c) => {
			const id = freeId(taken, c.id);
			rename.set(c.id, id);
			const copy = { id, type: 'pattern', position: { x: c.position.x + shift, y: c.position.y + shift }, data: { def: structuredClone(c.def), uid: nextUid() }, selected: true };
			taken.push(copy);
			return copy;
		});
		const links = clip.edges.map((e) => {
			const source = rename.get(e.source);
			const target = rename.get(e.target);
			return { id: edgeId(source, e.port, target), source, sourceHandle: e.port, target, targetHandle: 'in' };
		});
		setNodes((ns) => ns.map((n) => (n.selected ? { ...n, selected: false } : n)).concat(copies));
		setEdges((es) => es.concat(links));
	};
	// Ctrl+D or the button: a copy of the selection in place (the clipboard is left alone)
	const duplicateSelected = () => {
		if (!readOnly && selected.length) paste(cut());
	};
	const removeSelected = () => {
		const gone = new Set(selected.map((n) => n.id));
		setNodes((ns) => ns.filter((n) => !n.selected));
		setEdges((es) => es.filter((e) => !e.selected && !gone.has(e.source) && !gone.has(e.target)));
	};
	const autoLayout = () => {
		setNodes((ns) => layout(ns, edges));
		requestAnimationFrame(() => rf.fitView({ padding: 0.15, duration: 200 }));
	};
	const focusNode = (id) => {
		setNodes((ns) => ns.map((n) => (n.selected !== (n.id === id) ? { ...n, selected: n.id === id } : n)));
		const n = rf.getNode(id);
		if (n) rf.setCenter(n.position.x + (n.measured?.width || NODE_W) / 2, n.position.y + (n.measured?.height || NODE_H) / 2, { zoom: Math.max(rf.getZoom(), 1), duration: 200 });
		requestAnimationFrame(() => {
			const el = document.querySelector(`.react-flow__node[data-id="${CSS.escape(id)}"]`);
			if (el) el.focus();
		});
	};
	const setName = (v) => setMeta((m) => ({ ...m, name: v }));

	// ---- files and templates: a whole document onto the canvas (one undo step) ----
	const fileInput = useRef(null);
	const onFile = async (e) => {
		const file = e.target.files && e.target.files[0];
		e.target.value = ''; // the same file again is a new import
		if (!file) return;
		const r = await readDocument(file);
		if (r.error) {
			setNotice({ error: true, text: `Not imported: ${r.error}` });
			return;
		}
		showDoc(r.doc, null);
		setNotice({ text: `Imported ${file.name}.`, fresh: true });
	};
	const exportAs = (format) => download(JSON.parse(docText), format);
	const [library, setLibrary] = useState(null);
	const loadLibrary = async () => {
		if (library) return;
		const r = await api('GET', boot.library_url);
		setLibrary(r.status === 200 && r.json && Array.isArray(r.json.items) ? r.json.items : []);
	};
	const openTemplate = (name) => {
		const t = (library || []).find((x) => x.name === name);
		if (!t || !t.definition) return;
		if (nodes.length && !window.confirm(`Replace the canvas with the library pattern ${name}?`)) return;
		showDoc(t.definition, null);
		setNotice({ text: `Started from the library pattern ${name}: nothing is saved until you create it.`, fresh: true });
	};

	// ---- saving: a new version, or the pattern itself when it is new ----
	const save = async (e) => {
		e.preventDefault();
		if (readOnly || saving) return;
		setSaving(true);
		setNotice(null);
		const definition = JSON.parse(docText);
		const r = pattern
			? await api('POST', `/api/v1/patterns/${encodeURIComponent(pattern.id)}/versions`, { definition, message: message || null })
			: await api('POST', '/api/v1/patterns', { name: definition.name || '', description: definition.description || undefined, definition });
		setSaving(false);
		if (r.status !== 201 || !r.json) {
			const e2 = r.json && r.json.error;
			setNotice({ error: true, text: `Not saved: ${refusal(r)}${e2 && e2.field ? ` (${e2.field})` : ''}` });
			return;
		}
		const version = r.json.version || r.json.latest_version || 1;
		const next = pattern ? { ...pattern, version } : { id: r.json.id, name: r.json.name, version };
		setPattern(next);
		setSaved(docText);
		setSavedDoc(definition);
		setMessage('');
		setNotice({ text: `Saved v${version}.`, diff: pattern && version > 1 ? `/patterns/${encodeURIComponent(next.id)}/versions/diff?from=${version - 1}&to=${version}` : null });
		const badge = document.getElementById('builder-version');
		if (badge) badge.textContent = `v${version}`;
		if (!pattern) window.history.replaceState(null, '', `/patterns/${encodeURIComponent(next.id)}/builder`);
	};

	// leaving with unsaved changes asks first
	useEffect(() => {
		if (!dirty || readOnly) return undefined;
		const ask = (e) => {
			e.preventDefault();
			e.returnValue = '';
		};
		window.addEventListener('beforeunload', ask);
		return () => window.removeEventListener('beforeunload', ask);
	}, [dirty, readOnly]);

	return (
		<Shared.Provider value={shared}>
			<div className="bl-bar card">
				<div className="bl-tools" role="toolbar" aria-label="Canvas tools">
					{!readOnly ? (
						<>
							<button type="button" className="secondary small" onClick={() => travel(-1)} disabled={!canUndo} id="undo" aria-keyshortcuts="Control+Z">
								Undo
							</button>
							<button type="button" className="secondary small" onClick={() => travel(1)} disabled={!canRedo} id="redo" aria-keyshortcuts="Control+Shift+Z">
								Redo
							</button>
						</>
					) : null}
					<button type="button" className="secondary small" onClick={autoLayout} disabled={readOnly || !nodes.length} id="auto-layout">
						Auto-layout
					</button>
					<button type="button" className="secondary small" onClick={() => rf.fitView({ padding: 0.15, duration: 200 })} id="fit-view">
						Zoom to fit
					</button>
					{!readOnly ? (
						<button type="button" className="secondary small" onClick={duplicateSelected} disabled={!selected.length} id="duplicate-selected" aria-keyshortcuts="Control+D">
							Duplicate
						</button>
					) : null}
					{!readOnly ? (
						<>
							<button type="button" className="secondary small" onClick={copySelected} disabled={!selected.length} id="copy-selected" aria-keyshortcuts="Control+C">
								Copy
							</button>
							<button type="button" className="secondary small" onClick={() => paste(clipboard)} disabled={!clipboard} id="paste" aria-keyshortcuts="Control+V">
								Paste
							</button>
							<button type="button" className="secondary small" onClick={removeSelected} disabled={!selected.length && !edges.some((x) => x.selected)} id="delete-selected">
								Delete selected
							</button>
						</>
					) : null}
					<span className="bl-sep" aria-hidden="true" />
					{!readOnly ? (
						<>
							<button type="button" className="secondary small" onClick={() => fileInput.current && fileInput.current.click()} id="import-file">
								Import file…
							</button>
							<input type="file" ref={fileInput} accept=".yaml,.yml,.json,application/json,application/yaml,text/yaml" onChange={onFile} hidden id="import-input" aria-label="Import a YAML or JSON file" />
						</>
					) : null}
					<button type="button" className="secondary small" onClick={() => exportAs('yaml')} id="export-yaml">
						Export YAML
					</button>
					<button type="button" className="secondary small" onClick={() => exportAs('json')} id="export-json">
						Export JSON
					</button>
					{!readOnly && !pattern ? (
						<span className="bl-template">
							<label htmlFor="template-pick">Template</label>
							<select id="template-pick" value="" onFocus={loadLibrary} onMouseDown={loadLibrary} onChange={(e) => openTemplate(e.target.value)}>
								<option value="">{library === null ? 'Library patterns…' : 'Start from…'}</option>
								{(library || []).map((t) => (
									<option key={t.name} value={t.name}>
										{t.name}
									</option>
								))}
							</select>
						</span>
					) : null}
				</div>
				{!readOnly ? (
					<form className="bl-save" onSubmit={save}>
						{!pattern ? (
							<>
								<label htmlFor="builder-name">Name</label>
								<input id="builder-name" value={meta.name || ''} onChange={(e) => setName(e.target.value)} placeholder="my-pattern" required pattern="[a-z0-9\-]{1,64}" title="1 to 64 characters: a-z, 0-9 and -" spellCheck="false" />
							</>
						) : (
							<>
								<label htmlFor="builder-message">Message</label>
								<input id="builder-message" value={message} onChange={(e) => setMessage(e.target.value)} placeholder="What changed" maxLength={500} />
							</>
						)}
						<button type="submit" className="primary" disabled={saving || (!dirty && !!pattern)} id="builder-save">
							{pattern ? 'Save version' : 'Create pattern'}
						</button>
					</form>
				) : null}
				<p className={`bl-status${notice && notice.error ? ' prop-error' : ''}`} id="save-status" role="status">
					{notice ? notice.text : dirty ? 'Unsaved changes' : pattern ? `v${pattern.version}, saved` : 'Not saved yet'}
					{notice && notice.diff ? (
						<>
							{' '}
							<a href={notice.diff} id="saved-diff">
								See the diff from v{pattern.version - 1}
							</a>
						</>
					) : null}
				</p>
			</div>
			{pattern && savedDoc && dirty ? <Changes saved={savedDoc} current={doc} version={pattern.version} /> : null}
			<div className="bl-grid">
				<Palette types={types} readOnly={readOnly} onAdd={(t) => addNode(t)} />
				<div className="bl-flow" onDrop={onDrop} onDragOver={onDragOver} aria-label="Canvas" role="region">
					{!nodes.length ? <p className="bl-empty muted">{readOnly ? 'This pattern has no nodes.' : 'Empty canvas: start with an input node from the palette, end with an output node.'}</p> : null}
					<ReactFlow
						nodes={nodes}
						edges={edges}
						nodeTypes={nodeTypes}
						onNodesChange={onNodesChange}
						onEdgesChange={readOnly ? undefined : onEdgesChange}
						onConnect={readOnly ? undefined : onConnect}
						isValidConnection={isValidConnection}
						nodesDraggable={!readOnly}
						nodesConnectable={!readOnly}
						edgesFocusable={!readOnly}
						deleteKeyCode={readOnly ? null : ['Delete', 'Backspace']}
						fitView={first.nodes.length > 0}
						defaultViewport={{ x: 0, y: 0, zoom: 1 }}
						maxZoom={1.5}
						fitViewOptions={{ padding: 0.15 }}
						minZoom={0.2}
						proOptions={{ hideAttribution: true }}
					>
						<Background />
						<Controls showInteractive={false} />
						<MiniMap pannable zoomable ariaLabel="Minimap" />
					</ReactFlow>
				</div>
				<div className="bl-side">
					<section className="bl-props card" aria-labelledby="props-h">
						<h2 id="props-h">{one || selected.length ? 'Properties' : 'Pattern'}</h2>
						{one ? (
							<PropertyPanel
								key={`${one.data.uid}:${panelRev}`}
								node={one}
								type={typeMap.get(one.data.def.type)}
								nodes={nodes}
								readOnly={readOnly}
								onOption={setOption}
								onRename={rename}
								sources={{ types: typeMap, edges, wouldCycle: (from, to) => reaches(edges, to, from), onSource: setSource }}
								problems={problemsByNode.get(one.id)}
							/>
						) : (
							selected.length ? (
								<p className="muted">{selected.length} nodes selected: copy, duplicate or delete them together, or drag them as one.</p>
							) : (
								<PatternPanel key={panelRev} meta={meta} readOnly={readOnly} onMeta={setMeta} />
							)
						)}
					</section>
					<Problems problems={problems} state={vstate} nodes={nodes} onPick={focusNode} />
					{pattern && boot.can_run && savedDoc ? (
						<RunPanel
							key={`${pattern.id}:${pattern.version}`}
							pattern={pattern}
							schema={savedDoc.input}
							nodeIds={(savedDoc.nodes || []).map((n) => n && n.id).filter(Boolean)}
							dirty={dirty}
							onRun={(r) => {
								ranOn.current = bare;
								setRun(r);
							}}
						/>
					) : null}
				</div>
			</div>
			<TextPanel text={text} error={textError} readOnly={readOnly} onText={onText} format={format} onFormat={onFormat} />
		</Shared.Provider>
	);
}

function centerOf(el) {
	const r = el ? el.getBoundingClientRect() : { left: 0, top: 0, width: 400, height: 300 };
	return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
}

export default function Builder({ boot, types }) {
	return (
		<ReactFlowProvider>
			<Canvas boot={boot} types={types} />
		</ReactFlowProvider>
	);
}
