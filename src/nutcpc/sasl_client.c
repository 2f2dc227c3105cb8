/* The client's side of the SASL conversation (Cyrus SASL). */
#include "config.h"
#include "nutcpc.h"

#include <string.h>
#include <glib.h>
#include <sasl/sasl.h>

#include "tls.h"

#define NU_SASL_SERVICE "nufw"
#define STEP_TIMEOUT_MS 10000

struct sasl_secrets {
	const struct nutcpc_options *opt;
	sasl_secret_t *secret;
};

static int get_user(void *ctx, int id, const char **result, unsigned *len)
{
	struct sasl_secrets *s = ctx;

	if (id != SASL_CB_USER && id != SASL_CB_AUTHNAME)
		return SASL_BADPARAM;
	*result = s->opt->user;
	if (len)
		*len = (unsigned)strlen(*result);
	return SASL_OK;
}

static int get_pass(sasl_conn_t *conn, void *ctx, int id, sasl_secret_t **out)
{
	struct sasl_secrets *s = ctx;

	*out = s->secret;
	return SASL_OK;
}

static enum nutcpc_login_result send_auth(const struct nutcpc_link *link, bool start,
					  const char *mech, const char *data, unsigned len,
					  bool has_data, char **err)
{
	uint8_t buf[NU_MSG_MAX_LEN];
	size_t n;
	enum nu_proto_status st = start
		? nu_auth_start_encode(buf, sizeof(buf), mech, (const uint8_t *)data, len, has_data, &n)
		: nu_auth_step_encode(buf, sizeof(buf), (const uint8_t *)data, len, &n);

	if (st != NU_PROTO_OK || !nutcpc_send_msg(link, buf, n, STEP_TIMEOUT_MS)) {
		*err = g_strdup("cannot send the login to nuauth");
		return NUTCPC_LOGIN_UNREACHABLE;
	}
	return NUTCPC_LOGIN_OK;
}

enum nutcpc_login_result nutcpc_sasl_login(const struct nutcpc_link *link,
					   const struct nutcpc_options *opt,
					   const char *mech_list, char **err)
{
	size_t pwlen = strlen(opt->password);
	struct sasl_secrets secrets = { .opt = opt };
	sasl_callback_t callbacks[] = {
		{ SASL_CB_USER, (int (*)(void))(void (*)(void))get_user, &secrets },
		{ SASL_CB_AUTHNAME, (int (*)(void))(void (*)(void))get_user, &secrets },
		{ SASL_CB_PASS, (int (*)(void))(void (*)(void))get_pass, &secrets },
		{ SASL_CB_LIST_END, NULL, NULL },
	};
	sasl_security_properties_t secprops = { .maxbufsize = NU_SASL_DATA_MAX };
	enum nutcpc_login_result r = NUTCPC_LOGIN_UNREACHABLE;
	sasl_conn_t *conn = NULL;
	sasl_ssf_t ssf = nu_tls_ssf(link->tls);
	const char *out = NULL, *mech = NULL;
	unsigned out_len = 0;
	uint8_t buf[NU_MSG_MAX_LEN];
	struct nu_msg_header hdr;
	int ret;

	secrets.secret = g_malloc0(sizeof(sasl_secret_t) + pwlen + 1);
	secrets.secret->len = pwlen;
	memcpy(secrets.secret->data, opt->password, pwlen);

	ret = sasl_client_init(NULL);
	if (ret == SASL_OK)
		ret = sasl_client_new(NU_SASL_SERVICE, opt->host, NULL, NULL, callbacks, 0, &conn);
	if (ret != SASL_OK) {
		*err = g_strdup_printf("cannot start SASL: %s", sasl_errstring(ret, NULL, NULL));
		goto out;
	}
	sasl_setprop(conn, SASL_SEC_PROPS, &secprops);
	sasl_setprop(conn, SASL_SSF_EXTERNAL, &ssf);
	ret = sasl_client_start(conn, mech_list, NULL, &out, &out_len, &mech);
	if (ret != SASL_OK && ret != SASL_CONTINUE) {
		*err = g_strdup_printf("no usable login method among those nuauth offers (%s): %s",
				       mech_list, sasl_errdetail(conn));
		goto out;
	}
	r = send_auth(link, true, mech, out, out_len, out != NULL, err);
	while (r == NUTCPC_LOGIN_OK) {
		r = NUTCPC_LOGIN_UNREACHABLE;
		if (!nutcpc_recv_msg(link, buf, sizeof(buf), &hdr, STEP_TIMEOUT_MS)) {
			*err = g_strdup("nuauth did not answer the login");
			break;
		}
		if (hdr.type == NU_MSG_AUTH_RESULT) {
			struct nu_auth_result res;
			if (nu_auth_result_decode(buf, hdr.length, &res) != NU_PROTO_OK) {
				*err = g_strdup("malformed answer from nuauth");
				break;
			}
			if (res.result == NU_AUTH_OK)
				r = NUTCPC_LOGIN_OK;
			else {
				*err = g_strdup_printf("login refused: %s", res.text);
				r = NUTCPC_LOGIN_REFUSED;
			}
			break;
		}
		struct nu_auth step;
		if (hdr.type != NU_MSG_AUTH_STEP ||
		    nu_auth_decode(buf, hdr.length, &step) != NU_PROTO_OK) {
			*err = g_strdup_printf("unexpected %s message during login",
					       nu_msg_type_name(hdr.type));
			break;
		}
		ret = sasl_client_step(conn, (const char *)step.data, (unsigned)step.data_len,
				       NULL, &out, &out_len);
		if (ret != SASL_OK && ret != SASL_CONTINUE) {
			*err = g_strdup_printf("login failed: %s", sasl_errdetail(conn));
			break;
		}
		r = send_auth(link, false, NULL, out, out_len, true, err);
	}
out:
	if (conn)
		sasl_dispose(&conn);
	memset(secrets.secret->data, 0, pwlen);
	g_free(secrets.secret);
	return r;
}
