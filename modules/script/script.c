/* The script module (nuauth_user_session_logs_module): runs a program when
 * a user logs in and another when the user logs out, with the arguments
 * USER ADDRESS, without a shell.  nuauth does not wait for them: each runs
 * in a child process whose end is reported from the main loop.
 *
 *   script_up     run at login (default SYSCONFDIR/nufw/user-up.sh)
 *   script_down   run at logout (default SYSCONFDIR/nufw/user-down.sh)
 *
 * A script that is missing or not executable is skipped, and logged once
 * (again after it has run once).  With "script::file.conf" the keys are
 * read from file.conf. */
#include "config.h"

#include <sys/wait.h>
#include <gmodule.h>
#include <nuauth/module.h>

#include "log.h"
#include "args.h"

#define DEFAULT_SCRIPT_UP SYSCONFDIR "/nufw/user-up.sh"
#define DEFAULT_SCRIPT_DOWN SYSCONFDIR "/nufw/user-down.sh"

struct script_one {
	const char *key;		/* "script_up" */
	char *path;
	bool missing_logged;
};

struct script {
	struct script_one up, down;
};

/* A child's end is reported after a reload may have unloaded this module:
 * its code stays mapped. */
G_MODULE_EXPORT const gchar *g_module_check_init(GModule *module);

G_MODULE_EXPORT const gchar *g_module_check_init(GModule *module)
{
	g_module_make_resident(module);
	return NULL;
}

static bool script_init(void *priv, struct nu_conf *conf, const char *instance,
			const char *conffile, GError **error)
{
	struct nu_conf *own = NULL;
	struct script *s = priv;

	(void)instance;
	if (conffile) {
		if (!(own = nu_conf_load(conffile, error)))
			return false;
		conf = own;
	}
	s->up.key = "script_up";
	s->up.path = g_strdup(nu_conf_get_str(conf, "script_up", DEFAULT_SCRIPT_UP));
	s->down.key = "script_down";
	s->down.path = g_strdup(nu_conf_get_str(conf, "script_down", DEFAULT_SCRIPT_DOWN));
	nu_conf_free(own);
	return true;
}

static void script_deinit(void *priv)
{
	struct script *s = priv;

	g_free(s->up.path);
	g_free(s->down.path);
}

/* data: "script_up /path (alice)", for the log. */
static void on_child_exit(GPid pid, gint status, gpointer data)
{
	char *what = data;

	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		log_warnx("script: %s exited with status %d", what, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_warnx("script: %s killed by signal %d", what, WTERMSIG(status));
	else
		log_debug("script: %s done", what);
	g_spawn_close_pid(pid);
	g_free(what);
}

static void run(struct script_one *one, const struct nuauth_session_event *ev)
{
	char **argv = script_argv(one->path, ev->name, ev->address);
	GError *error = NULL;
	GPid pid;

	if (!argv)
		return;
	if (!g_file_test(one->path, G_FILE_TEST_IS_EXECUTABLE) ||
	    g_file_test(one->path, G_FILE_TEST_IS_DIR)) {
		if (!one->missing_logged)
			log_warnx("script: %s `%s' is missing or not executable: not run",
				  one->key, one->path);
		one->missing_logged = true;
		goto out;
	}
	if (!g_spawn_async(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid,
			   &error)) {
		log_warnx("script: cannot run %s `%s': %s", one->key, one->path, error->message);
		g_error_free(error);
		goto out;
	}
	one->missing_logged = false;
	g_child_watch_add(pid, on_child_exit,
			  g_strdup_printf("%s %s (%s)", one->key, one->path, ev->name));
out:
	g_strfreev(argv);
}

static void script_session(void *priv, const struct nuauth_session_event *ev)
{
	struct script *s = priv;

	run(ev->kind == NUAUTH_SESSION_LOGIN ? &s->up : &s->down, ev);
}

static const struct nuauth_module script_module = {
	NUAUTH_MODULE_HEADER,
	.name = "script",
	.services = NUAUTH_SVC_SESSION_LOG,
	.priv_size = sizeof(struct script),
	.init = script_init,
	.deinit = script_deinit,
	.user_session_log = script_session,
};

const struct nuauth_module *nuauth_module_info(void);

const struct nuauth_module *nuauth_module_info(void)
{
	return &script_module;
}
