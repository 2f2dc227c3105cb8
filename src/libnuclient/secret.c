/* Locked, wiped memory for secrets (see secret.h).  Each secret has pages
 * of its own, so that unlocking one never unlocks another's page, and a
 * header before it keeps the mapping's size. */
#include "config.h"
#include "secret.h"

#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <glib.h>

struct secret_head {
	size_t map_size;
	max_align_t align;	/* what follows is aligned for any type */
};

void *nc_secret_alloc(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t need = offsetof(struct secret_head, align) + size;
	size_t map_size;
	struct secret_head *h;

	if (need < size)
		g_error("secret of %zu bytes: too big", size);
	map_size = (need + page - 1) / page * page;
	h = mmap(NULL, map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (h == MAP_FAILED)
		g_error("cannot map %zu bytes for a secret", map_size);
	/* Best effort: a low RLIMIT_MEMLOCK leaves the page swappable. */
	(void)mlock(h, map_size);
#ifdef MADV_DONTDUMP
	(void)madvise(h, map_size, MADV_DONTDUMP);
#endif
	h->map_size = map_size;
	return &h->align;	/* mmap's pages are zeroed */
}

char *nc_secret_strdup(const char *s)
{
	size_t n;
	char *copy;

	if (!s)
		return NULL;
	n = strlen(s);
	copy = nc_secret_alloc(n + 1);
	memcpy(copy, s, n);
	return copy;
}

void nc_secret_free(void *p)
{
	struct secret_head *h;
	size_t map_size;

	if (!p)
		return;
	h = (struct secret_head *)((char *)p - offsetof(struct secret_head, align));
	map_size = h->map_size;
	explicit_bzero(h, map_size);
	(void)munlock(h, map_size);
	(void)munmap(h, map_size);
}
