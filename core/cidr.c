/*
 * CIDR ranges: parsing ("10.0.0.0/8", "::1/128", a bare address is a host
 * route), comma-separated lists, and membership tests. Used by the config
 * (--agent-allow) and by outbound request checks.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

int cidr_parse(const char *s, struct cidr *out)
{
	char addr[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	int64_t prefix;
	if (n == 0 || n >= sizeof(addr))
		return -1;
	memcpy(addr, s, n);
	addr[n] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, addr, out->addr) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, out->addr) == 1)
		out->family = AF_INET6;
	else
		return -1;
	int max = out->family == AF_INET ? 32 : 128;
	if (!slash)
		prefix = max;
	else if (str_to_i64(slash + 1, &prefix) || prefix < 0 || prefix > max)
		return -1;
	out->prefix = (int)prefix;
	return 0;
}

int cidr_contains(const struct cidr *c, int family, const unsigned char *addr)
{
	if (c->family != family)
		return 0;
	int full = c->prefix / 8, rest = c->prefix % 8;
	if (memcmp(c->addr, addr, (size_t)full))
		return 0;
	if (!rest)
		return 1;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (c->addr[full] & mask) == (addr[full] & mask);
}

int cidr_list_parse(const char *list, struct cidr *out, int max, int *count, struct err *e)
{
	char item[80];
	int n = 0;
	const char *p = list;
	while (*p) {
		size_t len = strcspn(p, ",");
		while (len && (*p == ' ')) {
			p++;
			len--;
		}
		if (len >= sizeof(item))
			return err_set(e, ERR_INVALID, NULL, "'%.40s...' is not a CIDR range", p);
		memcpy(item, p, len);
		item[len] = '\0';
		while (len && item[len - 1] == ' ')
			item[--len] = '\0';
		struct cidr c;
		if (cidr_parse(item, &c))
			return err_set(e, ERR_INVALID, NULL, "'%s' is not a CIDR range", item);
		if (out && n < max)
			out[n] = c;
		n++;
		p += strcspn(p, ",");
		if (*p == ',')
			p++;
	}
	if (count)
		*count = n;
	return 0;
}

int cidr_list_check(const char *list, struct err *e)
{
	return cidr_list_parse(list, NULL, 0, NULL, e);
}
