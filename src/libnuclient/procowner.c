/* The process that owns a socket, and its program: the user's processes'
 * /proc/PID/fd links are searched for "socket:[INODE]" (the processes that
 * owned the last sockets first), and the owner's /proc/PID/exe read. */
#include "config.h"
#include "conntable.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

/* "socket:[" + 20 digits + "]" */
#define SOCKET_LINK_MAX	32

static bool is_pid(const char *name)
{
	if (*name == '\0')
		return false;
	for (; *name != '\0'; name++)
		if (!isdigit((unsigned char)*name))
			return false;
	return true;
}

/* True when one of /proc/PID/fd/ is the socket link "socket:[inode]". */
static bool process_has_socket(int procfd, const char *pid, const char *want)
{
	char fdpath[64];
	DIR *dir;
	struct dirent *de;
	bool found = false;
	int fd;

	if ((size_t)snprintf(fdpath, sizeof(fdpath), "%s/fd", pid) >= sizeof(fdpath))
		return false;
	fd = openat(procfd, fdpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return false;
	dir = fdopendir(fd);
	if (dir == NULL) {
		close(fd);
		return false;
	}
	while (!found && (de = readdir(dir)) != NULL) {
		char link[SOCKET_LINK_MAX + 1];
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		n = readlinkat(dirfd(dir), de->d_name, link, sizeof(link) - 1);
		if (n <= 0 || (size_t)n >= sizeof(link) - 1)
			continue;	/* error, or too long to be a socket */
		link[n] = '\0';
		found = strcmp(link, want) == 0;
	}
	closedir(dir);
	return found;
}

/* The program of process pid (a name in /proc) when it is uid's and holds
 * the socket want. */
static bool program_of(int procfd, const char *pid, uid_t uid, const char *want,
		       char *path, size_t cap)
{
	struct stat st;
	char exe[PATH_MAX + 1];
	char exepath[64];
	ssize_t n;

	if (fstatat(procfd, pid, &st, 0) < 0 || st.st_uid != uid)
		return false;
	if (!process_has_socket(procfd, pid, want))
		return false;
	if ((size_t)snprintf(exepath, sizeof(exepath), "%s/exe", pid) >= sizeof(exepath))
		return false;
	n = readlinkat(procfd, exepath, exe, sizeof(exe) - 1);
	if (n <= 0 || (size_t)n >= sizeof(exe) - 1 || (size_t)n >= cap)
		return false;	/* gone, unreadable, or does not fit */
	memcpy(path, exe, (size_t)n);
	path[n] = '\0';
	return true;
}

/* The processes that owned the last sockets looked up: a program that opens
 * one connection usually opens the next, so they are searched first and
 * the walk over every process is mostly avoided. */
#define RECENT_PIDS 8
static char recent_pids[RECENT_PIDS][16];
static unsigned recent_next;

static void remember_pid(const char *pid)
{
	for (unsigned i = 0; i < RECENT_PIDS; i++)
		if (strcmp(recent_pids[i], pid) == 0)
			return;
	g_strlcpy(recent_pids[recent_next], pid, sizeof(recent_pids[0]));
	recent_next = (recent_next + 1) % RECENT_PIDS;
}

bool nu_conntable_find_program(uid_t uid, uint64_t inode, char *path, size_t cap)
{
	return nu_conntable_find_process(uid, inode, NULL, path, cap);
}

bool nu_conntable_find_process(uid_t uid, uint64_t inode, pid_t *pid, char *path, size_t cap)
{
	char want[SOCKET_LINK_MAX + 1];
	const char *owner = NULL;
	DIR *proc;
	struct dirent *de;
	bool found = false;

	if (path == NULL || cap == 0 || inode == 0)
		return false;
	snprintf(want, sizeof(want), "socket:[%" PRIu64 "]", inode);

	proc = opendir("/proc");
	if (proc == NULL)
		return false;
	for (unsigned i = 0; i < RECENT_PIDS && !found; i++)
		if (recent_pids[i][0] != '\0' &&
		    program_of(dirfd(proc), recent_pids[i], uid, want, path, cap)) {
			found = true;
			owner = recent_pids[i];
		}
	while (!found && (de = readdir(proc)) != NULL) {
		if (!is_pid(de->d_name))
			continue;
		if (program_of(dirfd(proc), de->d_name, uid, want, path, cap)) {
			remember_pid(de->d_name);
			found = true;
			owner = de->d_name;
		}
	}
	if (found && pid)
		*pid = (pid_t)strtol(owner, NULL, 10);
	closedir(proc);
	return found;
}
