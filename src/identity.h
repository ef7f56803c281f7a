/*
 * User and group resolution with the reentrant NSS calls. A spec is what
 * cli.c validated with validate_account(): "" (the effective id), a decimal
 * id, or a name. On success the resolved name, itself checked with
 * validate_account_name(), goes to name (namesz > OPT_NAME_MAX) and the id
 * to *id. Errors: -ENOENT no such user or group, -EINVAL a bad spec or a
 * resolved name we would not render, any other -errno from NSS. Outputs are
 * written only on success.
 */
#ifndef NMP_IDENTITY_H
#define NMP_IDENTITY_H

#include <stddef.h>
#include <sys/types.h>

int identity_user(const char *spec, char *name, size_t namesz, uid_t *id);
int identity_group(const char *spec, char *name, size_t namesz, gid_t *id);

#endif
