/*
 * The confidence algebra of SPEC §3: clamping, and/or/best/coalesce/gate,
 * inclusive bands, the text marker, and the aggregates (vote, consensus,
 * means, review). Expected numbers are worked out by hand in the comments.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "core/core.h"
#include "tests/unit/test.h"

#define EPS 1e-12
#define N(a) (sizeof(a) / sizeof((a)[0]))

TEST(clamp_and_plain)
{
	CHECK(conf_clamp(NAN) == CONF_NONE);
	CHECK(conf_clamp(INFINITY) == CONF_NONE);
	CHECK(conf_clamp(-INFINITY) == CONF_NONE);
	CHECK(conf_clamp(CONF_NONE) == CONF_NONE); /* idempotent */
	CHECK(conf_clamp(-0.1) == 0.0);
	CHECK(conf_clamp(1.7) == 1.0);
	CHECK(conf_clamp(0.5) == 0.5);
	CHECK(conf_clamp(1.0) == 1.0);
	CHECK(!signbit(conf_clamp(-0.0))); /* -0 renders as 0 */
	CHECK(conf_clamp(conf_clamp(1.7)) == 1.0);
	CHECK(conf_of_plain() == 1.0);
}

TEST(and_or_min_max_skip_no_signal)
{
	double a[] = { 0.9, NAN, 0.4, CONF_NONE };
	double b[] = { 1.7, 0.2 };
	double c[] = { -0.1, 0.5 };
	double none[] = { NAN, INFINITY, CONF_NONE };

	CHECK(conf_and(NULL, 0) == CONF_NONE);
	CHECK(conf_or(NULL, 0) == CONF_NONE);
	CHECK(conf_and(a, N(a)) == 0.4);
	CHECK(conf_or(a, N(a)) == 0.9);
	CHECK(conf_or(b, N(b)) == 1.0); /* 1.7 clamps to 1 */
	CHECK(conf_and(c, N(c)) == 0.0); /* -0.1 clamps to 0 */
	CHECK(conf_and(none, N(none)) == CONF_NONE);
	CHECK(conf_or(none, N(none)) == CONF_NONE);
}

TEST(best_ties_to_first)
{
	double a[] = { 0.5, 0.8, 0.8 };
	double b[] = { NAN, 0.1 };
	double c[] = { 1.7, 1.0 }; /* both clamp to 1: a tie */
	double d[] = { NAN, CONF_NONE };
	double e[] = { 0.3 };

	CHECK(conf_best(NULL, 0) == CONF_NO_INDEX);
	CHECK_INT(conf_best(a, N(a)), 1);
	CHECK_INT(conf_best(b, N(b)), 1);
	CHECK_INT(conf_best(c, N(c)), 0);
	CHECK_INT(conf_best(d, N(d)), 0);
	CHECK_INT(conf_best(e, N(e)), 0);
}

TEST(coalesce_first_at_threshold_else_last)
{
	double a[] = { 0.2, 0.5, 0.9 };
	double b[] = { 0.1, 0.2 };
	double c[] = { NAN, 0.6 };
	double d[] = { 1.7, 0.1 };

	CHECK(conf_coalesce(NULL, 0, 0.5) == CONF_NO_INDEX);
	CHECK_INT(conf_coalesce(a, N(a), CONF_COALESCE_DEFAULT), 1); /* 0.5 >= 0.5 */
	CHECK_INT(conf_coalesce(a, N(a), 0.51), 2);
	CHECK_INT(conf_coalesce(b, N(b), 0.5), 1); /* none: the last */
	CHECK_INT(conf_coalesce(c, N(c), 0.5), 1);
	CHECK_INT(conf_coalesce(a, N(a), NAN), 1); /* NaN threshold: the default 0.5 */
	CHECK_INT(conf_coalesce(d, N(d), 0.99), 0);
}

