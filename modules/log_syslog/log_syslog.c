/* The log_syslog module: one line in nuauth's log (syslog, or stderr in the
 * foreground) per user session event and per logged decision.
 *
 *   user_session_log   "userlog: user alice logged in from 10.201.0.2 ..."
 *                      at notice level
 *   user_packet_log    "userlog: alice: tcp ... accepted by acl web" at
 *                      info level (shown with nuauth -v)
 *
 * It has no keys; nuauth_log_users chooses which events reach it. */
#include "config.h"

#include <nuauth/module.h>

#include "log.h"

/* "100,200" (the first groups only, as much as fits). */
static void format_groups(const uint32_t *groups, size_t ngroups, char *dst, size_t cap)
{
	size_t used = 0;

	dst[0] = '\0';
	for (size_t i = 0; i < ngroups && used < cap; i++) {
		int n = g_snprintf(dst + used, cap - used, "%s%u", i ? "," : "", groups[i]);

		if (n < 0 || (size_t)n >= cap - used) {
			dst[used] = '\0';
			break;
		}
		used += (size_t)n;
	}
}

static void log_syslog_session(void *priv, const struct nuauth_session_event *ev)
{
	char groups[128];

	(void)priv;
	if (ev->kind == NUAUTH_SESSION_LOGIN) {
		format_groups(ev->groups, ev->ngroups, groups, sizeof(groups));
		log_notice("userlog: user %s logged in from %s (uid %u, groups %s)", ev->name,
			   ev->address, ev->uid, *groups ? groups : "none");
	} else {
		log_notice("userlog: user %s logged out from %s after %lld s: %s", ev->name,
			   ev->address, (long long)(ev->time - ev->login_time), ev->reason);
	}
}

static const char *verdict_text(enum nuauth_verdict verdict)
{
	switch (verdict) {
	case NUAUTH_VERDICT_ACCEPT: return "accepted";
	case NUAUTH_VERDICT_REJECT: return "rejected";
	case NUAUTH_VERDICT_DROP: return "dropped";
	default: return "decided";
	}
}

static void log_syslog_packet(void *priv, const struct nuauth_packet *packet,
			      const struct nuauth_user *user, enum nuauth_verdict verdict,
			      const char *acl_name)
{
	char flow[NU_FLOW_STRLEN];

	(void)priv;
	if (!nu_log_enabled(LOG_INFO))
		return;
	log_info("userlog: %s: %s %s %s%s%s%s", user->name,
		 nu_flow_format(&packet->flow, flow, sizeof(flow)), verdict_text(verdict),
		 acl_name && *acl_name ? "by acl " : "(no acl matched)",
		 acl_name ? acl_name : "", *packet->app ? ", app " : "", packet->app);
}

static const struct nuauth_module log_syslog_module = {
	NUAUTH_MODULE_HEADER,
	.name = "log_syslog",
	.services = NUAUTH_SVC_SESSION_LOG | NUAUTH_SVC_PACKET_LOG,
	.user_session_log = log_syslog_session,
	.user_packet_log = log_syslog_packet,
};

const struct nuauth_module *nuauth_module_info(void);

const struct nuauth_module *nuauth_module_info(void)
{
	return &log_syslog_module;
}
