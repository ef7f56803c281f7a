/*
 * The commands for what neutron runs today: `haproxy` (also the binary
 * started under that name), which serves a neutron-rendered haproxy config
 * with the built-in engine, and `audit`, which reports what is unsafe in
 * configs neutron wrote. Each logs its own failures and returns the exit
 * code.
 */
#ifndef NMP_COMPAT_FRONT_H
#define NMP_COMPAT_FRONT_H

#include <stddef.h>

#include "compat/haproxy_cfg.h"

/* 66: a config file or audited path cannot be opened or read. */
#define COMPAT_EX_NOINPUT 66

/*
 * haproxy -f FILE [-f FILE ...] [-D] [-db] [-p PIDFILE] [-c] [-q]; argv[0]
 * is the command word or the program name.
 */
int compat_haproxy(int argc, char *argv[]);

/* audit FILE|DIR ...: 0 clean, 1 findings. */
int compat_audit(int argc, char *argv[]);

/*
 * Read a config file whole: regular, at most HCFG_TEXT_MAX bytes, opened
 * without following a symlink. On success *text (NUL-terminated, the
 * caller frees it) and *len, and *st_out the file's stat. -errno, or
 * -EFBIG when too large, -EINVAL when not a regular file.
 */
struct stat;
int compat_read_config(
    const char *path, char **text, size_t *len, struct stat *st_out);

#endif
