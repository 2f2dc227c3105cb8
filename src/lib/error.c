/* The project's error domain (see error.h). */
#include "config.h"
#include "error.h"

G_DEFINE_QUARK(nu-error-quark, nu_error)

char *nu_error_take_message(GError *error)
{
	char *msg;

	if (!error)
		return NULL;
	msg = g_steal_pointer(&error->message);
	g_error_free(error);
	return msg;
}