TEST(gate_below_threshold_is_zero)
{
	CHECK(conf_gate(0.5, 0.5) == 0.5);
	CHECK(conf_gate(0.49, 0.5) == 0.0);
	CHECK(conf_gate(NAN, 0.0) == 0.0);
	CHECK(conf_gate(CONF_NONE, 0.0) == 0.0);
	CHECK(conf_gate(1.7, 0.8) == 1.0);
	CHECK(conf_gate(0.8, 0.8) == 0.8);
	CHECK(conf_gate(0.9, NAN) == 0.0); /* fails closed */
}

TEST(bands_are_inclusive)
{
	CHECK_INT(conf_band(0.8, CONF_HIGH_DEFAULT, CONF_MEDIUM_DEFAULT), BAND_HIGH);
	CHECK_INT(conf_band(0.79999, 0.8, 0.5), BAND_MEDIUM);
	CHECK_INT(conf_band(0.5, 0.8, 0.5), BAND_MEDIUM);
	CHECK_INT(conf_band(0.49999, 0.8, 0.5), BAND_LOW);
	CHECK_INT(conf_band(0.0, 0.8, 0.5), BAND_LOW);
	CHECK_INT(conf_band(1.0, 0.8, 0.5), BAND_HIGH);
	CHECK_INT(conf_band(1.7, 0.8, 0.5), BAND_HIGH);
	CHECK_INT(conf_band(-0.1, 0.8, 0.5), BAND_LOW);
	CHECK_INT(conf_band(NAN, 0.8, 0.5), BAND_LOW);
	CHECK_INT(conf_band(CONF_NONE, 0.8, 0.5), BAND_LOW);
	/* configured bands 0.9 / 0.6 */
	CHECK_INT(conf_band(0.85, 0.9, 0.6), BAND_MEDIUM);
	CHECK_INT(conf_band(0.9, 0.9, 0.6), BAND_HIGH);
	CHECK_INT(conf_band(0.55, 0.9, 0.6), BAND_LOW);
}

static double txt(const char *s)
{
	return conf_from_text(s, strlen(s));
}

TEST(marker_basic_forms)
{
	CHECK(txt("CONFIDENCE: 0.9") == 0.9);
	CHECK(txt("answer\nconfidence : .85\n") == 0.85);
	CHECK(txt("Confidence:1") == 1.0);
	CHECK(txt("Confidence:\t0.85%") == 0.0085);
	CHECK(txt("CONFIDENCE: 85%") == 0.85);
	CHECK(txt("CONFIDENCE: 100%") == 1.0);
	CHECK(txt("CONFIDENCE: 0.7.") == 0.7); /* end of sentence */
	CHECK(txt("CONFIDENCE: 1.") == 1.0);
	CHECK(txt("CONFIDENCE: 0.123456789012345678901") == 0.123456789012345);
	CHECK(txt("CONFIDENCE: 0") == 0.0);
	CHECK(txt("CONFIDENCE: 1.7") == 1.0);
	CHECK(txt("CONFIDENCE: 123456789012345678901234") == 1.0);
	CHECK(txt("CONFIDENCE: -0.2") == 0.0);
	CHECK(txt("CONFIDENCE: abc") == CONF_NONE);
	CHECK(txt("CONFIDENCE: .") == CONF_NONE);
	CHECK(txt("CONFIDENCE: nan") == CONF_NONE);
	CHECK(txt("CONFIDENCE: inf") == CONF_NONE);
	CHECK(txt("CONFIDENCE 0.9") == CONF_NONE); /* no colon */
	CHECK(txt("CONFIDENCE:\n0.9") == CONF_NONE); /* spaces, not lines */
	CHECK(txt("overconfidence: 0.2") == CONF_NONE); /* not a word start */
	CHECK(txt("no marker at all") == CONF_NONE);
	CHECK(txt("") == CONF_NONE);
	CHECK(conf_from_text(NULL, 10) == CONF_NONE);
}

TEST(marker_last_wins)
{
	CHECK(txt("CONFIDENCE: 0.9\nrethinking...\nCONFIDENCE: 0.4") == 0.4);
	CHECK(txt("CONFIDENCE: 0.4 CONFIDENCE: 0.9") == 0.9);
	/* an unparsable last marker is not a marker: the last valid one counts */
	CHECK(txt("CONFIDENCE: 0.9 then CONFIDENCE: abc") == 0.9);
}

