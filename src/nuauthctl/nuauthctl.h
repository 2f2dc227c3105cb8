/* nuauthctl: the administrator's tool.  Each subcommand is one entry of the
 * table in nuauthctl.c and lives in a file of its own. */
#ifndef NUAUTHCTL_H
#define NUAUTHCTL_H

#include <stdio.h>

/* Exit statuses of every subcommand. */
enum {
	NUCTL_OK = 0,
	NUCTL_FAILED = 1,	/* the command could not be carried out */
	NUCTL_USAGE = 2,	/* bad command line */
};

struct nuctl_command {
	const char *name;
	/* argv[0] is the subcommand's name; returns an exit status. */
	int (*run)(int argc, char **argv);
	/* Prints the subcommand's usage lines. */
	void (*usage)(FILE *out);
	const char *summary;
};

/* Prints "nuauthctl: " and the message to stderr. */
void nuctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* pki.c; its usage: pki_opts.c */
int nuctl_pki_main(int argc, char **argv);
void nuctl_pki_usage(FILE *out);

/* hash.c */
int nuctl_hash_main(int argc, char **argv);
void nuctl_hash_usage(FILE *out);
/* A password read as nuauthctl hash reads it, and its users-file field as
 * nuauthctl hash --scram prints it (g_free'd); NULL with a message. */
char *nuctl_hash_read_field(void);

/* user.c */
int nuctl_user_main(int argc, char **argv);
void nuctl_user_usage(FILE *out);

/* control.c: the commands that talk to nuauth's control socket; argv[0]
 * names the command. */
int nuctl_control_main(int argc, char **argv);
void nuctl_control_usage(FILE *out);

#endif
