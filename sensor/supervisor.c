#include "sensor/supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/filter.h>
#include <inttypes.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/cidr.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "sensor/decode.h"
#include "sensor/geo.h"
#include "sensor/privs.h"
#include "sensor/ring.h"
#include "sensor/worker.h"
#include "shm/region.h"

/* Worker exit statuses at or above this are configuration failures that a
 * restart cannot fix: the sensor stops instead of looping. */
#define WORKER_FATAL_EXIT 3
#define STOP_GRACE_MS 5000
#define RESTART_BACKOFF_NS 1000000000ull

static volatile sig_atomic_t sup_stop;

static void on_signal(int sig)
{
	(void)sig;
	sup_stop = 1;
}

/* Only interrupts the supervisor's sleep, so a worker's exit is seen at once
 * (offline, the end of the file) rather than at the next 100 ms tick. */
static void on_child(int sig)
{
	(void)sig;
}

struct sup {
	const struct pv_sensor_opts *o;
	struct pv_region region;
	struct pv_ring rings[PV_SHM_MAX_WORKERS];
	int pcap_fds[PV_SHM_MAX_WORKERS];
	pid_t pids[PV_SHM_MAX_WORKERS];
	uint64_t last_start[PV_SHM_MAX_WORKERS];
	bool done[PV_SHM_MAX_WORKERS];
	struct bpf_program bpf;
	bool have_bpf;
	struct pv_cidr_set hostnets;
	struct pv_cidr_set only_hosts;
	struct pv_geo geo;
	bool have_geo;
	struct pv_user user;
	uint64_t iface_drops_base;
	bool region_made;
};

static int hostnets_from_iface(struct pv_cidr_set *s, const char *ifname)
{
	struct ifaddrs *ifa, *i;

	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || strcmp(i->ifa_name, ifname) != 0)
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			pv_cidr_set_add(s, 4,
					(const uint8_t *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr,
					32);
		else if (i->ifa_addr->sa_family == AF_INET6)
			pv_cidr_set_add(
				s, 6,
				(const uint8_t *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 128);
	}
	freeifaddrs(ifa);
	return PV_OK;
}

/* Receive losses before the stack (and so before any capture tap): the
 * NIC's missed/FIFO/overrun counters. rx_dropped is left out on purpose: the
 * kernel also counts there frames the taps already delivered (a VLAN tag
 * without a VLAN device, a protocol without a handler). */
static uint64_t iface_drops_read(const char *ifname)
{
	static const char *const files[] = {"rx_missed_errors", "rx_fifo_errors",
					    "rx_over_errors"};
	uint64_t sum = 0;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[128];
		unsigned long long v = 0;
		FILE *f;

		snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", ifname, files[i]);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fscanf(f, "%llu", &v) == 1)
			sum += v;
		fclose(f);
	}
	return sum;
}

static int dlt_for(int linktype)
{
	switch (linktype) {
	case PV_LINK_ETHERNET:
		return DLT_EN10MB;
	case PV_LINK_RAW:
		return DLT_RAW;
	default:
		return linktype;
	}
}

static int compile_bpf(struct sup *s, int dlt)
{
	pcap_t *dead;

	if (!s->o->bpf)
		return PV_OK;
	dead = pcap_open_dead(dlt, 262144);
	if (!dead) {
		pv_err("cannot set up the BPF compiler");
		return PV_ECONFIG;
	}
	if (pcap_compile(dead, &s->bpf, s->o->bpf, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		pv_err("invalid --bpf expression '%s': %s", s->o->bpf, pcap_geterr(dead));
		pcap_close(dead);
		return PV_ECONFIG;
	}
	pcap_close(dead);
	s->have_bpf = true;
	return PV_OK;
}

/* Offline: check the file once, then open one description per shard so
 * each worker (and a restarted one) reads it from its own offset. */
static int pcap_prepare(struct sup *s, int *dlt)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(s->o->pcap, errbuf);

	if (!pc) {
		pv_err("cannot read capture file %s: %s", s->o->pcap, errbuf);
		return PV_ECONFIG;
	}
	*dlt = pcap_datalink(pc);
	pcap_close(pc);
	if (pv_linktype_from_dlt(*dlt) < 0) {
		pv_err("%s: link type %s (%d) is not decoded by pvisor", s->o->pcap,
		       pcap_datalink_val_to_name(*dlt) ? pcap_datalink_val_to_name(*dlt) : "?",
		       *dlt);
		return PV_EUNSUPPORTED;
	}
	for (unsigned i = 0; i < s->o->workers; i++) {
		s->pcap_fds[i] = open(s->o->pcap, O_RDONLY | O_CLOEXEC);
		if (s->pcap_fds[i] < 0) {
			pv_err("cannot open %s: %s", s->o->pcap, strerror(errno));
			return -errno;
		}
	}
	return PV_OK;
}

