/* Dropping privileges with plain system calls (no libcap). */
#include "config.h"
#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <glib.h>

#include "error.h"

bool nu_become_user(const char *user, GError **error)
{
	struct passwd *pw = getpwnam(user);

	if (!pw) {
		g_set_error(error, NU_ERROR, NU_ERROR_PRIVILEGE, "no such user `%s'", user);
		return false;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0) {
		g_set_error(error, NU_ERROR, NU_ERROR_PRIVILEGE, "cannot become user `%s': %s", user,
			    g_strerror(errno));
		return false;
	}
	/* A process that could become root again has dropped nothing. */
	if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		g_set_error(error, NU_ERROR, NU_ERROR_PRIVILEGE,
			    "still able to become root after switching to `%s'", user);
		return false;
	}
	return true;
}

static int capget_raw(struct __user_cap_data_struct data[2])
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };

	return (int)syscall(SYS_capget, &hdr, data);
}

uint64_t nu_effective_capabilities(void)
{
	struct __user_cap_data_struct data[2];

	if (capget_raw(data) < 0)
		return 0;
	return (uint64_t)data[1].effective << 32 | data[0].effective;
}

bool nu_keep_only_capabilities(uint64_t keep, GError **error)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];
	int last = CAP_LAST_CAP;

	for (int cap = 0; cap <= last; cap++) {
		/* Only what is still in the bounding set needs dropping (and
		 * dropping needs CAP_SETPCAP, which a unit may not grant). */
		if ((keep & (UINT64_C(1) << cap)) || prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 1)
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) {
			g_set_error(error, NU_ERROR, NU_ERROR_PRIVILEGE, "cannot drop capability %d: %s",
				    cap, g_strerror(errno));
			return false;
		}
	}
	if (capget_raw(data) < 0) {
		g_set_error(error, NU_ERROR, NU_ERROR_PRIVILEGE, "capget: %s", g_strerror(errno));
		return false;
	}
	for (int i = 0; i < 2; i++) {
		uint32_t k = (uint32_t)(keep >> (32 * i));
		data[i].effective &= k;
		data[i].permitted &= k;
		data[i].inheritable = 0;
	}
	if (syscall(SYS_capset, &hdr, data) < 0) {
		g_set_error(error, NU_ERROR, NU_ERROR_PRIVILEGE, "capset: %s", g_strerror(errno));
		return false;
	}
	return true;
}

bool nu_check_secret_file(const char *path, GError **error)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		g_set_error(error, NU_ERROR, NU_ERROR_IO, "%s: %s", path, g_strerror(errno));
		return false;
	}
	if (st.st_mode & (S_IROTH | S_IWOTH)) {
		g_set_error(error, NU_ERROR, NU_ERROR_PRIVILEGE,
			    "%s: holds secrets but other users can %s it (mode %04o): chmod o-rw %s",
			    path, (st.st_mode & S_IROTH) ? "read" : "write",
			    (unsigned)(st.st_mode & 07777), path);
		return false;
	}
	return true;
}
