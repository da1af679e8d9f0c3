/*
 * Graph checks on a parsed pattern: exactly one input node, at least one
 * output, no cycles (each one reported with the nodes on it) and every node
 * reachable from the input. Iterative throughout, so a 1,000-node chain
 * never deepens the stack.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/pattern_internal.h"
#include "core/core.h"

/* Successors in compressed rows: succ[start[i] .. start[i + 1]). */
struct succ {
	size_t *start, *succ;
};

static void succ_build(const struct pattern *p, struct succ *s)
{
	size_t total = 0, *fill = xcalloc(p->count + 1, sizeof(size_t));
	s->start = xcalloc(p->count + 1, sizeof(size_t));
	for (size_t i = 0; i < p->count; i++)
		for (size_t j = 0; j < p->nodes[i].from_count; j++)
			s->start[p->nodes[i].from[j].node + 1]++, total++;
	for (size_t i = 0; i < p->count; i++)
		s->start[i + 1] += s->start[i];
	s->succ = xcalloc(total ? total : 1, sizeof(size_t));
	for (size_t i = 0; i < p->count; i++)
		for (size_t j = 0; j < p->nodes[i].from_count; j++) {
			size_t src = p->nodes[i].from[j].node;
			s->succ[s->start[src] + fill[src]++] = i;
		}
	free(fill);
}

static void ends_check(struct pattern *p, struct problems *pr)
{
	size_t inputs = 0, outputs = 0;
	char path[40];
	for (size_t i = 0; i < p->count; i++) {
		const struct node_type *t = p->nodes[i].type;
		if (t && !strcmp(t->name, "output"))
			outputs++;
		if (!t || strcmp(t->name, "input"))
			continue;
		if (inputs++ == 0)
			p->input = i;
		else if (snprintf(path, sizeof(path), "nodes[%zu].type", i))
			problems_add(pr, p->nodes[i].id ? p->nodes[i].id : "", path,
				     "multiple_inputs", "a pattern has exactly one input node");
	}
	if (!inputs)
		problems_add(pr, "", "nodes", "missing_input", "a pattern needs an input node");
	if (!outputs)
		problems_add(pr, "", "nodes", "missing_output", "a pattern needs an output node");
	if (!inputs)
		p->input = SIZE_MAX;
}

/* Walk predecessors still on a cycle from start until one repeats. A node
 * marked by this walk closes a new cycle (reported); one marked by an earlier
 * walk leads into a cycle already reported. */
static void cycle_report(const struct pattern *p, const size_t *indeg, size_t *mark,
			 size_t start, struct problems *pr)
{
	size_t at = start, walk = start + 1;
	while (!mark[at]) {
		mark[at] = walk;
		for (size_t j = 0; j < p->nodes[at].from_count; j++)
			if (indeg[p->nodes[at].from[j].node]) {
				at = p->nodes[at].from[j].node;
				break;
			}
	}
	if (mark[at] != walk)
		return;
	struct buf names = BUF_INIT;
	char path[40];
	size_t n = at;
	do {
		buf_addf(&names, "%s%s", names.len ? " <- " : "", p->nodes[n].id);
		for (size_t j = 0; j < p->nodes[n].from_count; j++)
			if (mark[p->nodes[n].from[j].node] == walk) {
				n = p->nodes[n].from[j].node;
				break;
			}
	} while (n != at && names.len < 180);
	snprintf(path, sizeof(path), "nodes[%zu].from", at);
	problems_add(pr, p->nodes[at].id, path, "cycle", "cycle: %s <- %s%s", names.p,
		     n == at ? "" : "... <- ", p->nodes[at].id);
	buf_release(&names);
}

/* Kahn's algorithm: whatever keeps an in-degree lies on or behind a cycle. */
static void cycles_check(const struct pattern *p, const struct succ *s, struct problems *pr)
{
	size_t *indeg = xcalloc(p->count + 1, sizeof(size_t));
	size_t *queue = xcalloc(p->count + 1, sizeof(size_t));
	size_t *mark = xcalloc(p->count + 1, sizeof(size_t));
	size_t head = 0, tail = 0;

	for (size_t i = 0; i < p->count; i++)
		if (!(indeg[i] = p->nodes[i].from_count))
			queue[tail++] = i;
	while (head < tail) {
		size_t at = queue[head++];
		for (size_t k = s->start[at]; k < s->start[at + 1]; k++)
			if (--indeg[s->succ[k]] == 0)
				queue[tail++] = s->succ[k];
	}
	for (size_t i = 0; i < p->count; i++)
		if (indeg[i] && !mark[i])
			cycle_report(p, indeg, mark, i, pr);
	free(indeg);
	free(queue);
	free(mark);
}

static void reach_check(const struct pattern *p, const struct succ *s, struct problems *pr)
{
	unsigned char *reached = xcalloc(p->count + 1, 1);
	size_t *stack = xcalloc(p->count + 1, sizeof(size_t)), top = 0;
	char path[32];

	reached[p->input] = 1;
	stack[top++] = p->input;
	while (top) {
		size_t at = stack[--top];
		for (size_t k = s->start[at]; k < s->start[at + 1]; k++)
			if (!reached[s->succ[k]]) {
				reached[s->succ[k]] = 1;
				stack[top++] = s->succ[k];
			}
	}
	for (size_t i = 0; i < p->count; i++)
		if (!reached[i] && p->nodes[i].id && snprintf(path, sizeof(path), "nodes[%zu]", i))
			problems_add(pr, p->nodes[i].id, path, "unreachable",
				     "node '%s' is not reachable from the input node",
				     p->nodes[i].id);
	free(reached);
	free(stack);
}

void pattern_graph_check(struct pattern *p, struct problems *pr)
{
	struct succ s = { NULL, NULL };
	ends_check(p, pr);
	succ_build(p, &s);
	cycles_check(p, &s, pr);
	if (p->input != SIZE_MAX)
		reach_check(p, &s, pr);
	free(s.start);
	free(s.succ);
}
