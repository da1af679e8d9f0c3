/*
 * Reference server for tests/bench/http: the smallest CivetWeb hello-world,
 * configured like `parallax serve` (keep-alive, tcp_nodelay, same thread
 * count), answering every request with one mg_write of a tiny JSON body.
 *
 *   bench_ref_server PORT [THREADS]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <civetweb.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int hello(struct mg_connection *conn, void *cbdata)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\n"
				   "Content-Type: application/json\r\n"
				   "Content-Length: 15\r\n"
				   "\r\n"
				   "{\"status\":\"ok\"}";
	(void)cbdata;
	mg_write(conn, resp, sizeof(resp) - 1);
	return 200;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s PORT [THREADS]\n", argv[0]);
		return 2;
	}
	char ports[64];
	snprintf(ports, sizeof(ports), "127.0.0.1:%s", argv[1]);
	const char *threads = argc > 2 ? argv[2] : "2048";
	const char *opts[] = { "listening_ports", ports, "num_threads", threads,
			       "enable_keep_alive", "yes", "tcp_nodelay", "1",
			       "request_timeout_ms", "5000", "keep_alive_timeout_ms", "500",
			       NULL };
	struct mg_callbacks cb;
	memset(&cb, 0, sizeof(cb));
	mg_init_library(0);
	struct mg_context *ctx = mg_start(&cb, NULL, opts);
	if (!ctx) {
		fprintf(stderr, "ref_server: cannot start on %s\n", ports);
		return 1;
	}
	mg_set_request_handler(ctx, "/", hello, NULL);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stop)
		pause();
	mg_stop(ctx);
	mg_exit_library();
	return 0;
}
