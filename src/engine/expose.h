/*
 * The engine's metrics and health over HTTP, for a Prometheus server that
 * scrapes a host address (fleet serve --metrics-listen): GET /metrics is
 * the exposition of engine_metrics(), GET /health 200 or 503 with the
 * lines of engine_health(). HTTP is libevent's evhttp, on the engine's
 * loop; nothing else is served there.
 */
#ifndef NMP_ENGINE_EXPOSE_H
#define NMP_ENGINE_EXPOSE_H

#include "engine/engine.h"

struct expose;

/*
 * Serve on fd, a listening TCP socket (listener_open()), ours from now
 * on, also on failure. NULL with *err (-errno) on failure.
 */
struct expose *expose_new(struct engine *e, int fd, int *err);

void expose_free(struct expose *x);

#endif
