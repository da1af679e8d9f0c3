/*
 * A line diff for the versions page (declared in web/patterns_internal.h).
 *
 * DESIGN
 * - Lines are compared by an FNV-1a hash first, then by their bytes.
 * - The common head and tail are trimmed first, so the usual small edit of a
 *   long document costs little; Myers' greedy O((N+M)D) algorithm runs on the
 *   rest and gives a shortest edit script.
 * - Myers keeps every round's furthest-reaching x per diagonal to walk back:
 *   round d needs 2d + 1 entries, so memory is O(D^2). Past DIFF_MAX_EDITS
 *   rounds the middle counts as replaced (every old line removed, every new
 *   one added), which bounds a request at a few megabytes and milliseconds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/patterns_internal.h"
#include "core/core.h"

struct edits {
	struct diff_edit *e;
	int n, cap;
};

static void edit_add(struct edits *es, enum diff_op op, int a, int b)
{
	if (es->n == es->cap) {
		es->cap = es->cap ? 2 * es->cap : 64;
		es->e = xrealloc(es->e, (size_t)es->cap * sizeof(*es->e));
	}
	es->e[es->n++] = (struct diff_edit){op, a, b};
}

struct diff_line *diff_split(const char *text, int *count)
{
	int n = 0, cap = 64;
	struct diff_line *l = xmalloc((size_t)cap * sizeof(*l));
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		uint32_t h = 2166136261u;
		for (size_t i = 0; i < len; i++)
			h = (h ^ (unsigned char)p[i]) * 16777619u;
		if (n == cap) {
			cap *= 2;
			l = xrealloc(l, (size_t)cap * sizeof(*l));
		}
		l[n++] = (struct diff_line){p, len, h};
		p += len + (nl != NULL);
	}
	*count = n;
	return l;
}

int diff_same(const struct diff_line *x, const struct diff_line *y)
{
	return x->h == y->h && x->n == y->n && !memcmp(x->s, y->s, x->n);
}

/*
 * Myers over a[0..n) and b[0..m), the edits' line numbers offset by a0 and b0: v[k] is
 * the furthest x reached on diagonal k = x - y with d edits (a move right removes
 * a[x], a move down adds b[y], a diagonal keeps a line); the end is (n, m).
 */
static void myers(const struct diff_line *a, int n, const struct diff_line *b, int m, int a0,
		  int b0, struct edits *es)
{
	int dmax = n + m < DIFF_MAX_EDITS ? n + m : DIFF_MAX_EDITS, off = dmax + 1, found = -1;
	int *v = xcalloc((size_t)(2 * dmax + 3), sizeof(int));
	int *trace = xmalloc((size_t)(dmax + 1) * (size_t)(dmax + 1) * sizeof(int));
	struct edits back = {NULL, 0, 0};
	for (int d = 0; d <= dmax && found < 0; d++) {
		for (int k = -d; k <= d; k += 2) {
			int x = k == -d || (k != d && v[off + k - 1] < v[off + k + 1])
				    ? v[off + k + 1]
				    : v[off + k - 1] + 1;
			int y = x - k;
			while (x < n && y < m && diff_same(&a[x], &b[y]))
				x++, y++;
			v[off + k] = x;
			if (x >= n && y >= m)
				found = d;
		}
		memcpy(trace + d * d, v + off - d, (size_t)(2 * d + 1) * sizeof(int));
	}
	if (found < 0) {
		for (int i = 0; i < n; i++)
			edit_add(es, DIFF_DEL, a0 + i, -1);
		for (int j = 0; j < m; j++)
			edit_add(es, DIFF_INS, -1, b0 + j);
		goto out;
	}
	/* back from the end: each round's choice, read from the round before */
	int x = n, y = m;
	for (int d = found; d > 0; d--) {
		const int *prev = trace + (d - 1) * (d - 1) + (d - 1); /* prev[k], |k| < d */
		int k = x - y;
		int pk = k == -d || (k != d && prev[k - 1] < prev[k + 1]) ? k + 1 : k - 1;
		int px = prev[pk], py = px - pk;
		for (; x > px && y > py; x--, y--)
			edit_add(&back, DIFF_SAME, a0 + x - 1, b0 + y - 1);
		if (x == px)
			edit_add(&back, DIFF_INS, -1, b0 + py);
		else
			edit_add(&back, DIFF_DEL, a0 + px, -1);
		x = px;
		y = py;
	}
	for (; x > 0 && y > 0; x--, y--)
		edit_add(&back, DIFF_SAME, a0 + x - 1, b0 + y - 1);
	for (int i = back.n - 1; i >= 0; i--)
		edit_add(es, back.e[i].op, back.e[i].a, back.e[i].b);
out:
	free(back.e);
	free(trace);
	free(v);
}

int diff_lines(const struct diff_line *a, int n, const struct diff_line *b, int m,
	       struct diff_edit **out)
{
	struct edits es = {NULL, 0, 0};
	int head = 0, tail = 0;
	while (head < n && head < m && diff_same(&a[head], &b[head]))
		head++;
	while (tail < n - head && tail < m - head && diff_same(&a[n - 1 - tail], &b[m - 1 - tail]))
		tail++;
	for (int i = 0; i < head; i++)
		edit_add(&es, DIFF_SAME, i, i);
	myers(a + head, n - head - tail, b + head, m - head - tail, head, head, &es);
	for (int i = tail; i > 0; i--)
		edit_add(&es, DIFF_SAME, n - i, m - i);
	*out = es.e;
	return es.n;
}
