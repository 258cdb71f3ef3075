/*
 * The analyze orchestration (see analyze.h): temp run dir and instance name,
 * the two children (fork + execv), connecting and polling the private
 * aggregator until the sensor has finished and every window is merged,
 * fetching the result, and a cleanup that runs on every path.
 */
#include "ctl/analyze.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl/client.h"
#include "ctl/render.h"
#include "lib/err.h"
#include "lib/timeutil.h"
#include "shm/layout.h"
#include "shm/region.h"

#define POLL_MS 50
#define CONNECT_TIMEOUT_S 10
#define AFTER_SENSOR_EXIT_S 60 /* merge of the last windows after pvsensor exits */
#define TERM_GRACE_MS 2000
#define SENSOR_WAIT_AGGREGATOR "10"

struct child {
	const char *name;
	pid_t pid;   /* -1: not started */
	bool reaped;
	int status;  /* wait status once reaped (-1: unknown) */
};

struct analyze {
	const struct pv_analyze_opts *o;
	char dir[PATH_MAX];       /* temp run dir, "" until created */
	char instance[64];
	char url[160];
	char sensor_bin[PATH_MAX];
	char aggregator_bin[PATH_MAX];
	struct child sensor, aggregator;
	struct pv_client *client;
	Pvisor__Response *total;
	Pvisor__Response *windows;
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static uint64_t mono_ms(void)
{
	return pv_mono_ns() / 1000000u;
}

/* Full path of an executable: beside pvctl itself, else in $PATH. */
static int find_binary(const char *name, char *out, size_t len)
{
	char self[PATH_MAX];
	const char *path, *p;
	ssize_t n;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		char *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			if ((size_t)snprintf(out, len, "%s/%s", self, name) < len &&
			    access(out, X_OK) == 0)
				return PV_OK;
		}
	}
	path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; *p;) {
		const char *end = strchrnul(p, ':');
		int dlen = (int)(end - p);
		struct stat st;

		if (dlen == 0 ? (size_t)snprintf(out, len, "./%s", name) < len
			      : (size_t)snprintf(out, len, "%.*s/%s", dlen, p, name) < len) {
			if (access(out, X_OK) == 0 && stat(out, &st) == 0 && S_ISREG(st.st_mode))
				return PV_OK;
		}
		p = *end ? end + 1 : end;
	}
	out[0] = '\0';
	return -ENOENT;
}

static void describe_status(int status, char *buf, size_t len)
{
	if (status == -1)
		snprintf(buf, len, "ended (status unknown)");
	else if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "was killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "ended (wait status %#x)", (unsigned)status);
}

/* Non-blocking: true while the child runs; reaps it once it has ended.
 * False for a child never started (pid -1), so no caller can ever signal
 * pid -1 (every process) or 0 (our group). */
static bool child_running(struct child *c)
{
	pid_t r;

	if (c->pid <= 0 || c->reaped)
		return false;
	r = waitpid(c->pid, &c->status, WNOHANG);
	if (r == c->pid || (r < 0 && errno == ECHILD)) {
		if (r < 0)
			c->status = -1;
		c->reaped = true;
	}
	return !c->reaped;
}

static bool child_failed(const struct child *c)
{
	return c->reaped && !(c->status != -1 && WIFEXITED(c->status) &&
			      WEXITSTATUS(c->status) == 0);
}

static int spawn(struct child *c, const char *path, char *const argv[])
{
	pid_t parent = getpid();
	pid_t pid;

	pid = fork();
	if (pid < 0) {
		int err = errno;

		fprintf(stderr, "pvctl: analyze: cannot start %s: fork: %s\n", c->name,
			strerror(err));
		return -err;
	}
	if (pid == 0) {
		/* Own process group, so that a last-resort SIGKILL also reaches
		 * whatever the child forked (pvsensor's workers); and die with
		 * pvctl even if it is killed outright: nothing it started
		 * should outlive it. */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127);
		execv(path, argv);
		dprintf(STDERR_FILENO, "pvctl: analyze: cannot run %s: %s\n", path,
			strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid); /* also here: no window where the group is unset */
	c->pid = pid;
	return PV_OK;
}

/* SIGTERM to each child (pvsensor's supervisor then stops its workers),
 * TERM_GRACE_MS to exit, then SIGKILL to the child's whole process group;
 * always reaps. The group is signalled only while its leader is not yet
 * reaped, so its id cannot have been reused. */
static void stop_children(struct child *const *kids, size_t n)
{
	uint64_t deadline = mono_ms() + TERM_GRACE_MS;
	bool left;

	for (size_t i = 0; i < n; i++)
		if (child_running(kids[i]))
			kill(kids[i]->pid, SIGTERM);
	for (;;) {
		left = false;
		for (size_t i = 0; i < n; i++)
			left |= child_running(kids[i]);
		if (!left || mono_ms() >= deadline)
			break;
		pv_sleep_ms(20);
	}
	for (size_t i = 0; i < n; i++) {
		struct child *c = kids[i];

		if (!child_running(c))
			continue;
		fprintf(stderr, "pvctl: analyze: %s (pid %d) ignored SIGTERM for %d ms; killing it\n",
			c->name, (int)c->pid, TERM_GRACE_MS);
		kill(-c->pid, SIGKILL);
		while (waitpid(c->pid, &c->status, 0) < 0 && errno == EINTR)
			;
		c->reaped = true;
	}
}

/* Empties (one level) and removes our private run directory. */
static void remove_dir(const char *path)
{
	DIR *d;
	struct dirent *de;

	d = opendir(path);
	if (d) {
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno == EISDIR)
				unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR);
		}
		closedir(d);
	}
	if (rmdir(path) < 0 && errno != ENOENT)
		fprintf(stderr, "pvctl: analyze: cannot remove the temporary directory %s: %s\n",
			path, strerror(errno));
}

