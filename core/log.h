/*
 * Structured logs: one JSON object per line on stderr, written with a single
 * write(2) so lines from different threads never interleave. The level is
 * checked before anything is formatted. Each line carries the module tag and
 * the calling thread's request id (log_set_request_id). Never pass a token,
 * password or secret to these functions.
 */
#ifndef CORE_LOG_H
#define CORE_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3, LOG_OFF = 4 };

extern int log_min_level;

int log_level_parse(const char *s); /* -1 if unknown */
void log_set_fd(int fd);
/* Batch lines through a flusher thread (serve); stop flushes what is left. */
void log_start_async(void);
void log_stop_async(void);
void log_set_request_id(const char *id); /* thread-local; NULL clears */
const char *log_request_id(void);

/* Message plus NULL-terminated key/value string pairs rendered as JSON strings. */
void log_kv(int level, const char *module, const char *msg, ...);
void log_fmt(int level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define LOG_ENABLED(lvl) ((lvl) >= log_min_level)
#define log_debug(mod, ...) do { if (LOG_ENABLED(LOG_DEBUG)) log_fmt(LOG_DEBUG, mod, __VA_ARGS__); } while (0)
#define log_info(mod, ...)  do { if (LOG_ENABLED(LOG_INFO)) log_fmt(LOG_INFO, mod, __VA_ARGS__); } while (0)
#define log_warn(mod, ...)  do { if (LOG_ENABLED(LOG_WARN)) log_fmt(LOG_WARN, mod, __VA_ARGS__); } while (0)
#define log_error(mod, ...) do { if (LOG_ENABLED(LOG_ERROR)) log_fmt(LOG_ERROR, mod, __VA_ARGS__); } while (0)

#endif
