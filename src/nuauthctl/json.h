/* A small JSON reader for nuauth's control replies: one document into a
 * tree of values.  Bounded depth; numbers are doubles. */
#ifndef NUCTL_JSON_H
#define NUCTL_JSON_H

#include <stdbool.h>
#include <stddef.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
	enum json_type type;
	bool b;
	double n;
	char *s;		/* JSON_STRING */
	char *key;		/* set when the value is an object's member */
	struct json **items;	/* JSON_ARRAY and JSON_OBJECT */
	size_t count;
};

/* NULL on a syntax error (or trailing text). */
struct json *json_parse(const char *text);
void json_free(struct json *v);
/* An object's member, or NULL. */
const struct json *json_get(const struct json *obj, const char *key);
/* The member as text ("" when missing; numbers and booleans formatted). */
const char *json_text(const struct json *obj, const char *key, char *buf, size_t cap);
double json_num(const struct json *obj, const char *key);

#endif