TEST(marker_ansi_stripped)
{
	CHECK(txt("\x1b[1;32mCONFIDENCE:\x1b[0m 0.7") == 0.7);
	CHECK(txt("\x1b[1mCONF\x1b[0mIDENCE: 0.6") == 0.6); /* split by a code */
	CHECK(txt("CONFIDENCE: \x1b[33m0.65\x1b[0m") == 0.65);
	CHECK(txt("\x1b]0;title\x07" "CONFIDENCE: 0.6") == 0.6);      /* OSC ... BEL */
	CHECK(txt("\x1b]8;;http://x\x1b\\CONFIDENCE: 0.55") == 0.55); /* OSC ... ST */
	CHECK(txt("\x1b(BCONFIDENCE: 0.5") == 0.5);                    /* charset */
	/* a CSI ends at its first final byte (the C here); unterminated ones run to the end */
	CHECK(txt("CONFIDENCE: 0.3 \x1b[12;CONFIDENCE: 0.9") == 0.3);
	CHECK(txt("CONFIDENCE: 0.3\x1b") == 0.3);
	CHECK(txt("\x1b]unterminated CONFIDENCE: 0.9") == CONF_NONE);
}

TEST(marker_bounded_by_len)
{
	const char s[] = "CONFIDENCE: 0.95";
	const char nul[] = "x\0CONFIDENCE: 0.4";

	/* the 5 is past len: never read */
	CHECK(conf_from_text(s, strlen(s) - 1) == 0.9);
	CHECK(conf_from_text(s, 12) == CONF_NONE); /* "CONFIDENCE: " */
	CHECK(conf_from_text(s, 3) == CONF_NONE);
	/* an embedded NUL is just a byte */
	CHECK(conf_from_text(nul, sizeof(nul) - 1) == 0.4);
}

TEST(marker_megabyte_text)
{
	size_t n = 1 << 20, i;
	char *s = malloc(n);

	CHECK(s != NULL);
	if (!s)
		return;
	for (i = 0; i < n; i++)
		s[i] = "confidence 0.9 "[i % 15];
	CHECK(conf_from_text(s, n) == CONF_NONE); /* words, no marker */
	memset(s, 'c', n);
	CHECK(conf_from_text(s, n) == CONF_NONE);
	memcpy(s + n - 16, "\nCONFIDENCE: .75", 16);
	CHECK(conf_from_text(s, n) == 0.75); /* a marker in the last bytes */
	memset(s, '\x1b', n);
	CHECK(conf_from_text(s, n) == CONF_NONE);
	free(s);
}

#define R(c, k) { (c), 1.0, 0, (k) }
#define RF(k) { 0.8, 1.0, 1, (k) } /* failed: its confidence and key are ignored */

/* Calls fn on every ordering of a 4-result input. */
static void each_permutation(const struct conf_result in[4],
			     void (*fn)(const struct conf_result *r, const int *order))
{
	struct conf_result r[4];
	int order[4];

	for (int a = 0; a < 4; a++)
		for (int b = 0; b < 4; b++)
			for (int c = 0; c < 4; c++)
				for (int d = 0; d < 4; d++) {
					if (a == b || a == c || a == d || b == c || b == d ||
					    c == d)
						continue;
					order[0] = a, order[1] = b, order[2] = c, order[3] = d;
					for (int i = 0; i < 4; i++)
						r[i] = in[order[i]];
					fn(r, order);
				}
}

static int perm_calls;

/* {A .9, A .7, B .6, C 1.0}: A has 2 of 4, agreement 0.5, mean (.9+.7)/2 = .8,
 * confidence .5 * .8 = .4, whatever the order. */
