#include "sensor/privs.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "lib/err.h"

int pv_privs_resolve(const char *name, struct pv_user *u, char *why, size_t why_len)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(name ? name : "pvisor");
	if (!pw && !name)
		pw = getpwnam("nobody");
	if (!pw) {
		snprintf(why, why_len, "no user '%s' on this system (create it, or pass --user)",
			 name ? name : "pvisor/nobody");
		return PV_ECONFIG;
	}
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	snprintf(u->name, sizeof(u->name), "%s", pw->pw_name);
	return PV_OK;
}

static int set_caps(const cap_value_t *keep, int n, char *why, size_t why_len)
{
	cap_t caps = cap_init(); /* all clear */
	int rc = PV_OK;

	if (!caps) {
		snprintf(why, why_len, "cap_init: %s", strerror(errno));
		return -errno;
	}
	if (n > 0 && (cap_set_flag(caps, CAP_PERMITTED, n, keep, CAP_SET) < 0 ||
		      cap_set_flag(caps, CAP_EFFECTIVE, n, keep, CAP_SET) < 0)) {
		rc = -errno;
		snprintf(why, why_len, "cap_set_flag: %s", strerror(errno));
		goto out;
	}
	if (cap_set_proc(caps) < 0) {
		rc = -errno;
		snprintf(why, why_len, "setting capabilities: %s", strerror(errno));
	}
out:
	cap_free(caps);
	return rc;
}

static int have_cap(cap_value_t c)
{
	cap_t caps = cap_get_proc();
	cap_flag_value_t v = CAP_CLEAR;

	if (caps) {
		cap_get_flag(caps, c, CAP_PERMITTED, &v);
		cap_free(caps);
	}
	return v == CAP_SET;
}

static int become(const struct pv_user *u, char *why, size_t why_len)
{
	if (geteuid() == 0 && setgroups(0, NULL) < 0) {
		snprintf(why, why_len, "setgroups: %s", strerror(errno));
		return -errno;
	}
	if (setresgid(u->gid, u->gid, u->gid) < 0) {
		snprintf(why, why_len, "setgid %u (%s): %s", (unsigned)u->gid, u->name,
			 strerror(errno));
		return -errno;
	}
	if (setresuid(u->uid, u->uid, u->uid) < 0) {
		snprintf(why, why_len, "setuid %u (%s): %s", (unsigned)u->uid, u->name,
			 strerror(errno));
		return -errno;
	}
	return PV_OK;
}

int pv_privs_drop_supervisor(const struct pv_user *u, char *why, size_t why_len)
{
	cap_value_t keep[2];
	int n = 0, rc;

	if (geteuid() == 0) {
		/* Keep the permitted set across setuid, then trim it. */
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) {
			snprintf(why, why_len, "PR_SET_KEEPCAPS: %s", strerror(errno));
			return -errno;
		}
		keep[n++] = CAP_NET_RAW;
		keep[n++] = CAP_NET_ADMIN;
		rc = become(u, why, why_len);
		prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
		if (rc != PV_OK)
			return rc;
		/* setuid cleared the effective set and left the permitted one:
		 * keep exactly the two we need in both. */
		prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
		return set_caps(keep, n, why, why_len);
	}
	if (have_cap(CAP_NET_RAW))
		keep[n++] = CAP_NET_RAW;
	if (have_cap(CAP_NET_ADMIN))
		keep[n++] = CAP_NET_ADMIN;
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	return set_caps(keep, n, why, why_len);
}

int pv_privs_drop_worker(const struct pv_user *u, char *why, size_t why_len)
{
	cap_t caps;
	int rc, clear;

	if (getuid() != u->uid || getgid() != u->gid) {
		rc = become(u, why, why_len);
		if (rc != PV_OK)
			return rc;
	}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	rc = set_caps(NULL, 0, why, why_len);
	if (rc != PV_OK)
		return rc;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(why, why_len, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -errno;
	}
	/* Verify rather than trust: a worker with any capability left must not run. */
	caps = cap_get_proc();
	if (!caps) {
		snprintf(why, why_len, "cap_get_proc: %s", strerror(errno));
		return -errno;
	}
	{
		cap_t empty = cap_init();
		clear = empty && cap_compare(caps, empty) == 0;
		cap_free(empty);
	}
	cap_free(caps);
	if (!clear || prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
		snprintf(why, why_len, "capabilities still held after dropping them");
		return PV_ECORRUPT;
	}
	return PV_OK;
}
