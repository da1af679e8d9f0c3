/*
 * The wire between struct jq_pool (jq_sandbox.c) and its worker processes
 * (jq_worker.c). Only these two files include it. Every message is one frame:
 * a 4-byte big-endian length, then that many bytes (at most JQ_FRAME_MAX).
 */
#ifndef ENGINE_JQ_INTERNAL_H
#define ENGINE_JQ_INTERNAL_H

#define JQ_WORKER_ARG "__jq-worker"
#define JQ_FRAME_MAX  (16u << 20)

/*
 * Request payload: 4 bytes max_outputs, 4 bytes program length (both big
 * endian), the program text, then the input JSON text up to the end.
 * Reply payload: one status byte, then the body: for JQ_REPLY_OK a JSON array
 * of the outputs, otherwise jq's message (text). JQ_REPLY_RETIRE is or-ed in
 * when the worker has used half its CPU budget and wants to be replaced.
 */
#define JQ_REQ_HEADER	8
#define JQ_REQ_FIRST_ONLY 0x80000000u /* in max_outputs: stop after the first output */
#define JQ_REPLY_OK	'O'
#define JQ_REPLY_ERROR	'E' /* compile or runtime error, or input not JSON */
#define JQ_REPLY_LARGE	'L' /* more outputs, or more bytes, than allowed */
#define JQ_REPLY_RETIRE 0x80

#define JQ_OUTPUT_MAX  (4u << 20) /* total bytes of one reply's outputs */
#define JQ_CPU_LIMIT_S 10	  /* RLIMIT_CPU of a worker: a backstop */
#define JQ_AS_LIMIT    (256ul << 20)

static inline unsigned jq_be32_get(const unsigned char *p)
{
	return (unsigned)p[0] << 24 | (unsigned)p[1] << 16 | (unsigned)p[2] << 8 | p[3];
}

static inline void jq_be32_put(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

#endif
