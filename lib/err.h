/*
 * pvisor error codes: one enum for every module. 0 is success, negative values
 * below PV_EBASE are -errno from the system, values at or above it (still
 * negative) are our own. pv_strerror() names either kind.
 */
#ifndef PV_ERR_H
#define PV_ERR_H

enum pv_err {
	PV_OK = 0,
	PV_EBASE = -10000,
	PV_EMALFORMED = PV_EBASE, /* bytes present but not a valid encoding */
	PV_ETRUNCATED,            /* input ends before a declared length */
	PV_EVERSION,              /* layout or schema version we do not read */
	PV_EMAGIC,                /* not ours at all (foreign region, wrong file) */
	PV_ESIZE,                 /* sizes/offsets inconsistent with the layout */
	PV_ECORRUPT,              /* internally inconsistent state */
	PV_ECONFIG,               /* bad option or configuration value */
	PV_ENOTFOUND,             /* no such window/slot/object */
	PV_EAGAIN,                /* changed while reading: retry */
	PV_EUNSUPPORTED,          /* link type, protocol or feature not handled */
	PV_ELAST
};

/* Static string for a pv_err or -errno value; never NULL. */
const char *pv_strerror(int err);

#endif
