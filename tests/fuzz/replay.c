/*
 * Corpus replayer shared by every fuzz target: linked in place of libFuzzer's
 * main so `make check` runs the committed seeds with the ordinary compiler
 * (and under SAN=1, the sanitizers) without a fuzzing toolchain. Each argument
 * is a file or a directory; a directory is read one level deep, in sorted
 * order so a failure reproduces the same way every time. An unreadable path or
 * an empty directory is an error: a replay that silently ran nothing would
 * pass while testing nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	FILE *f = NULL;
	uint8_t *buf = NULL;
	long len;
	int rc = -1;

	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "replay: cannot open %s: %s\n", path, strerror(errno));
		goto out;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "replay: cannot size %s: %s\n", path, strerror(errno));
		goto out;
	}
	/* Exactly the file's size, so ASan sees a read one byte past the
	 * input; one byte for an empty file so it still gets a real pointer. */
	buf = malloc(len > 0 ? (size_t)len : 1);
	if (!buf) {
		fprintf(stderr, "replay: out of memory for %s (%ld bytes)\n", path, len);
		goto out;
	}
	if (len > 0 && fread(buf, 1, (size_t)len, f) != (size_t)len) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		goto out;
	}
	LLVMFuzzerTestOneInput(buf, (size_t)len);
	rc = 0;
out:
	free(buf);
	if (f)
		fclose(f);
	return rc;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays the regular files directly inside dir; returns how many, or -1. */
static long replay_dir(const char *dir)
{
	DIR *d = NULL;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	long done = -1;

	d = opendir(dir);
	if (!d) {
		fprintf(stderr, "replay: cannot open directory %s: %s\n", dir, strerror(errno));
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		char *path;
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0) {
			fprintf(stderr, "replay: out of memory listing %s\n", dir);
			goto out;
		}
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
			free(path);
			continue;
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			char **nn = realloc(names, ncap * sizeof(*nn));

			if (!nn) {
				free(path);
				fprintf(stderr, "replay: out of memory listing %s\n", dir);
				goto out;
			}
			names = nn;
			cap = ncap;
		}
		names[n++] = path;
	}
	if (n == 0) {
		fprintf(stderr, "replay: directory %s holds no input files\n", dir);
		goto out;
	}
	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++)
		if (replay_file(names[i]) != 0)
			goto out;
	done = (long)n;
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (d)
		closedir(d);
	return done;
}

int main(int argc, char **argv)
{
	long total = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: cannot read %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		if (S_ISDIR(st.st_mode)) {
			long n = replay_dir(argv[i]);

			if (n < 0)
				return 1;
			total += n;
		} else {
			if (replay_file(argv[i]) != 0)
				return 1;
			total++;
		}
	}
	printf("replayed %ld inputs\n", total);
	return 0;
}
