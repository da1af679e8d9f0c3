/*
 * Token-bucket rate limits, in memory per process: a fixed table of
 * buckets under striped locks, keyed by a hash of the caller (user, API key
 * or IP). A full table reuses the least recently touched slot in the probe
 * window, so memory is bounded whatever the number of callers; an evicted
 * caller starts with a full bucket (fails open, never closed).
 */
#include <pthread.h>
#include <string.h>

#include "auth/auth.h"
#include "core/core.h"

#define SLOTS 8192
#define PROBE 8
#define STRIPES 64

struct bucket {
	uint64_t key;
	double tokens;
	int64_t last_us;
};

static struct bucket table[SLOTS];
static pthread_mutex_t stripes[STRIPES];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_stripes(void)
{
	for (int i = 0; i < STRIPES; i++)
		pthread_mutex_init(&stripes[i], NULL);
}

static uint64_t fnv64(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h ? h : 1;
}

int ratelimit_take(const char *key, int per_minute)
{
	uint64_t h = fnv64(key);
	size_t base = (size_t)(h % (SLOTS / PROBE)) * PROBE;
	pthread_mutex_t *mu = &stripes[(base / PROBE) % STRIPES];
	int64_t now = mono_us();
	double rate = per_minute / 60e6, burst = per_minute / 4.0 < 5 ? 5 : per_minute / 4.0;
	int wait = 0;
	if (per_minute <= 0)
		return 0;
	pthread_once(&once, init_stripes);
	pthread_mutex_lock(mu);
	struct bucket *b = NULL, *oldest = &table[base];
	for (size_t i = base; i < base + PROBE; i++) {
		if (table[i].key == h) {
			b = &table[i];
			break;
		}
		if (table[i].last_us < oldest->last_us)
			oldest = &table[i];
	}
	if (!b) {
		b = oldest;
		b->key = h;
		b->tokens = burst;
		b->last_us = now;
	}
	b->tokens += (double)(now - b->last_us) * rate;
	if (b->tokens > burst)
		b->tokens = burst;
	b->last_us = now;
	if (b->tokens >= 1.0)
		b->tokens -= 1.0;
	else
		wait = (int)((1.0 - b->tokens) / rate / 1e6) + 1;
	pthread_mutex_unlock(mu);
	return wait;
}
