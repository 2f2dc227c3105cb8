/* mark_uid: the low 16 bits of the mark become the user's uid (truncated to
 * 16 bits); the high 16 bits of the incoming mark are kept. */
#ifndef NU_MARK_UID_H
#define NU_MARK_UID_H

#include <stdint.h>

#define MARK_UID_MASK 0x0000FFFFu

/* The mark with its low 16 bits replaced by the low 16 bits of uid. */
uint32_t mark_uid_apply(uint32_t mark, uint32_t uid);

#endif
