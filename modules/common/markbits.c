/* Validation of a mark field's keys (see markbits.h). */
#include "config.h"
#include "markbits.h"

#include <inttypes.h>
#include <limits.h>


bool markbits_check(const char *nbits_key, long nbits, const char *shift_key, long shift,
		    GError **error)
{
	if (nbits < 1 || nbits > 32) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "%s=%ld: the number of bits must be between 1 and 32",
			    nbits_key, nbits);
		return false;
	}
	if (shift < 0 || shift > 31) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "%s=%ld: the shift must be between 0 and 31", shift_key, shift);
		return false;
	}
	if (shift + nbits > 32) {
		g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
			    "%s=%ld with %s=%ld: the field goes past bit 31 "
			    "(shift + nbits must be at most 32)",
			    shift_key, shift, nbits_key, nbits);
		return false;
	}
	return true;
}

#if LONG_MAX > UINT32_MAX
#define MARK_LONG_MAX ((long)UINT32_MAX)
#else
#define MARK_LONG_MAX LONG_MAX
#endif

bool markbits_conf_u32(struct nu_conf *conf, const char *key, uint32_t def, uint32_t *out,
		       GError **error)
{
	long v;

	if (!nu_conf_get_int(conf, key, def, 0, MARK_LONG_MAX, &v, error))
		return false;
	*out = (uint32_t)v;
	return true;
}

bool markbits_conf_field(struct nu_conf *conf, const char *nbits_key, long nbits_def,
			 const char *shift_key, long shift_def, unsigned *nbits,
			 unsigned *shift, GError **error)
{
	long n, s;
	const char *where;

	if (!nu_conf_get_int(conf, nbits_key, nbits_def, 1, 32, &n, error) ||
	    !nu_conf_get_int(conf, shift_key, shift_def, 0, 31, &s, error))
		return false;
	if (!markbits_check(nbits_key, n, shift_key, s, error)) {
		/* Only the sum can be wrong here: blame the shift if it is set. */
		if (!(where = nu_conf_where(conf, shift_key)))
			where = nu_conf_where(conf, nbits_key);
		if (where)
			g_prefix_error(error, "%s: ", where);
		return false;
	}
	*nbits = (unsigned)n;
	*shift = (unsigned)s;
	return true;
}

bool markbits_conf_fits(struct nu_conf *conf, const char *key, uint32_t value,
			const char *nbits_key, unsigned nbits, GError **error)
{
	const char *where;

	if (markbits_fits(value, nbits))
		return true;
	g_set_error(error, NU_CONF_ERROR, NU_CONF_ERROR_VALUE,
		    "%s=0x%" PRIx32 " does not fit in the %u bits of %s",
		    key, value, nbits, nbits_key);
	if ((where = nu_conf_where(conf, key)))
		g_prefix_error(error, "%s: ", where);
	return false;
}