static void cleanup(struct analyze *a)
{
	struct child *kids[] = {&a->sensor, &a->aggregator};
	int err;

	pv_client_close(a->client);
	a->client = NULL;
	stop_children(kids, sizeof(kids) / sizeof(kids[0]));
	if (a->instance[0]) {
		err = pv_region_unlink(a->instance);
		if (err && err != -ENOENT)
			fprintf(stderr, "pvctl: analyze: cannot remove /dev/shm/pvisor-%s: %s\n",
				a->instance, pv_strerror(err));
	}
	if (a->dir[0]) {
		/* The socket file is in the directory: this removes it too. */
		remove_dir(a->dir);
		a->dir[0] = '\0';
	}
}

static int make_run_dir(struct analyze *a)
{
	const char *tmp = getenv("TMPDIR");
	uint32_t rnd;

	if (!tmp || !*tmp)
		tmp = "/tmp";
	if ((size_t)snprintf(a->dir, sizeof(a->dir), "%s/pvctl-analyze-XXXXXX", tmp) >=
	    sizeof(a->dir)) {
		fprintf(stderr, "pvctl: analyze: TMPDIR path too long: %s\n", tmp);
		a->dir[0] = '\0';
		return PV_ECONFIG;
	}
	if (!mkdtemp(a->dir)) {
		int err = errno;

		fprintf(stderr,
			"pvctl: analyze: cannot create a temporary directory in %s: %s — set "
			"TMPDIR to a writable directory\n",
			tmp, strerror(err));
		a->dir[0] = '\0';
		return -err;
	}
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
		rnd = (uint32_t)pv_mono_ns() ^ (uint32_t)getpid() << 16;
	snprintf(a->instance, sizeof(a->instance), "analyze-%d-%08x", (int)getpid(), rnd);
	if (pv_client_url(a->dir, a->instance, a->url, sizeof(a->url)) != PV_OK) {
		fprintf(stderr,
			"pvctl: analyze: the temporary directory path %s is too long for a "
			"control socket — set TMPDIR to a shorter path\n",
			a->dir);
		return PV_ECONFIG;
	}
	return PV_OK;
}

