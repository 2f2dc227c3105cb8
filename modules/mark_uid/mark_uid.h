/* mark_uid: the user's uid, from nuauth's user store, is written into a bit
 * field of the mark; the other bits of the incoming mark are kept.
 *
 *   mark_uid_nbits    width of the field (16)
 *   mark_uid_shift    its lowest bit (0)
 *   mark_uid_max_uid  the largest uid the user store holds; optional.  When
 *                     set, nuauth refuses to start (file:line) if it does
 *                     not fit in the field.
 *
 * A uid is never truncated: a user whose uid does not fit in the field,
 * and a user whose uid is 0 (the field would read as "no user"), are
 * refused at decision time: the connection is dropped with a log line
 * naming the user and the uid.  README.mark, "Composing the mark". */
#ifndef NU_MARK_UID_H
#define NU_MARK_UID_H

#include <stdint.h>

struct mark_uid {
	unsigned nbits, shift;
};

enum mark_uid_status {
	MARK_UID_OK,
	MARK_UID_TOO_BIG,	/* the uid does not fit in the field */
	MARK_UID_ZERO,		/* uid 0: the field would be 0, no user's mark */
};

/* *out: mark with the field replaced by uid; the other bits are kept.
 * MARK_UID_TOO_BIG or MARK_UID_ZERO (and *out untouched) when the uid
 * cannot be told apart in the field. */
enum mark_uid_status mark_uid_put(const struct mark_uid *mu, uint32_t mark, uint32_t uid,
				  uint32_t *out);

#endif
