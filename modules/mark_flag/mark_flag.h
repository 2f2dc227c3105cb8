/* mark_flag: copies a bit field of the deciding ACL's flags into the mark.
 *
 *   mark_flag_nbits       bits copied (16)
 *   mark_flag_flag_shift  lowest bit taken from the flags (0)
 *   mark_flag_mark_shift  lowest bit written in the mark (0)
 *
 * Both fields must lie within 32 bits.  Without a deciding ACL the flags
 * count as 0.  Example: mark 0xAABBCCDD, flags 0x12345678, nbits 16,
 * flag_shift 8, mark_shift 0 gives 0xAABB3456. */
#ifndef NU_MARK_FLAG_H
#define NU_MARK_FLAG_H

#include <stdint.h>

struct mark_flag {
	unsigned nbits, flag_shift, mark_shift;
};

/* mark with nbits bits at mark_shift replaced by those of flags at
 * flag_shift. */
uint32_t mark_flag_mark(const struct mark_flag *mf, uint32_t mark, uint32_t flags);

#endif
