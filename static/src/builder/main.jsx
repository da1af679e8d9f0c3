// The pattern builder's entry: reads what the page rendered (the definition and the
// viewer's rights in <script type="application/json" id="builder-data">, the CSRF token on
// the mount point), fetches the node types the palette and the forms are made from (and
// the library pattern to start from, when the page names one), and mounts the canvas. Styles: React Flow's own, then the builder's (no inline style
// elements: the CSP allows style sheets from 'self' only).
import '@xyflow/react/dist/style.css';
import './builder.css';
import { createRoot } from 'react-dom/client';
import Builder from './Builder.jsx';
import { api, refusal, setCsrf } from './api.js';

async function start() {
	const mount = document.getElementById('builder');
	const data = document.getElementById('builder-data');
	if (!mount || !data) return;
	const loading = document.getElementById('builder-loading');
	let boot;
	try {
		boot = JSON.parse(data.textContent);
	} catch {
		if (loading) loading.textContent = 'The builder could not read this page.';
		return;
	}
	setCsrf(mount.dataset.csrf);
	const r = await api('GET', boot.node_types_url);
	if (r.status !== 200 || !r.json || !Array.isArray(r.json.items)) {
		if (loading) loading.textContent = `The node types could not be loaded: ${refusal(r)}`;
		return;
	}
	// ?template=NAME: a library pattern as the starting point of a new one
	if (boot.template && !boot.pattern) {
		const t = await api('GET', `${boot.library_url}/${encodeURIComponent(boot.template)}`);
		if (t.status === 200 && t.json && t.json.definition) {
			boot.definition = t.json.definition;
			boot.notice = `Started from the library pattern ${t.json.name}: nothing is saved until you create it.`;
		} else boot.notice = `No library pattern could be opened as "${boot.template}": ${refusal(t)}`;
	}
	if (loading) loading.remove();
	createRoot(mount).render(<Builder boot={boot} types={r.json.items} />);
}

start();