static int rings_open(struct sup *s)
{
	struct sock_fprog prog, *progp = NULL;
	char why[256];
	int fanout = -1;

	if (s->have_bpf) {
		prog.len = (unsigned short)s->bpf.bf_len;
		prog.filter = (struct sock_filter *)s->bpf.bf_insns;
		progp = &prog;
	}
	for (unsigned i = 0; i < s->o->workers; i++) {
		struct pv_ring_params p = {
			.ifname = s->o->iface,
			.ring_mb = s->o->ring_mb,
			.block_tov_ms = s->o->block_tov_ms,
			.bpf = progp,
			.fanout_id = fanout,
			.promisc = s->o->promisc && i == 0,
		};
		int rc = pv_ring_open(&s->rings[i], &p, why, sizeof(why));
		if (rc != PV_OK) {
			pv_err("worker %u ring: %s", i, why);
			return rc;
		}
		fanout = s->rings[i].fanout_id;
	}
	pv_info("%u rings of %u MiB on %s, fanout group %d (hash, defrag)", s->o->workers,
		s->rings[0].block_nr, s->o->iface, fanout);
	return PV_OK;
}

static pid_t worker_spawn(struct sup *s, unsigned shard, bool restarted)
{
	struct pv_shard_hdr *sh = pv_region_shard(&s->region, shard);
	pid_t pid = fork();

	if (pid < 0) {
		pv_err("fork of worker %u: %s", shard, strerror(errno));
		return -1;
	}
	if (pid == 0) {
		struct pv_worker_cfg cfg = {
			.region = &s->region,
			.shard = shard,
			.workers = s->o->workers,
			.window_sec = s->o->window_sec,
			.mode = s->o->pcap ? PV_MODE_PCAP : PV_MODE_LIVE,
			.ring = s->o->pcap ? NULL : &s->rings[shard],
			.pcap_fd = s->o->pcap ? s->pcap_fds[shard] : -1,
			.bpf = (s->o->pcap && s->have_bpf) ? &s->bpf : NULL,
			.hostnets = &s->hostnets,
			.only_hosts = s->o->only_hosts ? &s->only_hosts : NULL,
			.geo = s->have_geo ? &s->geo : NULL,
			.geoloc_notfound = s->o->geoloc_notfound,
			.asn_notfound = s->o->asn_notfound,
			.user = s->user,
			.hash_seed = s->region.hdr->hash_seed,
			.wait_ack = s->o->pcap != NULL,
			.restarted = restarted,
		};
		/* A worker keeps only its own ring and file. */
		for (unsigned i = 0; i < s->o->workers; i++) {
			if (i == shard)
				continue;
			if (!s->o->pcap)
				pv_ring_close(&s->rings[i]);
			else if (s->pcap_fds[i] >= 0)
				close(s->pcap_fds[i]);
		}
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		_exit(pv_worker_run(&cfg));
	}
	__atomic_store_n(&sh->pid, pid, __ATOMIC_RELEASE);
	s->pids[shard] = pid;
	s->last_start[shard] = pv_mono_ns();
	return pid;
}

static int shard_of(const struct sup *s, pid_t pid)
{
	for (unsigned i = 0; i < s->o->workers; i++)
		if (s->pids[i] == pid)
			return (int)i;
	return -1;
}

