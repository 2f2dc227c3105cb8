/* The SHA-256 of the program a process runs.
 *
 * The file is opened as /proc/PID/exe, which is the very file the kernel
 * executes for that process: when the path was replaced after exec (an
 * upgrade renames a new binary over it), the hash is still that of the
 * running code, never that of the file now at the path.  An executable
 * being run cannot be written to (ETXTBSY), so a file's content only
 * changes by replacing it, which gives a new inode.
 *
 * Hashing is done once per (path, device, inode, mtime, size), read from
 * the open file itself; a file whose size or mtime moved while it was read
 * is not trusted (no hash, not cached). */
#include "config.h"
#include "apphash.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

/* Beyond this many cached files the cache starts afresh: a desktop runs far
 * fewer programs, so only a churn of new binaries reaches it. */
#define CACHE_MAX 1024
/* A larger file is not hashed: reading it would stall the client. */
#define HASH_MAX_BYTES (1024LL * 1024 * 1024)
#define READ_CHUNK (64 * 1024)

struct nc_apphash {
	GHashTable *digests;	/* key text -> uint8_t[NC_SHA256_LEN] */
	unsigned computed;
	bool logged_too_big;
};

struct nc_apphash *nc_apphash_new(void)
{
	struct nc_apphash *cache = g_new0(struct nc_apphash, 1);

	cache->digests = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	return cache;
}

void nc_apphash_free(struct nc_apphash *cache)
{
	if (!cache)
		return;
	g_hash_table_destroy(cache->digests);
	g_free(cache);
}

unsigned nc_apphash_computed(const struct nc_apphash *cache)
{
	return cache->computed;
}

static char *cache_key(const struct stat *st, const char *path)
{
	return g_strdup_printf("%" PRIx64 ":%" PRIx64 ":%lld.%09ld:%lld:%s",
			       (uint64_t)st->st_dev, (uint64_t)st->st_ino,
			       (long long)st->st_mtim.tv_sec, (long)st->st_mtim.tv_nsec,
			       (long long)st->st_size, path);
}

static bool same_file_state(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Streams fd through SHA-256. */
static bool hash_fd(int fd, uint8_t digest[NC_SHA256_LEN])
{
	gnutls_hash_hd_t h;
	static uint8_t buf[READ_CHUNK];
	ssize_t n;

	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
		return false;
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		gnutls_hash(h, buf, (size_t)n);
	}
	gnutls_hash_deinit(h, digest);
	return n == 0;
}

bool nc_apphash_get(struct nc_apphash *cache, pid_t pid, const char *path,
		    uint8_t digest[NC_SHA256_LEN])
{
	char exe[64];
	struct stat before, after;
	const uint8_t *known;
	char *key = NULL;
	bool ok = false;
	int fd;

	g_snprintf(exe, sizeof(exe), "/proc/%ld/exe", (long)pid);
	fd = open(exe, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_debug("cannot open %s (%s): %s: no SHA-256 sent", exe, path, g_strerror(errno));
		return false;
	}
	if (fstat(fd, &before) < 0 || !S_ISREG(before.st_mode))
		goto out;
	key = cache_key(&before, path);
	known = g_hash_table_lookup(cache->digests, key);
	if (known) {
		memcpy(digest, known, NC_SHA256_LEN);
		ok = true;
		goto out;
	}
	if (before.st_size > HASH_MAX_BYTES) {
		if (!cache->logged_too_big) {
			cache->logged_too_big = true;
			log_warnx("%s: %lld bytes, too large to hash: announced without SHA-256 "
				  "(logged once)", path, (long long)before.st_size);
		}
		goto out;
	}
	if (!hash_fd(fd, digest) || fstat(fd, &after) < 0 || !same_file_state(&before, &after)) {
		log_debug("%s: changed or unreadable while hashed: no SHA-256 sent", path);
		goto out;
	}
	cache->computed++;
	if (g_hash_table_size(cache->digests) >= CACHE_MAX)
		g_hash_table_remove_all(cache->digests);
	g_hash_table_insert(cache->digests, key, g_memdup2(digest, NC_SHA256_LEN));
	key = NULL;
	ok = true;
out:
	g_free(key);
	close(fd);
	return ok;
}
