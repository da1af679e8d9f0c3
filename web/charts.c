/*
 * Charts as SVG, drawn on the server (no images, no script): stacked bars
 * with a y axis of round ticks, labels under the bars and a <title> on each
 * bar as its tooltip. Colours come from CSS classes (the page's theme), so
 * the markup carries no style attribute and passes the CSP. Every text
 * written into the SVG is escaped.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "web/web.h"
#include "core/core.h"

#define CW 640.0 /* viewBox */
#define CH 220.0
#define PAD_L 52.0
#define PAD_R 8.0
#define PAD_T 10.0
#define PAD_B 32.0

/* A round step for about 4 ticks up to max (1, 2 or 5 times a power of ten). */
static double nice_step(double max)
{
	if (max <= 0)
		return 1;
	double raw = max / 4, p = pow(10, floor(log10(raw))), f = raw / p;
	double step = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
	return step * p < 1 && max >= 1 ? 1 : step * p;
}

static void num(char *out, size_t n, double v)
{
	if (fabs(v - round(v)) < 1e-9)
		snprintf(out, n, "%.0f", v);
	else
		snprintf(out, n, "%.2g", v);
}

void chart_bars(struct buf *b, const char *label, const struct chart_bar *bars, size_t n,
		int parts, const char *const *classes)
{
	double max = 0;
	for (size_t i = 0; i < n; i++) {
		double t = 0;
		for (int k = 0; k < parts; k++)
			t += bars[i].v[k];
		if (t > max)
			max = t;
	}
	double step = nice_step(max), top = step * ceil(max / step);
	if (top <= 0)
		top = step * 4;
	double ph = CH - PAD_T - PAD_B, pw = CW - PAD_L - PAD_R;
	double slot = n ? pw / (double)n : pw, bw = slot * 0.7;
	char t[32];

	buf_addf(b, "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"", CW,
		 CH);
	html_escape(b, label);
	buf_adds(b, "\">");
	for (double y = 0; y <= top + step / 2; y += step) { /* grid and y labels */
		double py = PAD_T + ph - y / top * ph;
		num(t, sizeof(t), y);
		buf_addf(b, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>",
			 PAD_L, CW - PAD_R, py, py);
		buf_addf(b, "<text class=\"axis\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
			 PAD_L - 8, py + 6, t);
	}
	size_t every = n > 12 ? (n + 5) / 6 : 1;
	for (size_t i = 0; i < n; i++) {
		double x = PAD_L + slot * (double)i + (slot - bw) / 2, y = PAD_T + ph;
		buf_adds(b, "<g class=\"bar\"><title>");
		html_escape(b, bars[i].title);
		buf_adds(b, "</title>");
		for (int k = 0; k < parts; k++) {
			double h = bars[i].v[k] / top * ph;
			if (h <= 0)
				continue;
			y -= h;
			buf_addf(b, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>",
				 classes[k], x, y, bw, h);
		}
		/* the whole column answers the pointer, also where the bar is short */
		buf_addf(b, "<rect class=\"hit\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>",
			 PAD_L + slot * (double)i, PAD_T, slot, ph);
		buf_adds(b, "</g>");
		if (i % every == 0 && bars[i].label) {
			buf_addf(b, "<text class=\"axis\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
				 x + bw / 2, CH - 8);
			html_escape(b, bars[i].label);
			buf_adds(b, "</text>");
		}
	}
	buf_addf(b, "<line class=\"baseline\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>",
		 PAD_L, CW - PAD_R, PAD_T + ph, PAD_T + ph);
	buf_adds(b, "</svg>");
}