static int start_children(struct analyze *a)
{
	const struct pv_analyze_opts *o = a->o;
	char workers[16], window[16];
	/* Each held window costs a merged view (~1 MiB): keep them all only
	 * when they are printed; the total is kept regardless. */
	char *agg_argv[] = {"pvaggregator", "--quiet", "--instance", a->instance, "--run-dir",
			    a->dir, "--history", o->per_window ? "100000" : "1", NULL};
	char *sensor_argv[32];
	size_t n = 0;
	int err;

	snprintf(workers, sizeof(workers), "%u", o->workers);
	sensor_argv[n++] = "pvsensor";
	sensor_argv[n++] = "--quiet";
	sensor_argv[n++] = "--pcap";
	sensor_argv[n++] = (char *)o->pcap;
	sensor_argv[n++] = "--instance";
	sensor_argv[n++] = a->instance;
	sensor_argv[n++] = "--workers";
	sensor_argv[n++] = workers;
	if (o->window_sec) {
		snprintf(window, sizeof(window), "%u", o->window_sec);
		sensor_argv[n++] = "--window";
		sensor_argv[n++] = window;
	}
	if (o->host_net) {
		sensor_argv[n++] = "--host-net";
		sensor_argv[n++] = (char *)o->host_net;
	}
	if (o->bpf) {
		sensor_argv[n++] = "--bpf";
		sensor_argv[n++] = (char *)o->bpf;
	}
	if (o->only_hosts) {
		sensor_argv[n++] = "--only-hosts";
		sensor_argv[n++] = (char *)o->only_hosts;
	}
	if (o->geo_city) {
		sensor_argv[n++] = "--geo-city";
		sensor_argv[n++] = (char *)o->geo_city;
	}
	if (o->geo_asn) {
		sensor_argv[n++] = "--geo-asn";
		sensor_argv[n++] = (char *)o->geo_asn;
	}
	sensor_argv[n++] = "--wait-aggregator";
	sensor_argv[n++] = SENSOR_WAIT_AGGREGATOR;
	sensor_argv[n] = NULL;

	err = spawn(&a->aggregator, a->aggregator_bin, agg_argv);
	if (err)
		return err;
	return spawn(&a->sensor, a->sensor_bin, sensor_argv);
}

/* A child's end is fatal unless it is pvsensor exiting 0. Reports it. */
static bool children_failed(struct analyze *a)
{
	char how[96];

	child_running(&a->sensor);
	child_running(&a->aggregator);
	if (child_failed(&a->sensor)) {
		describe_status(a->sensor.status, how, sizeof(how));
		fprintf(stderr, "pvctl: analyze: pvsensor %s while reading %s (see its messages "
				"above)\n",
			how, a->o->pcap);
		return true;
	}
	if (a->aggregator.reaped) {
		describe_status(a->aggregator.status, how, sizeof(how));
		fprintf(stderr, "pvctl: analyze: pvaggregator %s before the analysis finished "
				"(see its messages above)\n",
			how);
		return true;
	}
	return false;
}

static int interrupted(void)
{
	return stop_signal ? 128 + stop_signal : 0;
}

/* Dials the private aggregator, retrying while its socket does not exist. */
static int connect_aggregator(struct analyze *a)
{
	uint64_t deadline = mono_ms() + CONNECT_TIMEOUT_S * 1000u;
	struct pv_client_err e;

	for (;;) {
		if (interrupted())
			return interrupted();
		if (children_failed(a))
			return PV_EXIT_BAD_DATA;
		if (pv_client_open_url(&a->client, a->url, 0, &e) == PV_OK)
			return PV_EXIT_OK;
		if (mono_ms() >= deadline) {
			fprintf(stderr,
				"pvctl: analyze: the private pvaggregator did not open its control "
				"socket within %d s: %s\n",
				CONNECT_TIMEOUT_S, e.msg);
			return PV_EXIT_UNREACHABLE;
		}
		pv_sleep_ms(POLL_MS);
	}
}

/* Polls STATUS until the sensor has finished and every window is merged. */
static int wait_finished(struct analyze *a)
{
	unsigned limit_s = a->o->finish_timeout_s ? a->o->finish_timeout_s
						  : PV_ANALYZE_FINISH_TIMEOUT_S;
	uint64_t deadline = mono_ms() + (uint64_t)limit_s * 1000u;
	uint64_t sensor_exit_deadline = 0;
	Pvisor__Response *r = NULL;
	struct pv_client_err e;
	bool finished;

	for (;;) {
		if (interrupted())
			return interrupted();
		if (children_failed(a))
			return PV_EXIT_BAD_DATA;
		if (a->sensor.reaped && !sensor_exit_deadline)
			sensor_exit_deadline = mono_ms() + AFTER_SENSOR_EXIT_S * 1000u;

		if (pv_client_request(a->client, PVISOR__REQUEST__KIND__STATUS, 0, 0, &r, &e)) {
			/* A busy or restarting aggregator is retried until the
			 * deadline; one that answers nonsense is not. */
			if (e.fail != PV_CLIENT_FAIL_UNREACHABLE) {
				fprintf(stderr, "pvctl: analyze: %s\n", e.msg);
				return pv_client_exit_code(&e);
			}
		} else {
			finished = r->status->sensor_finished;
			pv_client_response_free(r);
			if (finished)
				return PV_EXIT_OK;
		}
		if (mono_ms() >= deadline) {
			fprintf(stderr, "pvctl: analyze: %s not finished after %u s; giving up\n",
				a->o->pcap, limit_s);
			return PV_EXIT_BAD_DATA;
		}
		if (sensor_exit_deadline && mono_ms() >= sensor_exit_deadline) {
			fprintf(stderr,
				"pvctl: analyze: pvsensor finished but pvaggregator did not report "
				"every window merged within %d s\n",
				AFTER_SENSOR_EXIT_S);
			return PV_EXIT_BAD_DATA;
		}
		pv_sleep_ms(POLL_MS);
	}
}

