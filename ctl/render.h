/*
 * pvctl's output: a Snapshot as the METRICS.md window document (JSON) or as
 * an aligned table labelled with the same paths, and a Status as JSON (field
 * names mirror the proto's) or as a summary plus a worker table.
 *
 * Everything rendered comes from the aggregator and is treated as untrusted:
 * absent sub-messages render as zeros, strings are escaped (JSON) or have
 * their control bytes replaced (tables), and no value can make a renderer
 * read out of bounds. The renderers only borrow their arguments and the FILE;
 * they return 0 or a pv_err (-EIO when the FILE failed).
 */
#ifndef PV_CTL_RENDER_H
#define PV_CTL_RENDER_H

#include <stddef.h>
#include <stdio.h>

#include "lib/json.h"
#include "pvisor.pb-c.h"

/* Writes the window document as the next value of j (for composite output). */
int pv_render_snapshot_value(struct pv_json *j, const Pvisor__Snapshot *s);

/* How many entries of each top table are shown (default 10, max 100). */
void pv_render_set_top(unsigned n);

/* A complete, pretty-printed window document followed by a newline. */
int pv_render_snapshot_json(FILE *f, const Pvisor__Snapshot *s);
int pv_render_snapshot_table(FILE *f, const Pvisor__Snapshot *s);

/* analyze --per-window: JSON {"total": <doc>, "windows": [<doc>, ...]};
 * table: each window, then the total. */
int pv_render_windows_json(FILE *f, const Pvisor__Snapshot *total,
			   Pvisor__Snapshot *const *windows, size_t n);
int pv_render_windows_table(FILE *f, const Pvisor__Snapshot *total,
			    Pvisor__Snapshot *const *windows, size_t n);

int pv_render_status_json(FILE *f, const Pvisor__Status *st);
int pv_render_status_table(FILE *f, const Pvisor__Status *st);

#endif
