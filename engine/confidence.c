/*
 * The confidence algebra of SPEC §3: clamping, and/or/best/coalesce/gate,
 * bands, the "CONFIDENCE: x" marker in text replies, and the aggregates the
 * node types and the built-in library use (vote, consensus, means, review).
 * Everything here is pure: no allocation except one copy in conf_from_text.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "core/core.h"

double conf_clamp(double c)
{
	if (!isfinite(c) || c == CONF_NONE)
		return CONF_NONE;
	if (c <= 0.0)
		return 0.0; /* also turns -0.0 into +0.0 */
	return c > 1.0 ? 1.0 : c;
}

double conf_from_value(double v)
{
	if (!isfinite(v))
		return CONF_NONE;
	if (v <= 0.0)
		return 0.0;
	return v > 1.0 ? 1.0 : v;
}

double conf_of_plain(void)
{
	return 1.0;
}

/* Min (want_max == 0) or max over the values that carry a signal. */
static double conf_extreme(const double *c, size_t n, int want_max)
{
	double best = CONF_NONE, v;

	for (size_t i = 0; i < n; i++) {
		v = conf_clamp(c[i]);
		if (v == CONF_NONE)
			continue;
		if (best == CONF_NONE || (want_max ? v > best : v < best))
			best = v;
	}
	return best;
}

double conf_and(const double *c, size_t n)
{
	return conf_extreme(c, n, 0);
}

double conf_or(const double *c, size_t n)
{
	return conf_extreme(c, n, 1);
}

size_t conf_best(const double *c, size_t n)
{
	size_t best = CONF_NO_INDEX;
	double bv = CONF_NONE, v;

	for (size_t i = 0; i < n; i++) {
		v = conf_clamp(c[i]);
		if (best == CONF_NO_INDEX || v > bv) {
			best = i;
			bv = v;
		}
	}
	return best;
}

size_t conf_coalesce(const double *c, size_t n, double t)
{
	double v;

	if (n == 0)
		return CONF_NO_INDEX;
	if (isnan(t))
		t = CONF_COALESCE_DEFAULT;
	for (size_t i = 0; i < n; i++) {
		v = conf_clamp(c[i]);
		if (v != CONF_NONE && v >= t)
			return i;
	}
	return n - 1;
}

double conf_gate(double c, double threshold)
{
	double v = conf_clamp(c);

	return v != CONF_NONE && v >= threshold ? v : 0.0;
}

enum band conf_band(double c, double high, double medium)
{
	double v = conf_clamp(c);

	if (v == CONF_NONE)
		return BAND_LOW;
	if (v >= high)
		return BAND_HIGH;
	return v >= medium ? BAND_MEDIUM : BAND_LOW;
}

/* ---- the text marker ------------------------------------------------------------ */

/* Length of the escape sequence starting at s[0] == ESC (ECMA-48): CSI up to
 * its final byte, OSC/DCS/APC/PM up to BEL or ST, else ESC + intermediates + final.
 * An unterminated sequence runs to the end. */
static size_t ansi_len(const unsigned char *s, size_t n)
{
	size_t i = 1;

	if (n < 2)
		return n;
	if (s[1] == '[') {
		for (i = 2; i < n; i++)
			if (s[i] >= 0x40 && s[i] <= 0x7E)
				return i + 1;
		return n;
	}
	if (s[1] == ']' || s[1] == 'P' || s[1] == '_' || s[1] == '^') {
		for (i = 2; i < n; i++) {
			if (s[i] == 0x07)
				return i + 1;
			if (s[i] == 0x1B && i + 1 < n && s[i + 1] == '\\')
				return i + 2;
		}
		return n;
	}
	while (i < n && s[i] >= 0x20 && s[i] <= 0x2F)
		i++;
	return i < n ? i + 1 : n;
}

/* Copy text without escape sequences into out (len + 1 bytes); returns the length. */
static size_t ansi_strip(const char *text, size_t len, char *out)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0, o = 0;

	while (i < len) {
		if (s[i] == 0x1B) {
			i += ansi_len(s + i, len - i);
			continue;
		}
		out[o++] = (char)s[i++];
	}
	out[o] = '\0';
	return o;
}

