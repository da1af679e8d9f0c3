/*
 * Agent selection for agent-calling nodes: by capabilities (an agent needs
 * all of them) or by ids/names (kept in that order), disabled agents never,
 * then a strategy picks: all (by name), round_robin, least_loaded or
 * best_confidence. Too few is an error naming required and available.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/exec_internal.h"
#include "core/core.h"

static int has_capability(const struct agent_spec *a, const char *cap)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, a->capabilities) if (cJSON_IsString(c) && !strcmp(c->valuestring, cap))
		return 1;
	return 0;
}

static int has_all(const struct agent_spec *a, const cJSON *caps)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, caps) if (!cJSON_IsString(c) || !has_capability(a, c->valuestring))
		return 0;
	return 1;
}

static int by_name(const void *x, const void *y)
{
	const struct agent_spec *a = *(const struct agent_spec *const *)x;
	const struct agent_spec *b = *(const struct agent_spec *const *)y;
	return strcmp(a->name, b->name);
}

struct scored {
	const struct agent_spec *a;
	double score;
	size_t order;
};

static int by_score(const void *x, const void *y)
{
	const struct scored *a = x, *b = y;
	if (a->score != b->score)
		return a->score < b->score ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

/* Reorder list[0..n) by strategy and keep `take` of them. */
static size_t pick(struct run *r, const char *strategy, const struct agent_spec **list, size_t n,
		   size_t take)
{
	struct engine *en = r->en;
	const struct agent_spec **orig = NULL;
	if (strcmp(strategy, "all")) {
		orig = xcalloc(n, sizeof(*orig));
		memcpy(orig, list, n * sizeof(*orig));
	}
	if (!strcmp(strategy, "round_robin")) {
		pthread_mutex_lock(&en->agents_mu);
		struct agent_rt *rt = agent_rt_get(en, list[0]->id);
		size_t start = (size_t)(rt->rr++ % n);
		pthread_mutex_unlock(&en->agents_mu);
		const struct agent_spec **tmp = xcalloc(n, sizeof(*tmp));
		for (size_t i = 0; i < n; i++)
			tmp[i] = list[(start + i) % n];
		memcpy(list, tmp, n * sizeof(*tmp));
		free(tmp);
	} else if (!strcmp(strategy, "least_loaded") || !strcmp(strategy, "best_confidence")) {
		int load = !strcmp(strategy, "least_loaded");
		struct scored *s = xcalloc(n, sizeof(*s));
		pthread_mutex_lock(&en->agents_mu);
		for (size_t i = 0; i < n; i++) {
			struct agent_rt *rt = agent_rt_get(en, list[i]->id);
			s[i].a = list[i];
			s[i].order = i;
			if (load)
				s[i].score = rt->inflight;
			else /* unknown agents rank as 0.5; higher first */
				s[i].score = -(rt->conf_n ? rt->conf_sum / (double)rt->conf_n : 0.5);
		}
		pthread_mutex_unlock(&en->agents_mu);
		qsort(s, n, sizeof(*s), by_score);
		for (size_t i = 0; i < n; i++)
			list[i] = s[i].a;
		free(s);
	}
	size_t k = take < n ? take : n;
	/* the chosen keep the stable result order (ids order, else by name) */
	if (orig) {
		struct scored *s = xcalloc(k + 1, sizeof(*s));
		for (size_t i = 0; i < k; i++)
			for (size_t j = 0; j < n; j++)
				if (orig[j] == list[i]) {
					s[i] = (struct scored){ list[i], (double)j, j };
					break;
				}
		qsort(s, k, sizeof(*s), by_score);
		for (size_t i = 0; i < k; i++)
			list[i] = s[i].a;
		free(s);
	}
	free(orig);
	return k;
}

int select_agents(struct run *r, const cJSON *select, const struct agent_spec ***out,
		  size_t *count, struct err *e)
{
	const cJSON *ids = cJSON_GetObjectItemCaseSensitive(select, "ids");
	const cJSON *caps = cJSON_GetObjectItemCaseSensitive(select, "capabilities");
	const cJSON *jmin = cJSON_GetObjectItemCaseSensitive(select, "min");
	const cJSON *jmax = cJSON_GetObjectItemCaseSensitive(select, "max");
	const cJSON *jstrat = cJSON_GetObjectItemCaseSensitive(select, "strategy");
	const char *strategy = cJSON_IsString(jstrat) ? jstrat->valuestring : "all";
	size_t min = cJSON_IsNumber(jmin) ? (size_t)jmin->valuedouble : 1;
	size_t max = cJSON_IsNumber(jmax) ? (size_t)jmax->valuedouble : SIZE_MAX;
	const struct agent_spec **list = xcalloc(r->agent_count + 1, sizeof(*list));
	size_t n = 0;

	if (cJSON_IsArray(ids)) {
		const cJSON *id;
		cJSON_ArrayForEach(id, ids) {
			for (size_t i = 0; cJSON_IsString(id) && i < r->agent_count; i++) {
				const struct agent_spec *a = &r->agents[i];
				if (a->disabled || (strcmp(a->id, id->valuestring) &&
						    strcmp(a->name, id->valuestring)))
					continue;
				int dup = 0;
				for (size_t k = 0; k < n; k++)
					dup |= list[k] == a;
				if (!dup && has_all(a, caps))
					list[n++] = a;
				break;
			}
		}
	} else {
		for (size_t i = 0; i < r->agent_count; i++)
			if (!r->agents[i].disabled && has_all(&r->agents[i], caps))
				list[n++] = &r->agents[i];
		qsort(list, n, sizeof(*list), by_name);
	}
	if (n < min || n == 0) {
		struct buf what;
		buf_init(&what);
		if (cJSON_IsArray(ids))
			buf_adds(&what, "of the listed ids");
		else if (cJSON_GetArraySize(caps) > 0) {
			char *c = cJSON_PrintUnformatted(caps);
			buf_addf(&what, "with capabilities %s", c);
			free(c);
		} else
			buf_adds(&what, "in the workspace");
		err_setc(e, ERR_UNPROCESSABLE, "not_enough_agents", "select",
			 "needs at least %zu agent%s %s; %zu available", min ? min : 1,
			 min == 1 ? "" : "s", what.p, n);
		buf_release(&what);
		free(list);
		return e->code;
	}
	if (strcmp(strategy, "all") && max == SIZE_MAX)
		max = min > 1 ? min : 1;
	*count = pick(r, strategy, list, n, max);
	*out = list;
	return 0;
}