/* Reaps exited workers. Returns a fatal exit status, or 0. */
static int reap(struct sup *s, bool stopping)
{
	int st, fatal = 0;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		int i = shard_of(s, pid);
		struct pv_shard_hdr *sh;

		if (i < 0)
			continue;
		sh = pv_region_shard(&s->region, (uint32_t)i);
		s->pids[i] = 0;
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			s->done[i] = true;
			continue;
		}
		if (WIFEXITED(st) && WEXITSTATUS(st) >= WORKER_FATAL_EXIT) {
			pv_err("worker %d failed (exit %d): stopping the sensor", i,
			       WEXITSTATUS(st));
			s->done[i] = true;
			fatal = WEXITSTATUS(st);
			continue;
		}
		if (WIFSIGNALED(st))
			pv_warn("worker %d (pid %d) killed by signal %d%s", i, (int)pid,
				WTERMSIG(st), stopping ? "" : ": restarting it");
		else
			pv_warn("worker %d (pid %d) exited with %d%s", i, (int)pid,
				WEXITSTATUS(st), stopping ? "" : ": restarting it");
		if (stopping) {
			s->done[i] = true;
			continue;
		}
		pv_store32(&sh->state, PV_SHARD_DEAD);
		pv_store64(&sh->restarts, sh->restarts + 1);
		/* A worker that keeps dying is restarted at most once a second. */
		if (pv_mono_ns() - s->last_start[i] < RESTART_BACKOFF_NS)
			pv_sleep_ms(1000);
		worker_spawn(s, (unsigned)i, true);
	}
	return fatal;
}

static bool all_done(const struct sup *s)
{
	for (unsigned i = 0; i < s->o->workers; i++)
		if (!s->done[i])
			return false;
	return true;
}

static void stop_workers(struct sup *s)
{
	uint64_t deadline = pv_mono_ns() + (uint64_t)STOP_GRACE_MS * 1000000ull;

	for (unsigned i = 0; i < s->o->workers; i++)
		if (s->pids[i] > 0)
			kill(s->pids[i], SIGTERM);
	while (!all_done(s) && pv_mono_ns() < deadline) {
		reap(s, true);
		if (!all_done(s))
			pv_sleep_ms(20);
	}
	for (unsigned i = 0; i < s->o->workers; i++)
		if (s->pids[i] > 0) {
			pv_warn("worker %u did not stop in time: killing it", i);
			kill(s->pids[i], SIGKILL);
			waitpid(s->pids[i], NULL, 0);
			s->pids[i] = 0;
		}
}

static void wait_aggregator(struct sup *s)
{
	uint64_t deadline = pv_mono_ns() + (uint64_t)s->o->wait_aggregator_sec * 1000000000ull;
	const struct pv_ack_hdr *a = pv_region_ack_hdr(&s->region);

	while (!sup_stop && pv_mono_ns() < deadline &&
	       __atomic_load_n(&a->aggregator_pid, __ATOMIC_ACQUIRE) == 0)
		pv_sleep_ms(10);
	if (!sup_stop && __atomic_load_n(&a->aggregator_pid, __ATOMIC_ACQUIRE) == 0)
		pv_warn("no aggregator attached within %u s: reading anyway",
			s->o->wait_aggregator_sec);
}