static void vote_plurality_check(const struct conf_result *r, const int *order)
{
	struct conf_vote v;

	(void)order;
	perm_calls++;
	conf_vote(r, 4, &v);
	CHECK(v.winner != CONF_NO_INDEX);
	if (v.winner == CONF_NO_INDEX)
		return;
	CHECK_STR(r[v.winner].key, "A");
	CHECK_INT(v.winner_count, 2);
	CHECK_INT(v.counted, 4);
	CHECK_INT(v.groups, 3);
	CHECK_INT(v.tied, 0);
	CHECK_INT(v.unanimous, 0);
	CHECK_INT(v.majority, 0); /* 2 of 4 is not more than half */
	CHECK_NEAR(v.agreement, 0.5, EPS);
	CHECK_NEAR(v.mean, 0.8, EPS);
	CHECK_NEAR(v.confidence, 0.4, EPS);
	CHECK_NEAR(v.mean_counted, 0.8, EPS); /* (.9+.7+.6+1)/4 = 3.2/4 */
}

TEST(vote_plurality_ignores_answer_order)
{
	static const struct conf_result in[4] = { R(0.9, "A"), R(0.7, "A"), R(0.6, "B"),
						  R(1.0, "C") };

	perm_calls = 0;
	each_permutation(in, vote_plurality_check);
	CHECK_INT(perm_calls, 24);
}

/* {A .9, A .5, B .8, B .6}: 2-2, reported as tied; the first to appear wins;
 * both groups' means are .7, so confidence .5 * .7 = .35 either way. */
static void vote_tie_check(const struct conf_result *r, const int *order)
{
	struct conf_vote v;

	perm_calls++;
	conf_vote(r, 4, &v);
	CHECK_INT(v.tied, 1);
	CHECK_INT(v.winner, 0);
	CHECK_STR(r[v.winner].key, order[0] < 2 ? "A" : "B");
	CHECK_INT(v.winner_count, 2);
	CHECK_NEAR(v.agreement, 0.5, EPS);
	CHECK_NEAR(v.confidence, 0.35, EPS);
}

TEST(vote_two_two_tie_reported)
{
	static const struct conf_result in[4] = { R(0.9, "A"), R(0.5, "A"), R(0.8, "B"),
						  R(0.6, "B") };

	perm_calls = 0;
	each_permutation(in, vote_tie_check);
	CHECK_INT(perm_calls, 24);
}

TEST(vote_empty_and_all_failed)
{
	struct conf_result failed[] = { RF("A"), RF("A"), RF("B") };
	struct conf_result nokey[] = { R(0.9, NULL) };
	struct conf_vote v;

	conf_vote(NULL, 0, &v);
	CHECK(v.winner == CONF_NO_INDEX);
	CHECK_INT(v.counted, 0);
	CHECK(v.agreement == 0.0);
	CHECK(v.mean == CONF_NONE);
	CHECK(v.confidence == CONF_NONE);
	CHECK_INT(v.unanimous, 0);
	CHECK_INT(v.majority, 0);
	conf_vote(failed, N(failed), &v);
	CHECK(v.winner == CONF_NO_INDEX);
	CHECK_INT(v.counted, 0);
	CHECK(v.confidence == CONF_NONE);
	conf_vote(nokey, N(nokey), &v);
	CHECK(v.winner == CONF_NO_INDEX);
}

