// What saving would change: the YAML of the last saved version against the canvas's, line
// by line (jsdiff), with three lines of context around each change. Layout is left out of
// the comparison (positions under ui change with every drag) and said in one line.
import { useMemo } from 'react';
import { diffLines } from 'diff';
import { toYaml } from './doc.js';

const CONTEXT = 3;

function withoutUi(doc) {
	const { ui, ...rest } = doc || {};
	return rest;
}

// Lines with their kind (' ', '+', '-'), long unchanged runs folded to a marker.
function hunks(before, after) {
	const lines = [];
	for (const part of diffLines(before, after)) {
		const kind = part.added ? '+' : part.removed ? '-' : ' ';
		const text = part.value.endsWith('\n') ? part.value.slice(0, -1) : part.value;
		for (const l of text.split('\n')) lines.push({ kind, text: l });
	}
	const keep = lines.map(() => false);
	lines.forEach((l, i) => {
		if (l.kind === ' ') return;
		for (let k = Math.max(0, i - CONTEXT); k <= Math.min(lines.length - 1, i + CONTEXT); k++) keep[k] = true;
	});
	const out = [];
	let folded = 0;
	lines.forEach((l, i) => {
		if (keep[i]) {
			if (folded) out.push({ kind: '…', text: `${folded} unchanged line${folded === 1 ? '' : 's'}` });
			folded = 0;
			out.push(l);
		} else folded++;
	});
	if (folded && out.length) out.push({ kind: '…', text: `${folded} unchanged line${folded === 1 ? '' : 's'}` });
	return out;
}

export default function Changes({ saved, current, version }) {
	const { lines, added, removed, layout } = useMemo(() => {
		const a = toYaml(withoutUi(saved));
		const b = toYaml(withoutUi(current));
		const ls = a === b ? [] : hunks(a, b);
		return {
			lines: ls,
			added: ls.filter((l) => l.kind === '+').length,
			removed: ls.filter((l) => l.kind === '-').length,
			layout: JSON.stringify(saved?.ui?.positions || null) !== JSON.stringify(current?.ui?.positions || null),
		};
	}, [saved, current]);
	if (!lines.length && !layout) return null;
	return (
		<details className="bl-changes card" id="changes">
			<summary>
				Changes since v{version}:{' '}
				{lines.length ? (
					<>
						<span className="diff-add">+{added}</span> <span className="diff-del">−{removed}</span> lines
					</>
				) : (
					'none'
				)}
				{layout ? ', and the layout' : ''}
			</summary>
			{lines.length ? (
				<pre className="bl-diff" aria-label={`Changes since version ${version}`}>
					{lines.map((l, i) => (
						<span key={i} className={l.kind === '+' ? 'dl-add' : l.kind === '-' ? 'dl-del' : l.kind === '…' ? 'dl-fold' : 'dl-same'}>
							<span className="dl-mark" aria-hidden="true">{l.kind === '…' ? '' : l.kind}</span>
							{l.kind === '+' ? <span className="sr-only">added: </span> : l.kind === '-' ? <span className="sr-only">removed: </span> : null}
							{l.text}
							{'\n'}
						</span>
					))}
				</pre>
			) : (
				<p className="muted">Only the nodes' positions moved.</p>
			)}
		</details>
	);
}
