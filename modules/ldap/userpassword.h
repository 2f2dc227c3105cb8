/* Checking a password against a userPassword value read from the
 * directory (ldap_password_check=compare):
 *   {SSHA} {SHA} {SSHA256} {SHA256} {SSHA512} {SHA512} {SMD5} {MD5}
 *                  base64 of the digest, followed by the salt when salted
 *   {CRYPT}        a crypt(3) hash this system's libcrypt supports
 *   no {scheme}    the password in clear
 * Scheme names are case-insensitive. */
#ifndef NU_LDAP_USERPASSWORD_H
#define NU_LDAP_USERPASSWORD_H

#include <stddef.h>

enum nu_ldap_pw_result {
	NU_LDAP_PW_MATCH,
	NU_LDAP_PW_MISMATCH,
	NU_LDAP_PW_UNSUPPORTED,		/* unknown scheme, or a malformed value */
};

/* stored: the value (len bytes, not NUL-terminated); password: pwlen bytes. */
enum nu_ldap_pw_result nu_ldap_userpassword_check(const char *stored, size_t len,
						  const char *password, size_t pwlen);

#endif
