/*
 * Finding and starting haproxy safely: by absolute, trusted path, with an
 * argument vector, a minimal environment, default signal handling and no
 * inherited descriptor but 0-2.
 */
#ifndef NMP_LAUNCH_H
#define NMP_LAUNCH_H

#include <signal.h>
#include <stddef.h>

/* The fixed directories searched when no --haproxy-path is given. */
extern const char *const launch_haproxy_dirs[];

/*
 * Locate haproxy: explicit (an absolute path, or "" to search
 * launch_haproxy_dirs, never PATH). The file must be a regular file,
 * executable, owned by root or the effective uid, and not writable by group
 * or others. Errors: -ENOENT nothing found, -EACCES not a regular
 * executable file, -EPERM unsafe owner or mode. The path goes to out.
 */
int launch_find_haproxy(const char *explicit_path, char *out, size_t outsz);

/* The environment every exec gets. */
extern char *const launch_clean_env[];

/*
 * Run argv[0] (an absolute path) with argv and launch_clean_env, stdout
 * sent to our stderr, every signal at its default and unblocked, and wait
 * for it. *status_out gets the raw wait status. Returns 0 or -errno.
 */
int launch_run_wait(char *const argv[], int *status_out);

/*
 * Hold SIGINT, SIGTERM and SIGHUP back while temporary files exist; a held
 * signal acts when launch_release_signals() restores the old mask.
 */
int launch_hold_signals(sigset_t *old);
void launch_release_signals(const sigset_t *old);

#endif