static int fetch(struct analyze *a)
{
	struct pv_client_err e;

	if (pv_client_request(a->client, PVISOR__REQUEST__KIND__TOTAL, 0, 0, &a->total, &e))
		goto fail;
	if (a->o->per_window &&
	    pv_client_request(a->client, PVISOR__REQUEST__KIND__WINDOWS, 0, 0, &a->windows, &e))
		goto fail;
	return PV_EXIT_OK;
fail:
	fprintf(stderr, "pvctl: analyze: %s\n", e.msg);
	return pv_client_exit_code(&e);
}

static int render(const struct analyze *a, FILE *out)
{
	const Pvisor__Snapshot *total = a->total->snapshot;
	int err;

	if (a->o->per_window && a->o->json)
		err = pv_render_windows_json(out, total, a->windows->windows,
					     a->windows->n_windows);
	else if (a->o->per_window)
		err = pv_render_windows_table(out, total, a->windows->windows,
					      a->windows->n_windows);
	else if (a->o->json)
		err = pv_render_snapshot_json(out, total);
	else
		err = pv_render_snapshot_table(out, total);
	if (!err && fflush(out) == EOF)
		err = -errno;
	if (err) {
		fprintf(stderr, "pvctl: analyze: cannot write the result: %s\n", pv_strerror(err));
		return PV_EXIT_BAD_DATA;
	}
	return PV_EXIT_OK;
}

int pv_analyze_run(const struct pv_analyze_opts *opts, FILE *out)
{
	struct pv_analyze_opts o = *opts;
	struct analyze a = {
		.o = &o,
		.sensor = {.name = "pvsensor", .pid = -1},
		.aggregator = {.name = "pvaggregator", .pid = -1},
	};
	struct sigaction sa, old_int, old_term;
	int rc, fd;

	if (o.workers == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		o.workers = n < 1 ? 1 : n > PV_SHM_MAX_WORKERS ? PV_SHM_MAX_WORKERS : (unsigned)n;
	}
	/* Fail before starting anything when the file cannot be read. */
	fd = open(o.pcap, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "pvctl: analyze: cannot read %s: %s\n", o.pcap, strerror(errno));
		return PV_EXIT_BAD_DATA;
	}
	close(fd);
	if (find_binary("pvsensor", a.sensor_bin, sizeof(a.sensor_bin)) ||
	    find_binary("pvaggregator", a.aggregator_bin, sizeof(a.aggregator_bin))) {
		fprintf(stderr,
			"pvctl: analyze: cannot find %s beside pvctl or in PATH — install "
			"pvisor completely or add its directory to PATH\n",
			a.sensor_bin[0] ? "pvaggregator" : "pvsensor");
		return PV_EXIT_BAD_DATA;
	}

	stop_signal = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: let sleeps and waits return early */
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);

	if (make_run_dir(&a)) {
		rc = PV_EXIT_BAD_DATA;
		goto out;
	}
	if (start_children(&a)) {
		rc = PV_EXIT_BAD_DATA;
		goto out;
	}
	rc = connect_aggregator(&a);
	if (rc)
		goto out;
	rc = wait_finished(&a);
	if (rc)
		goto out;
	rc = fetch(&a);
out:
	cleanup(&a);
	/* A child that failed because of our Ctrl-C is not the story. */
	if (interrupted())
		rc = interrupted();
	if (!rc)
		rc = render(&a, out);
	if (rc > 128)
		fprintf(stderr, "pvctl: analyze: interrupted by signal %d (%s); cleaned up\n",
			rc - 128, strsignal(rc - 128));
	pv_client_response_free(a.total);
	pv_client_response_free(a.windows);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	return rc;
}
