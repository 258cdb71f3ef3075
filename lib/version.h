/* The pvisor release version, shared by every program. */
#ifndef PV_VERSION_H
#define PV_VERSION_H
#define PV_VERSION "0.1.0"
#define PV_SCHEMA_VERSION 1u
#endif
