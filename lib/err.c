#include "lib/err.h"

#include <string.h>

const char *pv_strerror(int err)
{
	switch (err) {
	case PV_OK:
		return "success";
	case PV_EMALFORMED:
		return "malformed data";
	case PV_ETRUNCATED:
		return "truncated data";
	case PV_EVERSION:
		return "unsupported version";
	case PV_EMAGIC:
		return "bad magic (not a pvisor object)";
	case PV_ESIZE:
		return "inconsistent sizes or offsets";
	case PV_ECORRUPT:
		return "corrupt state";
	case PV_ECONFIG:
		return "invalid configuration";
	case PV_ENOTFOUND:
		return "not found";
	case PV_EAGAIN:
		return "changed while reading";
	case PV_EUNSUPPORTED:
		return "unsupported";
	default:
		break;
	}
	if (err < 0 && err > PV_EBASE)
		return strerror(-err);
	return "unknown error";
}
