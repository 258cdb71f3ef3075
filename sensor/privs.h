/*
 * Privilege separation for pvsensor (after tcpdump and Knot): the supervisor
 * opens what needs privilege, then becomes the service user keeping only
 * CAP_NET_RAW and CAP_NET_ADMIN; each worker then clears every capability
 * (effective, permitted, inheritable, ambient) and sets PR_SET_NO_NEW_PRIVS
 * before it touches a packet.
 */
#ifndef PV_SENSOR_PRIVS_H
#define PV_SENSOR_PRIVS_H

#include <stddef.h>
#include <sys/types.h>

struct pv_user {
	uid_t uid;
	gid_t gid;
	char name[64];
};

/* Resolves --user (NULL: "pvisor" if it exists, else "nobody"). */
int pv_privs_resolve(const char *name, struct pv_user *u, char *why, size_t why_len);

/* Supervisor: if root, become u keeping CAP_NET_RAW and CAP_NET_ADMIN;
 * in every case, reduce capabilities to (at most) those two. */
int pv_privs_drop_supervisor(const struct pv_user *u, char *why, size_t why_len);

/* Worker: setgroups/setgid/setuid to u (no-ops once the supervisor did it),
 * clear every capability, set PR_SET_NO_NEW_PRIVS, and verify. */
int pv_privs_drop_worker(const struct pv_user *u, char *why, size_t why_len);

#endif