static int setup(struct sup *s)
{
	const struct pv_sensor_opts *o = s->o;
	struct pv_region_params rp;
	char why[256], host[64];
	int dlt = DLT_EN10MB, rc;

	if (pv_instance_valid(o->instance) != PV_OK) {
		pv_err("invalid instance name '%s' (use [A-Za-z0-9_.-], 1-63 chars)", o->instance);
		return PV_ECONFIG;
	}
	rc = pv_privs_resolve(o->user, &s->user, why, sizeof(why));
	if (rc != PV_OK) {
		pv_err("%s", why);
		return rc;
	}
	pv_cidr_set_init(&s->hostnets);
	if (o->host_net) {
		if (pv_cidr_set_parse(&s->hostnets, o->host_net, why, sizeof(why)) != PV_OK) {
			pv_err("--host-net: %s", why);
			return PV_ECONFIG;
		}
	} else if (o->iface) {
		hostnets_from_iface(&s->hostnets, o->iface);
	}
	pv_cidr_set_init(&s->only_hosts);
	if (o->only_hosts &&
	    pv_cidr_set_parse(&s->only_hosts, o->only_hosts, why, sizeof(why)) != PV_OK) {
		pv_err("--only-hosts: %s", why);
		return PV_ECONFIG;
	}
	if (o->geo_city || o->geo_asn) {
		if (pv_geo_open(&s->geo, o->geo_city, o->geo_asn, why, sizeof(why)) != PV_OK) {
			pv_err("%s", why);
			return PV_ECONFIG;
		}
		s->have_geo = true;
	}
	if (o->pcap) {
		rc = pcap_prepare(s, &dlt);
	} else {
		int lt = pv_ring_linktype(o->iface, why, sizeof(why));
		if (lt < 0) {
			pv_err("%s", why);
			return PV_ECONFIG;
		}
		dlt = dlt_for(lt);
		rc = PV_OK;
	}
	if (rc != PV_OK || (rc = compile_bpf(s, dlt)) != PV_OK)
		return rc;

	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = 0;
	memset(&rp, 0, sizeof(rp));
	rp.instance = o->instance;
	rp.sensor_id = o->sensor_id ? o->sensor_id : host;
	rp.source = o->pcap ? o->pcap : o->iface;
	rp.workers = o->workers;
	rp.slots = o->slots;
	rp.window_sec = o->window_sec;
	rp.mode = o->pcap ? PV_MODE_PCAP : PV_MODE_LIVE;
	rp.owner_uid = geteuid() == 0 ? s->user.uid : (uid_t)-1;
	rp.owner_gid = geteuid() == 0 ? s->user.gid : (gid_t)-1;
	rc = pv_region_create(&s->region, &rp);
	if (rc != PV_OK) {
		pv_err("cannot create shared memory /dev/shm/pvisor-%s: %s", o->instance,
		       pv_strerror(rc));
		return rc;
	}
	s->region_made = true;
	if (!o->pcap) {
		rc = rings_open(s);
		if (rc != PV_OK)
			return rc;
		s->iface_drops_base = iface_drops_read(o->iface);
	}
	rc = pv_privs_drop_supervisor(&s->user, why, sizeof(why));
	if (rc != PV_OK) {
		pv_err("dropping privileges: %s", why);
		return rc;
	}
	/* Workers become whoever the supervisor now is. */
	s->user.uid = getuid();
	s->user.gid = getgid();
	return PV_OK;
}

int pv_supervisor_run(const struct pv_sensor_opts *o)
{
	static struct sup s;
	struct sigaction sa;
	int fatal = 0, rc;

	memset(&s, 0, sizeof(s));
	s.o = o;
	for (unsigned i = 0; i < PV_SHM_MAX_WORKERS; i++) {
		s.pcap_fds[i] = -1;
		s.rings[i].fd = -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_child;
	sigaction(SIGCHLD, &sa, NULL);

	rc = setup(&s);
	if (rc != PV_OK) {
		if (s.region_made)
			pv_region_unlink(o->instance);
		return rc == PV_ECONFIG || rc == PV_EUNSUPPORTED ? 1 : 2;
	}
	pv_store32(&s.region.hdr->state, PV_REGION_RUNNING);
	if (o->pcap && o->wait_aggregator_sec)
		wait_aggregator(&s);
	if (sup_stop) {
		pv_store32(&s.region.hdr->state, PV_REGION_STOPPED);
		return 0;
	}
	pv_info("%s %s: %u workers, %u s windows, region /dev/shm/pvisor-%s, user %s",
		o->pcap ? "reading" : "capturing on", o->pcap ? o->pcap : o->iface, o->workers,
		o->window_sec, o->instance, s.user.name);
	for (unsigned i = 0; i < o->workers; i++)
		if (worker_spawn(&s, i, false) < 0) {
			sup_stop = 1;
			fatal = 2;
			break;
		}

	while (!sup_stop && !fatal && !all_done(&s)) {
		fatal = reap(&s, false);
		if (fatal || all_done(&s))
			break;
		pv_sleep_ms(100);
		pv_store64(&s.region.hdr->supervisor_heartbeat_ns, pv_mono_ns());
		if (!o->pcap)
			pv_store64(&s.region.hdr->iface_drops,
				   iface_drops_read(o->iface) - s.iface_drops_base);
	}
	stop_workers(&s);
	/* Every worker has sealed its window: the aggregator may take them all. */
	pv_store32(&s.region.hdr->state, PV_REGION_STOPPED);
	pv_info("stopped");
	return fatal ? 3 : 0;
}
