/* The bit field of the mark that a mark_* module writes: nbits bits starting
 * at bit shift (bit 0 is the least significant).  Every field satisfies
 * 1 <= nbits <= 32 and shift + nbits <= 32; markbits_check enforces this when
 * a module reads its keys, and the functions below assume it.
 *
 * Shared by mark_group, mark_field and mark_flag (compiled into each). */
#ifndef NU_MARKBITS_H
#define NU_MARKBITS_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "conf.h"

/* The nbits low bits set. */
static inline uint32_t markbits_low(unsigned nbits)
{
	return nbits >= 32 ? UINT32_MAX : ((uint32_t)1 << nbits) - 1;
}

/* The field's bits set, in place. */
static inline uint32_t markbits_mask(unsigned nbits, unsigned shift)
{
	return markbits_low(nbits) << shift;
}

/* mark with its field replaced by the low nbits bits of value; the other
 * bits of mark are kept. */
static inline uint32_t markbits_put(uint32_t mark, uint32_t value, unsigned nbits,
				    unsigned shift)
{
	uint32_t mask = markbits_mask(nbits, shift);

	return (mark & ~mask) | ((value << shift) & mask);
}

/* The nbits bits of word starting at bit shift, as a number. */
static inline uint32_t markbits_get(uint32_t word, unsigned nbits, unsigned shift)
{
	return (word >> shift) & markbits_low(nbits);
}

/* Whether value fits in nbits bits. */
static inline bool markbits_fits(uint32_t value, unsigned nbits)
{
	return (value & ~markbits_low(nbits)) == 0;
}

/* Checks a field: nbits in 1..32, shift in 0..31, shift + nbits <= 32.  False
 * with *error ("KEY=VALUE: why", naming the keys given) otherwise. */
bool markbits_check(const char *nbits_key, long nbits, const char *shift_key, long shift,
		    GError **error);

/* Reads the key as a mark value in 0..UINT32_MAX (def when absent). */
bool markbits_conf_u32(struct nu_conf *conf, const char *key, uint32_t def, uint32_t *out,
		       GError **error);

/* Reads a field's two keys (nbits in 1..32, shift in 0..31) and checks
 * them with markbits_check.  An error starts with the file:line of the
 * offending key when it was set (the shift's, when the sum is too big). */
bool markbits_conf_field(struct nu_conf *conf, const char *nbits_key, long nbits_def,
			 const char *shift_key, long shift_def, unsigned *nbits,
			 unsigned *shift, GError **error);

/* Checks that the value read from key fits the field's nbits bits; false
 * with *error ("file:line: key=value does not fit ...") otherwise. */
bool markbits_conf_fits(struct nu_conf *conf, const char *key, uint32_t value,
			const char *nbits_key, unsigned nbits, GError **error);

#endif
