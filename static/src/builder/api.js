// The builder's calls to the API: same origin, the session cookie, the page's workspace in
// X-Parallax-Workspace, and the page's CSRF token in X-CSRF-Token for every write (the
// server checks it and the Origin).
let csrf = '';

export function setCsrf(token) {
	csrf = token || '';
}

// {status, json}; a network failure is status 0 with json null.
export async function api(method, url, body, signal) {
	const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' }, signal };
	if (body !== undefined) {
		init.headers['Content-Type'] = 'application/json';
		init.body = JSON.stringify(body);
	}
	if (method !== 'GET') init.headers['X-CSRF-Token'] = csrf;
	// the workspace this page was drawn in, not the browser's latest pick: a switch in another
	// tab must not send this canvas's save to another workspace
	const workspace = document.body.dataset.workspace;
	if (workspace) init.headers['X-Parallax-Workspace'] = workspace;
	let res;
	try {
		res = await fetch(url, init);
	} catch (e) {
		if (e.name === 'AbortError') throw e;
		return { status: 0, json: null };
	}
	let json = null;
	try {
		json = await res.json();
	} catch {
		/* an empty or non-JSON answer: the status says enough */
	}
	return { status: res.status, json };
}

// The API's refusal as one line of text.
export function refusal(r) {
	const e = r.json && r.json.error;
	if (e && e.message) return e.message;
	return r.status ? `The server answered ${r.status}.` : 'The server could not be reached.';
}
