#include <stddef.h>

#include "metadata.h"
#include "banned.h"

const char *const md_own_prefixes[] = {
    "X-Neutron-",
    "X-OVN-",
    NULL,
};

const char *const md_identity_headers[] = {
    "Forwarded",
    "X-Real-IP",
    "X-Instance-ID",
    "X-Instance-ID-Signature",
    "X-Tenant-ID",
    NULL,
};

const char *const md_haproxy_dirs[] = {
    "/usr/sbin",
    "/usr/local/sbin",
    "/usr/bin",
    "/usr/local/bin",
    "/sbin",
    NULL,
};

const char *
md_id_header(enum flavor flavor, enum id_kind kind)
{
	if (flavor == FLAVOR_OVN)
		return MD_HEADER_OVN_NETWORK;
	return kind == ID_NETWORK ? MD_HEADER_NEUTRON_NETWORK
	                          : MD_HEADER_NEUTRON_ROUTER;
}

const char *
md_config_dir(enum flavor flavor)
{
	return flavor == FLAVOR_OVN ? MD_CONFIG_DIR_OVN : MD_CONFIG_DIR_NEUTRON;
}