TEST(vote_failed_excluded_and_bad_values)
{
	/* failed results are not counted: A 2 of 3, agreement 2/3, mean .7,
	 * confidence 2/3 * .7 = .4666... */
	struct conf_result a[] = { R(0.8, "A"), RF("B"), R(0.6, "A"), RF("B"), R(0.9, "B") };
	/* NaN is no signal: A has 2 of 3 members, mean over signals = .6,
	 * confidence 2/3 * .6 = .4 */
	struct conf_result b[] = { R(NAN, "A"), R(0.6, "A"), R(0.9, "B") };
	/* 1.7 -> 1, -0.1 -> 0: mean .5, unanimous, agreement 1 */
	struct conf_result c[] = { R(1.7, "A"), R(-0.1, "A") };
	/* no signal in the winning group at all */
	struct conf_result d[] = { R(INFINITY, "A") };
	/* "a" and "A" differ: exact keys; majority 3 of 5 */
	struct conf_result e[] = { R(0.5, "x"), R(0.5, "a"), R(0.5, "x"), R(0.5, "A"),
				   R(0.5, "x") };
	struct conf_vote v;

	conf_vote(a, N(a), &v);
	CHECK_INT(v.winner, 0);
	CHECK_INT(v.counted, 3);
	CHECK_NEAR(v.agreement, 2.0 / 3.0, EPS);
	CHECK_NEAR(v.confidence, 0.7 * 2.0 / 3.0, EPS);
	CHECK_INT(v.majority, 1);
	conf_vote(b, N(b), &v);
	CHECK_INT(v.winner_count, 2);
	CHECK_NEAR(v.mean, 0.6, EPS);
	CHECK_NEAR(v.confidence, 0.4, EPS);
	CHECK_NEAR(v.mean_counted, 0.75, EPS); /* (.6+.9)/2 */
	conf_vote(c, N(c), &v);
	CHECK_INT(v.unanimous, 1);
	CHECK_NEAR(v.agreement, 1.0, EPS);
	CHECK_NEAR(v.confidence, 0.5, EPS);
	conf_vote(d, N(d), &v);
	CHECK_INT(v.winner, 0);
	CHECK(v.mean == CONF_NONE);
	CHECK(v.confidence == CONF_NONE);
	conf_vote(e, N(e), &v);
	CHECK_INT(v.groups, 3);
	CHECK_INT(v.winner_count, 3);
	CHECK_INT(v.majority, 1);
	CHECK_NEAR(v.confidence, 0.6 * 0.5, EPS);
}

/* {A .9 e1, B .8 e.5, B .3 e.5, C .5 e1}
 * by confidence: A .9, B 1.1, C .5, total 2.5: B, agreement .44, mean .55.
 * by confidence x expertise: A .9, B .4+.15 = .55, C .5, total 1.95: A,
 * agreement .9/1.95 = .461538..., mean .9. Neither is reached. */
static void consensus_check(const struct conf_result *r, const int *order)
{
	struct conf_consensus c;

	(void)order;
	perm_calls++;
	conf_consensus(r, 4, CONF_WEIGHT_CONFIDENCE, &c);
	CHECK(c.winner != CONF_NO_INDEX && strcmp(r[c.winner].key, "B") == 0);
	CHECK_INT(c.tied, 0);
	CHECK_NEAR(c.total_weight, 2.5, EPS);
	CHECK_NEAR(c.agreement, 0.44, EPS);
	CHECK_NEAR(c.mean, 0.55, EPS);
	CHECK_INT(c.reached, 0);
	conf_consensus(r, 4, CONF_WEIGHT_EXPERTISE, &c);
	CHECK(c.winner != CONF_NO_INDEX && strcmp(r[c.winner].key, "A") == 0);
	CHECK_NEAR(c.agreement, 0.9 / 1.95, EPS);
	CHECK_NEAR(c.mean, 0.9, EPS);
	CHECK_INT(c.reached, 0);
}

TEST(consensus_weights_ignore_answer_order)
{
	static const struct conf_result in[4] = { { 0.9, 1.0, 0, "A" },
						  { 0.8, 0.5, 0, "B" },
						  { 0.3, 0.5, 0, "B" },
						  { 0.5, 1.0, 0, "C" } };

	perm_calls = 0;
	each_permutation(in, consensus_check);
	CHECK_INT(perm_calls, 24);
}

