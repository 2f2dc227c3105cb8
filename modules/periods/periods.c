/* The periods module: the time periods that ACLs name with period=, read
 * from a file (see period.h for its format).
 *
 *   periods_file   the file (default SYSCONFDIR/nufw/periods.conf)
 *
 * With "periods::file.conf", the key is read from file.conf instead of
 * nuauth.conf. */
#include "config.h"

#include <nuauth/module.h>

#include "log.h"
#include "period.h"

#define DEFAULT_PERIODS_FILE SYSCONFDIR "/nufw/periods.conf"

struct periods {
	struct nu_period_set *set;
};

static bool periods_init(void *priv, struct nu_conf *conf, const char *instance,
			 const char *conffile, GError **error)
{
	struct periods *p = priv;
	struct nu_conf *own = NULL;
	const char *file;

	if (conffile) {
		if (!(own = nu_conf_load(conffile, error)))
			return false;
		conf = own;
	}
	file = nu_conf_get_str(conf, "periods_file", DEFAULT_PERIODS_FILE);
	p->set = nu_period_load(file, error);
	if (p->set)
		log_info("periods%s%s: %u periods from %s", instance ? ":" : "",
			 instance ? instance : "", nu_period_count(p->set), file);
	nu_conf_free(own);
	return p->set != NULL;
}

static void periods_deinit(void *priv)
{
	struct periods *p = priv;

	nu_period_set_free(p->set);
}

static bool periods_check(void *priv, const char *period, time_t now, time_t *ends_at)
{
	const struct periods *p = priv;

	unsigned long duration;

	if (!nu_period_matches(p->set, period, now))
		return false;
	*ends_at = nu_period_stretch_end(p->set, period, now);
	/* duration=: counted from now, the connection's acceptance (nuauth
	 * asks again at a reload with the acceptance time: connections.c). */
	duration = nu_period_duration(p->set, period);
	if (duration && (*ends_at == 0 || now + (time_t)duration < *ends_at))
		*ends_at = now + (time_t)duration;
	return true;
}

static bool periods_known(void *priv, const char *period)
{
	const struct periods *p = priv;

	return nu_period_known(p->set, period);
}

static const struct nuauth_module periods_module = {
	NUAUTH_MODULE_HEADER,
	.name = "periods",
	.services = NUAUTH_SVC_PERIOD_CHECK | NUAUTH_SVC_PERIOD_KNOWN,
	.priv_size = sizeof(struct periods),
	.init = periods_init,
	.deinit = periods_deinit,
	.period_check = periods_check,
	.period_known = periods_known,
};

const struct nuauth_module *nuauth_module_info(void);

const struct nuauth_module *nuauth_module_info(void)
{
	return &periods_module;
}
