// JWT forging helpers for the auth suite (node:crypto only).
//
// The server signs access tokens with HS256 and a 32-byte key kept in <dataDir>/jwt.key.
// Tests read that key to build tokens with a VALID signature but bad claims or headers:
// what only a key holder could make, so a refusal proves the claim or header check itself
// and not merely the signature check. Tokens signed with any other key (a wrong secret, a
// PEM public key, an attacker's RSA/EC key, an empty key) model an attacker without it.
import { createHmac, createSign, generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export const ISSUER = 'parallax';
export const AUDIENCE = 'parallax-api';

export function b64url(data) {
	return Buffer.from(typeof data === 'string' ? data : data).toString('base64url');
}

// A header or payload segment: an object is JSON-encoded; a string is taken as the raw
// JSON text (to send duplicate keys or odd numbers exactly as written).
export function segment(part) {
	return b64url(typeof part === 'string' ? part : JSON.stringify(part));
}

export function decodeJwt(token) {
	const [h, p, s] = token.split('.');
	return {
		header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')),
		payload: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')),
		signature: Buffer.from(s || '', 'base64url'),
	};
}

// The server's HMAC key: 32 raw bytes in <dataDir>/jwt.key (mode 0600).
export async function readJwtKey(dataDir) {
	const key = await readFile(path.join(dataDir, 'jwt.key'));
	if (key.length !== 32) throw new Error(`jwt.key has ${key.length} bytes, expected 32`);
	return key;
}

const HMAC = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };

// HMAC-signs `${segment(header)}.${segment(payload)}` with `key` (Buffer or string, '' allowed).
export function signHmac(header, payload, key, alg = header.alg ?? 'HS256') {
	const hash = HMAC[alg];
	if (!hash) throw new Error(`signHmac: not an HMAC algorithm: ${alg}`);
	const input = `${segment(header)}.${segment(payload)}`;
	return `${input}.${createHmac(hash, key).update(input).digest('base64url')}`;
}

// An unsigned token: header {alg: algName}, empty signature ("h.p.").
export function algNone(payload, algName = 'none', extraHeader = {}) {
	return `${segment({ alg: algName, typ: 'JWT', ...extraHeader })}.${segment(payload)}.`;
}

let rsaPair;
let ecPair;
export function rsaKeys() {
	rsaPair ??= generateKeyPairSync('rsa', { modulusLength: 2048 });
	return rsaPair;
}
export function ecKeys() {
	ecPair ??= generateKeyPairSync('ec', { namedCurve: 'P-256' });
	return ecPair;
}

// The attacker's RSA public key as a PEM string: the classic "alg confusion" secret.
export function rsaPublicPem() {
	return rsaKeys().publicKey.export({ type: 'spki', format: 'pem' });
}

// RS256 / ES256 signed with a freshly generated key pair (the attacker's own).
export function signAsymmetric(alg, payload, extraHeader = {}) {
	const header = { alg, typ: 'JWT', ...extraHeader };
	const input = `${segment(header)}.${segment(payload)}`;
	const s = createSign('SHA256').update(input);
	const sig =
		alg === 'RS256'
			? s.sign(rsaKeys().privateKey)
			: alg === 'ES256'
				? s.sign({ key: ecKeys().privateKey, dsaEncoding: 'ieee-p1363' })
				: null;
	if (!sig) throw new Error(`signAsymmetric: unsupported ${alg}`);
	return `${input}.${b64url(sig)}`;
}

export const nowS = () => Math.floor(Date.now() / 1000);

// Claims shaped exactly like the server's access tokens; `base` (a real token's payload)
// supplies sub/tid/sid, `over` replaces or (with undefined values) removes claims.
export function accessClaims(base, over = {}) {
	const now = nowS();
	const c = {
		iss: ISSUER,
		aud: AUDIENCE,
		sub: base.sub,
		tid: base.tid,
		sid: base.sid,
		jti: randomUUID(),
		typ: 'access',
		iat: now,
		nbf: now,
		exp: now + 900,
	};
	for (const [k, v] of Object.entries(over)) {
		if (v === undefined) delete c[k];
		else c[k] = v;
	}
	return c;
}

// HS256 with the given key and the server's header.
export function forgeHs256(key, claims, extraHeader = {}) {
	return signHmac({ alg: 'HS256', typ: 'JWT', ...extraHeader }, claims, key, 'HS256');
}

// Flips one bit of one part (0 header, 1 payload, 2 signature) of a token: the part is
// decoded, bit `bit` of byte `byte` (negative counts from the end) is flipped, and the part
// is re-encoded, so the result always differs in the bytes (not just in padding bits).
export function flipBit(token, part, byte = -1, bit = 0) {
	const parts = token.split('.');
	const buf = Buffer.from(parts[part], 'base64url');
	const i = byte < 0 ? buf.length + byte : byte;
	buf[i] ^= 1 << bit;
	parts[part] = b64url(buf);
	return parts.join('.');
}

// Replaces the payload of a real token (keeping its header and signature).
export function swapPayload(token, payload) {
	const [h, , s] = token.split('.');
	return `${h}.${segment(payload)}.${s}`;
}