static int is_word(unsigned char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '_';
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* Parse [+-]digits[.digits] or [+-].digits with an optional '%' from s[0..n).
 * Up to 15 significant digits are kept as an integer mantissa and divided by
 * an exact power of ten, so "0.85" gives exactly the double 0.85 (no strtod,
 * no locale). Returns the clamped value, or CONF_NONE without a digit. */
static double parse_number(const unsigned char *s, size_t n)
{
	static const double p10[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
				      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15 };
	size_t i = 0, sig = 0, nfrac = 0;
	uint64_t mant = 0;
	int neg = 0, any = 0, big = 0;
	double v;

	if (i < n && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	for (; i < n && is_digit(s[i]); i++) {
		any = 1;
		if (sig == 0 && s[i] == '0')
			continue;
		if (sig++ < 15)
			mant = mant * 10 + (uint64_t)(s[i] - '0');
		else
			big = 1;
	}
	if (i < n && s[i] == '.') {
		for (i++; i < n && is_digit(s[i]); i++) {
			any = 1;
			if (sig >= 15 || nfrac >= 15)
				continue; /* below 1e-15: beyond what a confidence means */
			mant = mant * 10 + (uint64_t)(s[i] - '0');
			nfrac++;
			sig += sig || s[i] != '0';
		}
	}
	if (!any)
		return CONF_NONE;
	v = big ? 1e15 : (double)mant / p10[nfrac];
	if (i < n && s[i] == '%')
		v /= 100.0;
	return conf_clamp(neg ? -v : v);
}

static int match_nocase(const unsigned char *s, const char *word, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((s[i] | 0x20) != (unsigned char)word[i])
			return 0;
	return 1;
}

static size_t skip_blanks(const unsigned char *s, size_t i, size_t n)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

/* The value of the marker whose word starts at s[i], or CONF_NONE. */
static double marker_at(const unsigned char *s, size_t i, size_t n)
{
	static const char word[] = "confidence";
	const size_t wl = sizeof(word) - 1;

	if (n - i < wl || !match_nocase(s + i, word, wl) || (i > 0 && is_word(s[i - 1])))
		return CONF_NONE;
	i = skip_blanks(s, i + wl, n);
	if (i >= n || s[i] != ':')
		return CONF_NONE;
	i = skip_blanks(s, i + 1, n);
	return parse_number(s + i, n - i);
}

double conf_from_text(const char *text, size_t len)
{
	const unsigned char *s;
	double last = CONF_NONE, v;
	char *copy;
	size_t n;

	if (!text || len == 0)
		return CONF_NONE;
	copy = xmalloc(len + 1);
	n = ansi_strip(text, len, copy);
	s = (const unsigned char *)copy;
	for (size_t i = 0; i < n; i++) {
		if ((s[i] | 0x20) != 'c')
			continue;
		v = marker_at(s, i, n);
		if (v != CONF_NONE)
			last = v;
	}
	free(copy);
	return last;
}

/* ---- aggregates over agent results ------------------------------------------------ */

static int has_answer(const struct conf_result *r)
{
	return !r->failed && r->key;
}

static double expertise_of(const struct conf_result *r)
{
	return isfinite(r->expertise) && r->expertise > 0.0 ? r->expertise : 0.0;
}

/* 1 if no earlier counted result has r[i]'s key. */
static int first_of_key(const struct conf_result *r, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (has_answer(&r[j]) && strcmp(r[j].key, r[i].key) == 0)
			return 0;
	return 1;
}

struct group {
	size_t count;
	double weight;   /* sum of weights */
	double conf_sum; /* sum of confidences that carry a signal */
	size_t conf_n;
};

/* The group of r[first]'s key: members at first and after. */
static void group_scan(const struct conf_result *r, size_t n, size_t first, enum conf_weight w,
		       struct group *g)
{
	double c;

	memset(g, 0, sizeof(*g));
	for (size_t j = first; j < n; j++) {
		if (!has_answer(&r[j]) || strcmp(r[j].key, r[first].key) != 0)
			continue;
		g->count++;
		c = conf_clamp(r[j].confidence);
		if (c == CONF_NONE)
			continue;
		g->conf_sum += c;
		g->conf_n++;
		g->weight += w == CONF_WEIGHT_EXPERTISE ? c * expertise_of(&r[j]) : c;
	}
}

static double group_mean(const struct group *g)
{
	return g->conf_n ? g->conf_sum / (double)g->conf_n : CONF_NONE;
}

/* Mean confidence over results with an answer (signals only), or CONF_NONE. */
static double counted_mean(const struct conf_result *r, size_t n)
{
	double sum = 0.0, c;
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		c = has_answer(&r[i]) ? conf_clamp(r[i].confidence) : CONF_NONE;
		if (c == CONF_NONE)
			continue;
		sum += c;
		k++;
	}
	return k ? sum / (double)k : CONF_NONE;
}

void conf_vote(const struct conf_result *r, size_t n, struct conf_vote *out)
{
	struct group g, best = { 0 };

	memset(out, 0, sizeof(*out));
	out->winner = CONF_NO_INDEX;
	for (size_t i = 0; i < n; i++) {
		if (!has_answer(&r[i]))
			continue;
		out->counted++;
		if (!first_of_key(r, i))
			continue;
		out->groups++;
		group_scan(r, n, i, CONF_WEIGHT_CONFIDENCE, &g);
		if (out->winner == CONF_NO_INDEX || g.count > best.count) {
			out->winner = i;
			out->tied = 0;
			best = g;
		} else if (g.count == best.count) {
			out->tied = 1;
		}
	}
	out->winner_count = best.count;
	out->unanimous = out->groups == 1;
	out->majority = out->counted && best.count * 2 > out->counted;
	out->agreement = out->counted ? (double)best.count / (double)out->counted : 0.0;
	out->mean = group_mean(&best);
	out->mean_counted = counted_mean(r, n);
	out->confidence = out->mean == CONF_NONE ? CONF_NONE : out->agreement * out->mean;
}

/* a and b equal within 1e-9 relative: sums taken in another order still tie. */
static int weight_eq(double a, double b)
{
	double scale = fmax(1.0, fmax(fabs(a), fabs(b)));

	return fabs(a - b) <= 1e-9 * scale;
}

void conf_consensus(const struct conf_result *r, size_t n, enum conf_weight w,
		    struct conf_consensus *out)
{
	struct group g, best = { 0 };

	memset(out, 0, sizeof(*out));
	out->winner = CONF_NO_INDEX;
	for (size_t i = 0; i < n; i++) {
		if (!has_answer(&r[i]))
			continue;
		out->counted++;
		if (!first_of_key(r, i))
			continue;
		out->groups++;
		group_scan(r, n, i, w, &g);
		out->total_weight += g.weight;
		if (out->winner == CONF_NO_INDEX ||
		    (g.weight > best.weight && !weight_eq(g.weight, best.weight))) {
			out->winner = i;
			out->tied = 0;
			best = g;
		} else if (weight_eq(g.weight, best.weight)) {
			out->tied = 1;
		}
	}
	out->winner_count = best.count;
	out->winner_weight = best.weight;
	out->agreement = out->total_weight > 0.0 ? best.weight / out->total_weight : 0.0;
	if (out->agreement > 1.0)
		out->agreement = 1.0;
	out->mean = group_mean(&best);
	out->reached = out->mean != CONF_NONE && out->mean >= CONF_CONSENSUS_MEAN &&
		       out->agreement >= CONF_CONSENSUS_AGREEMENT;
}

double conf_weighted_mean(const struct conf_result *r, size_t n)
{
	double num = 0.0, den = 0.0, c, e;

	for (size_t i = 0; i < n; i++) {
		c = r[i].failed ? 0.0 : conf_clamp(r[i].confidence);
		if (c == CONF_NONE)
			continue;
		e = expertise_of(&r[i]);
		num += c * e;
		den += e;
	}
	return den > 0.0 ? conf_clamp(num / den) : CONF_NONE;
}

/* Mean with failed results as 0 (all) or left out (!all); no-signal ones skipped. */
static double conf_mean(const struct conf_result *r, size_t n, int all)
{
	double sum = 0.0, c;
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (r[i].failed && !all)
			continue;
		c = r[i].failed ? 0.0 : conf_clamp(r[i].confidence);
		if (c == CONF_NONE)
			continue;
		sum += c;
		k++;
	}
	return k ? conf_clamp(sum / (double)k) : CONF_NONE;
}

double conf_mean_all(const struct conf_result *r, size_t n)
{
	return conf_mean(r, n, 1);
}

double conf_mean_success(const struct conf_result *r, size_t n)
{
	return conf_mean(r, n, 0);
}

double conf_review(enum review_verdict v, double stated)
{
	double s = conf_clamp(stated);

	switch (v) {
	case REVIEW_APPROVE:
		return s == CONF_NONE ? 0.9 : s;
	case REVIEW_REVISE:
		return s == CONF_NONE || s > 0.6 ? 0.6 : s;
	case REVIEW_REJECT:
		return s == CONF_NONE || s > 0.3 ? 0.3 : s;
	}
	return 0.0;
}
