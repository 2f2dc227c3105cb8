/* The plaintext module's user database, users.nufw:
 *
 *   # name:password:uid:gid[,gid...]
 *   alice:secret:1001:100
 *   bob:{SSHA}base64(sha1(password + salt) + salt):1002:100,200
 *
 * Passwords are in clear or {SHA}, {SSHA}, {MD5}, {SMD5} followed by base64
 * (the salted forms hold the digest followed by the salt), or a crypt(3)
 * hash: a password starting with `$' ($6$ sha512-crypt, $y$ yescrypt, $5$,
 * $2b$... whatever this system's libcrypt supports, checked at load).  A password of
 * `*', or one starting with `!', disables the account.  uid and gids are
 * unsigned 32-bit decimal numbers.
 *
 * A SCRAM-SHA-256 verifier (src/lib/scram.h) lets the user log in with
 * SASL SCRAM-SHA-256.  It follows the password after one space, or stands
 * alone (PLAIN logins are then checked against it):
 *
 *   carol:$y$j9T$...$... {SCRAM-SHA-256}4096:SALT$STOREDKEY:SERVERKEY:1003:100
 *   dave:{SCRAM-SHA-256}4096:SALT$STOREDKEY:SERVERKEY:1004:100
 *
 * A user with a clear-text password gets a verifier computed at load. */
#ifndef NU_PLAINTEXT_USERS_H
#define NU_PLAINTEXT_USERS_H

#include <stddef.h>
#include <stdint.h>
#include <glib.h>
#include <nuauth/module.h>

struct nu_userdb;

/* Reads path.  NULL with *error set (NU_CONF_ERROR; "file:line: why", or
 * "file: strerror") on any error: one bad line fails the whole file. */
struct nu_userdb *nu_userdb_load(const char *path, GError **error);
void nu_userdb_free(struct nu_userdb *db);
/* How many users db holds. */
unsigned nu_userdb_count(const struct nu_userdb *db);

/* Checks the password (password_len bytes) of user.  On NUAUTH_USER_OK,
 * fills *uid and appends the user's groups (guint32) to groups (may be NULL).
 * Otherwise NUAUTH_USER_UNKNOWN, _BAD_PASSWORD, _DISABLED, or _ERROR when
 * the digest could not be computed. */
enum nuauth_user_status nu_userdb_check(const struct nu_userdb *db, const char *user,
					const char *password, size_t password_len,
					uint32_t *uid, GArray *groups);

/* The uid and groups of user, without a password (for a user found by IP
 * authentication, whose password may well be `*'): NUAUTH_USER_OK or
 * NUAUTH_USER_UNKNOWN. */
enum nuauth_user_status nu_userdb_lookup(const struct nu_userdb *db, const char *user,
					 uint32_t *uid, GArray *groups);

/* The SCRAM-SHA-256 verifier of user in its text form (owned by db), with
 * its uid and groups (appended, may be NULL): NUAUTH_USER_OK with
 * *verifier NULL when the user has none, NUAUTH_USER_UNKNOWN, or
 * NUAUTH_USER_DISABLED. */
enum nuauth_user_status nu_userdb_scram(const struct nu_userdb *db, const char *user,
					const char **verifier, uint32_t *uid, GArray *groups);

#endif
