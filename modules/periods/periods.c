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

static void *periods_init(struct nu_conf *conf, const char *instance,
			  const char *conffile, GError **error)
{
	struct nu_conf *own = NULL;
	struct nu_period_set *set;
	const char *file;

	if (conffile) {
		if (!(own = nu_conf_load(conffile, error)))
			return NULL;
		conf = own;
	}
	file = nu_conf_get_str(conf, "periods_file", DEFAULT_PERIODS_FILE);
	set = nu_period_load(file, error);
	if (set)
		log_info("periods%s%s: %u periods from %s", instance ? ":" : "",
			 instance ? instance : "", nu_period_count(set), file);
	nu_conf_free(own);
	return set;
}

static void periods_deinit(void *priv)
{
	nu_period_set_free(priv);
}

static bool periods_check(void *priv, const char *period, time_t now, time_t *ends_at)
{
	if (!nu_period_matches(priv, period, now))
		return false;
	*ends_at = nu_period_stretch_end(priv, period, now);
	return true;
}

static bool periods_known(void *priv, const char *period)
{
	return nu_period_known(priv, period);
}

static const struct nuauth_module periods_module = {
	.api_version = NUAUTH_MODULE_API_VERSION,
	.name = "periods",
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
