// A signed-in browser without the browser, for the page tests over plain HTTP: it keeps
// cookies, and its form posts carry the CSRF token of the last page it read.
import assert from 'node:assert/strict';
import { request } from './server.mjs';

export class Browser {
	constructor(server) {
		this.server = server;
		this.cookies = new Map();
		this.csrf = null;
	}

	keep(res) {
		const raw = res.headers['set-cookie'];
		for (const line of Array.isArray(raw) ? raw : raw ? [raw] : []) {
			const [pair] = line.split(';');
			const i = pair.indexOf('=');
			const name = pair.slice(0, i).trim();
			if (/max-age=0/i.test(line) || i === pair.length - 1) this.cookies.delete(name);
			else this.cookies.set(name, pair.slice(i + 1).trim());
		}
		const field = /<input type="hidden" name="csrf" value="([^"]+)">/.exec(res.text);
		if (field) this.csrf = field[1];
		return res;
	}

	header(extra = {}) {
		return { Cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '), ...extra };
	}

	async get(path) {
		return this.keep(await request(this.server, 'GET', path, { headers: this.header() }));
	}

	// fields without csrf: the page's token is added (csrf: null sends none).
	async post(path, fields) {
		const all = { csrf: this.csrf, ...fields };
		if (all.csrf === null) delete all.csrf;
		return this.keep(await request(this.server, 'POST', path, {
			headers: this.header({ 'Content-Type': 'application/x-www-form-urlencoded', Origin: this.server.url }),
			body: new URLSearchParams(all).toString(),
		}));
	}

	async signIn(email, password) {
		await this.get('/login');
		const res = await this.post('/login', { email, password });
		assert.equal(res.status, 303, res.text);
		assert.ok(this.cookies.get('parallax_session'), 'signed in');
		return this;
	}

	// The one-shot notice the last post left, as its page shows it.
	async flash(path) {
		const page = await this.get(path);
		const text = /<p class="flash[^"]*" role="\w+" id="flash">([^<]*)<\/p>/.exec(page.text)?.[1];
		const entities = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&#x27;': "'" };
		return text?.replace(/&(amp|lt|gt|quot|#39|#x27);/g, (e) => entities[e]) ?? null;
	}
}