TEST(consensus_reached_at_the_boundaries)
{
	/* A 1.4, B 1.4 (exact in binary): a tie, A first; agreement exactly .5,
	 * mean exactly .7: both bounds inclusive, reached */
	struct conf_result a[] = { R(0.7, "A"), R(0.7, "B"), R(0.7, "A"), R(0.7, "B") };
	/* A .9+.8 = 1.7, B .7, total 2.4: agreement .7083, mean .85: reached */
	struct conf_result b[] = { R(0.9, "A"), R(0.8, "A"), R(0.7, "B"), RF("B") };
	/* A 1.2 beats B .9: agreement 1.2/2.1 = .571, mean .6 < .7: not reached */
	struct conf_result c[] = { R(0.6, "A"), R(0.6, "A"), R(0.9, "B") };
	struct conf_consensus r;

	conf_consensus(a, N(a), CONF_WEIGHT_CONFIDENCE, &r);
	CHECK_INT(r.winner, 0);
	CHECK_INT(r.tied, 1);
	CHECK(r.agreement == 0.5);
	CHECK(r.mean == 0.7);
	CHECK_INT(r.reached, 1);
	conf_consensus(b, N(b), CONF_WEIGHT_CONFIDENCE, &r);
	CHECK_INT(r.counted, 3);
	CHECK_NEAR(r.agreement, 1.7 / 2.4, EPS);
	CHECK_NEAR(r.mean, 0.85, EPS);
	CHECK_INT(r.reached, 1);
	conf_consensus(c, N(c), CONF_WEIGHT_CONFIDENCE, &r);
	CHECK_NEAR(r.agreement, 1.2 / 2.1, EPS);
	CHECK_INT(r.reached, 0);
}

TEST(consensus_empty_failed_and_no_signal)
{
	struct conf_result failed[] = { RF("A"), RF("B") };
	struct conf_result none[] = { R(NAN, "A"), R(NAN, "B") };
	struct conf_result zero_exp[] = { { 0.9, 0.0, 0, "A" }, { 0.9, -1.0, 0, "B" } };
	struct conf_consensus r;

	conf_consensus(NULL, 0, CONF_WEIGHT_EXPERTISE, &r);
	CHECK(r.winner == CONF_NO_INDEX);
	CHECK(r.agreement == 0.0);
	CHECK(r.mean == CONF_NONE);
	CHECK_INT(r.reached, 0);
	conf_consensus(failed, N(failed), CONF_WEIGHT_CONFIDENCE, &r);
	CHECK(r.winner == CONF_NO_INDEX);
	CHECK_INT(r.counted, 0);
	CHECK_INT(r.reached, 0);
	/* weights all 0: a tie at zero, agreement 0, not reached */
	conf_consensus(none, N(none), CONF_WEIGHT_CONFIDENCE, &r);
	CHECK_INT(r.winner, 0);
	CHECK_INT(r.tied, 1);
	CHECK(r.agreement == 0.0);
	CHECK_INT(r.reached, 0);
	conf_consensus(zero_exp, N(zero_exp), CONF_WEIGHT_EXPERTISE, &r);
	CHECK(r.total_weight == 0.0);
	CHECK_INT(r.reached, 0);
}

TEST(weighted_mean_over_all_results)
{
	/* (.9*1 + .6*.5 + 0*1) / (1 + .5 + 1) = 1.2 / 2.5 = .48 */
	struct conf_result a[] = { { 0.9, 1.0, 0, "x" }, { 0.6, 0.5, 0, "y" },
				   { 0.8, 1.0, 1, NULL } };
	/* no signal skipped: .5; negative / NaN expertise weigh 0 */
	struct conf_result b[] = { { NAN, 1.0, 0, "x" }, { 0.5, 1.0, 0, "y" },
				   { 0.9, -2.0, 0, "z" }, { 0.9, NAN, 0, "w" } };
	struct conf_result failed[] = { RF("a"), RF("b") };
	struct conf_result zero[] = { { 0.9, 0.0, 0, "x" } };
	/* 1.7 -> 1 and -0.1 -> 0 with weights 3 and 1: 3/4 */
	struct conf_result c[] = { { 1.7, 3.0, 0, "x" }, { -0.1, 1.0, 0, "y" } };

	CHECK_NEAR(conf_weighted_mean(a, N(a)), 0.48, EPS);
	CHECK_NEAR(conf_weighted_mean(b, N(b)), 0.5, EPS);
	CHECK(conf_weighted_mean(failed, N(failed)) == 0.0); /* every agent failed */
	CHECK(conf_weighted_mean(NULL, 0) == CONF_NONE);
	CHECK(conf_weighted_mean(zero, N(zero)) == CONF_NONE);
	CHECK_NEAR(conf_weighted_mean(c, N(c)), 0.75, EPS);
}

