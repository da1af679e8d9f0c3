// The dashboard's script, bundled by esbuild into /static/dist/app.js (CMake runs it).
// Every page works without it; with it: htmx for partial updates, a theme toggle that
// persists, and live pages that follow an execution's events.
import htmx from 'htmx.org';
import './agents.js';

window.htmx = htmx;

// ---- theme: the system's, unless the toggle chose one (kept in localStorage) ----
const THEME_KEY = 'parallax-theme';
function applyTheme(theme) {
	const root = document.documentElement;
	if (theme === 'light' || theme === 'dark') root.dataset.theme = theme;
	else delete root.dataset.theme;
	const dark = (root.dataset.theme || (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light')) === 'dark';
	for (const b of document.querySelectorAll('[data-theme-toggle]')) {
		b.setAttribute('aria-pressed', String(dark));
		b.hidden = false;
	}
}
let stored = null;
try {
	stored = localStorage.getItem(THEME_KEY);
} catch {
	/* storage refused: the system's theme */
}
applyTheme(stored);
document.addEventListener('DOMContentLoaded', () => applyTheme(stored));
document.addEventListener('click', (e) => {
	const button = e.target.closest('[data-theme-toggle]');
	if (!button) return;
	const root = document.documentElement;
	const now = root.dataset.theme || (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
	stored = now === 'dark' ? 'light' : 'dark';
	try {
		localStorage.setItem(THEME_KEY, stored);
	} catch {
		/* not kept, still applied */
	}
	applyTheme(stored);
});

// ---- live regions ----
// <div id="live" data-live-events="/api/v1/executions/ID/events?follow=1" data-live-terminal="false">:
// each event of the stream re-reads this page and swaps the region (server-rendered, so
// there is one source of truth), until the region says the execution is terminal.
// <div id="list" data-live-feed="/api/v1/executions/feed">: the same on each 'changed' event
// of the workspace's feed (a list page). A region that htmx swaps out stops following.
const EVENT_TYPES = ['execution_started', 'execution_resumed', 'execution_finished', 'node_started', 'node_finished', 'node_skipped',
	'node_failed', 'waiting_approval', 'approval_decided', 'approval_timed_out', 'policy'];

function follow(region) {
	const feed = region.dataset.liveFeed;
	if (region.liveSource || (!feed && region.dataset.liveTerminal === 'true')) return;
	const source = new EventSource(feed || region.dataset.liveEvents);
	region.liveSource = source;
	let pending = null;
	const refresh = async () => {
		pending = null;
		if (!region.isConnected) {
			source.close();
			return;
		}
		const res = await fetch(location.href, { headers: { Accept: 'text/html' }, credentials: 'same-origin' });
		if (!res.ok) return;
		const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
		const fresh = doc.getElementById(region.id);
		if (!fresh || !region.isConnected) return;
		region.replaceChildren(...Array.from(fresh.childNodes, (n) => document.importNode(n, true)));
		if (window.htmx) window.htmx.process(region);
		if (feed) return;
		region.dataset.liveTerminal = fresh.dataset.liveTerminal;
		if (fresh.dataset.liveTerminal === 'true') source.close();
	};
	const soon = () => {
		if (!pending) pending = setTimeout(refresh, 100);
	};
	if (feed) {
		source.addEventListener('changed', soon);
		return; // EventSource reconnects by itself when the server ends the stream
	}
	for (const type of EVENT_TYPES) source.addEventListener(type, soon);
	// the server ends the stream at the terminal state: read the page once more, then stop
	source.onerror = () => {
		if (source.readyState === EventSource.CLOSED || region.dataset.liveTerminal === 'true') source.close();
		soon();
	};
}

function start(root) {
	const regions = Array.from(root.querySelectorAll('[data-live-events], [data-live-feed]'));
	if (root.matches && root.matches('[data-live-events], [data-live-feed]')) regions.push(root);
	for (const region of regions) if (region.dataset.liveEvents || region.dataset.liveFeed) follow(region);
}
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => start(document));
else start(document);
// htmx swapped new content in (filters, pages): follow its regions, close the old ones'
document.addEventListener('htmx:load', (e) => start(e.detail.elt));
document.addEventListener('htmx:beforeCleanupElement', (e) => {
	if (e.detail.elt.liveSource) e.detail.elt.liveSource.close();
});

// ---- confirmations: <form data-confirm="Question?"> asks before it posts (without the
// script, it posts at once) ----
document.addEventListener('submit', (e) => {
	const form = e.target.closest('form[data-confirm]');
	if (form && !window.confirm(form.dataset.confirm)) e.preventDefault();
});

// ---- long work shows progress: a plain form that posts marks its button busy until the next
// page arrives (and a second click cannot post it twice); htmx forms have their own request
// class. Disabled after the submit event, so the clicked button's name and value still go. ----
document.addEventListener('submit', (e) => {
	const form = e.target;
	if (e.defaultPrevented || form.hasAttribute('hx-get') || form.hasAttribute('hx-post')) return;
	const button = e.submitter;
	setTimeout(() => {
		form.setAttribute('aria-busy', 'true');
		if (button) button.classList.add('busy');
		for (const b of form.querySelectorAll('button[type="submit"], button:not([type])')) b.disabled = true;
	}, 0);
});
// back/forward cache: a page restored from it must not keep its buttons disabled
window.addEventListener('pageshow', (e) => {
	if (!e.persisted) return;
	for (const f of document.querySelectorAll('form[aria-busy="true"]')) {
		f.removeAttribute('aria-busy');
		for (const b of f.querySelectorAll('button')) {
			b.disabled = false;
			b.classList.remove('busy');
		}
	}
});

// ---- the workspace switcher (<details id="ws-switch">): a menu closes on Escape, giving focus
// back to its summary, and on a click or focus elsewhere; without the script it closes by its
// summary only ----
function closeSwitcher(refocus) {
	const menu = document.getElementById('ws-switch');
	if (!menu || !menu.open) return;
	menu.open = false;
	if (refocus) menu.querySelector('summary').focus();
}
document.addEventListener('keydown', (e) => {
	if (e.key === 'Escape' && e.target.closest && e.target.closest('#ws-switch')) closeSwitcher(true);
});
for (const type of ['click', 'focusin']) {
	document.addEventListener(type, (e) => {
		if (!e.target.closest || !e.target.closest('#ws-switch')) closeSwitcher(false);
	});
}
