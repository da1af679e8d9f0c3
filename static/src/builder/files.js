// Pattern documents as files: export (a download made in the page) and import (a file the
// user picks, read in the page). YAML and JSON both; the server reads either.
import { fromYaml, toYaml } from './doc.js';

const MAX_BYTES = 1 << 20; // the server's own limit for a pattern document

// Starts a download of doc as name.yaml or name.json.
export function download(doc, format) {
	const json = format === 'json';
	const text = json ? `${JSON.stringify(doc, null, 2)}\n` : toYaml(doc);
	const blob = new Blob([text], { type: json ? 'application/json' : 'application/yaml' });
	const a = document.createElement('a');
	a.href = URL.createObjectURL(blob);
	a.download = `${(doc.name || 'pattern').replace(/[^A-Za-z0-9_-]/g, '_')}.${json ? 'json' : 'yaml'}`;
	document.body.appendChild(a);
	a.click();
	a.remove();
	setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

// A picked file -> {doc} or {error} (JSON when it reads as JSON, YAML otherwise: JSON is
// YAML too, but JSON's own parser gives the better message for a .json file).
export async function readDocument(file) {
	if (file.size > MAX_BYTES) return { error: `${file.name} is larger than 1 MiB.` };
	let text;
	try {
		text = await file.text();
	} catch {
		return { error: `${file.name} could not be read.` };
	}
	if (/\.json$/i.test(file.name) || /^\s*\{/.test(text)) {
		try {
			const doc = JSON.parse(text);
			if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return { error: `${file.name}: the document must be an object (name, nodes, …).` };
			return { doc };
		} catch (e) {
			return { error: `${file.name} is not JSON: ${e.message}` };
		}
	}
	const r = fromYaml(text);
	return r.error ? { error: `${file.name}, line ${r.line ?? '?'}: ${r.error}` } : { doc: r.doc };
}