TEST(means_all_and_successful)
{
	/* all: (.9 + 0 + .6) / 3 = .5; successful: (.9 + .6) / 2 = .75 */
	struct conf_result a[] = { R(0.9, "x"), RF("y"), R(0.6, "z") };
	struct conf_result failed[] = { RF("x"), RF("y") };
	struct conf_result none[] = { R(NAN, "x"), R(CONF_NONE, "y") };
	/* .5 exactly at a band boundary stays .5 */
	struct conf_result half[] = { R(0.25, "x"), R(0.75, "y") };

	CHECK_NEAR(conf_mean_all(a, N(a)), 0.5, EPS);
	CHECK_NEAR(conf_mean_success(a, N(a)), 0.75, EPS);
	CHECK(conf_mean_all(failed, N(failed)) == 0.0);
	CHECK(conf_mean_success(failed, N(failed)) == CONF_NONE);
	CHECK(conf_mean_all(NULL, 0) == CONF_NONE);
	CHECK(conf_mean_success(NULL, 0) == CONF_NONE);
	CHECK(conf_mean_success(none, N(none)) == CONF_NONE);
	CHECK(conf_mean_success(half, N(half)) == 0.5);
	CHECK_INT(conf_band(conf_mean_success(half, N(half)), 0.8, 0.5), BAND_MEDIUM);
}

TEST(review_mapping)
{
	CHECK(conf_review(REVIEW_APPROVE, 0.95) == 0.95);
	CHECK(conf_review(REVIEW_APPROVE, CONF_NONE) == 0.9);
	CHECK(conf_review(REVIEW_APPROVE, NAN) == 0.9);
	CHECK(conf_review(REVIEW_APPROVE, 1.7) == 1.0);
	CHECK(conf_review(REVIEW_APPROVE, -0.1) == 0.0);
	CHECK(conf_review(REVIEW_REVISE, 0.8) == 0.6);
	CHECK(conf_review(REVIEW_REVISE, 0.4) == 0.4);
	CHECK(conf_review(REVIEW_REVISE, 0.6) == 0.6);
	CHECK(conf_review(REVIEW_REVISE, CONF_NONE) == 0.6);
	CHECK(conf_review(REVIEW_REVISE, 1.7) == 0.6);
	CHECK(conf_review(REVIEW_REJECT, 0.8) == 0.3);
	CHECK(conf_review(REVIEW_REJECT, 0.1) == 0.1);
	CHECK(conf_review(REVIEW_REJECT, INFINITY) == 0.3);
}

TEST_MAIN(TEST_ENTRY(clamp_and_plain), TEST_ENTRY(and_or_min_max_skip_no_signal),
	  TEST_ENTRY(best_ties_to_first), TEST_ENTRY(coalesce_first_at_threshold_else_last),
	  TEST_ENTRY(gate_below_threshold_is_zero), TEST_ENTRY(bands_are_inclusive),
	  TEST_ENTRY(marker_basic_forms), TEST_ENTRY(marker_last_wins),
	  TEST_ENTRY(marker_ansi_stripped), TEST_ENTRY(marker_bounded_by_len),
	  TEST_ENTRY(marker_megabyte_text), TEST_ENTRY(vote_plurality_ignores_answer_order),
	  TEST_ENTRY(vote_two_two_tie_reported), TEST_ENTRY(vote_empty_and_all_failed),
	  TEST_ENTRY(vote_failed_excluded_and_bad_values),
	  TEST_ENTRY(consensus_weights_ignore_answer_order),
	  TEST_ENTRY(consensus_reached_at_the_boundaries),
	  TEST_ENTRY(consensus_empty_failed_and_no_signal),
	  TEST_ENTRY(weighted_mean_over_all_results), TEST_ENTRY(means_all_and_successful),
	  TEST_ENTRY(review_mapping))
