/* A small JSON reader (see json.h). */
#include "config.h"
#include "json.h"

#include <stdlib.h>
#include <string.h>
#include <glib.h>

#define JSON_DEPTH_MAX 16

struct reader {
	const char *p;
};

static struct json *parse_value(struct reader *r, unsigned depth);

static void skip_ws(struct reader *r)
{
	while (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')
		r->p++;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* r->p at the opening quote; NULL on error. */
static char *parse_string(struct reader *r)
{
	GString *s = g_string_new(NULL);

	r->p++;
	for (;;) {
		unsigned char c = (unsigned char)*r->p++;

		if (c == '"')
			return g_string_free(s, FALSE);
		if (c < 0x20)
			break;
		if (c != '\\') {
			g_string_append_c(s, (char)c);
			continue;
		}
		c = (unsigned char)*r->p++;
		switch (c) {
		case '"': case '\\': case '/': g_string_append_c(s, (char)c); break;
		case 'b': g_string_append_c(s, '\b'); break;
		case 'f': g_string_append_c(s, '\f'); break;
		case 'n': g_string_append_c(s, '\n'); break;
		case 'r': g_string_append_c(s, '\r'); break;
		case 't': g_string_append_c(s, '\t'); break;
		case 'u': {
			gunichar u = 0;
			for (int i = 0; i < 4; i++) {
				int h = hexval(r->p[i]);
				if (h < 0)
					goto bad;
				u = u * 16 + (gunichar)h;
			}
			r->p += 4;
			/* Surrogates are not used by nuauth: shown as '?'. */
			if (u >= 0xd800 && u <= 0xdfff)
				u = '?';
			g_string_append_unichar(s, u);
			break;
		}
		default:
			goto bad;
		}
	}
bad:
	g_string_free(s, TRUE);
	return NULL;
}

static struct json *parse_container(struct reader *r, unsigned depth, bool object)
{
	struct json *v = g_new0(struct json, 1);
	GPtrArray *items = g_ptr_array_new();
	char close = object ? '}' : ']';

	v->type = object ? JSON_OBJECT : JSON_ARRAY;
	r->p++;
	skip_ws(r);
	if (*r->p == close) {
		r->p++;
		goto done;
	}
	for (;;) {
		char *key = NULL;
		struct json *item;

		skip_ws(r);
		if (object) {
			if (*r->p != '"' || !(key = parse_string(r)))
				goto bad;
			skip_ws(r);
			if (*r->p++ != ':') {
				g_free(key);
				goto bad;
			}
		}
		item = parse_value(r, depth + 1);
		if (!item) {
			g_free(key);
			goto bad;
		}
		item->key = key;
		g_ptr_array_add(items, item);
		skip_ws(r);
		if (*r->p == ',') {
			r->p++;
			continue;
		}
		if (*r->p++ == close)
			break;
		goto bad;
	}
done:
	v->count = items->len;
	v->items = (struct json **)g_ptr_array_free(items, FALSE);
	return v;
bad:
	v->count = items->len;
	v->items = (struct json **)g_ptr_array_free(items, FALSE);
	json_free(v);
	return NULL;
}

static struct json *parse_value(struct reader *r, unsigned depth)
{
	struct json *v;
	char *end;

	if (depth > JSON_DEPTH_MAX)
		return NULL;
	skip_ws(r);
	switch (*r->p) {
	case '{':
		return parse_container(r, depth, true);
	case '[':
		return parse_container(r, depth, false);
	case '"': {
		char *s = parse_string(r);
		if (!s)
			return NULL;
		v = g_new0(struct json, 1);
		v->type = JSON_STRING;
		v->s = s;
		return v;
	}
	}
	v = g_new0(struct json, 1);
	if (strncmp(r->p, "true", 4) == 0) {
		v->type = JSON_BOOL;
		v->b = true;
		r->p += 4;
	} else if (strncmp(r->p, "false", 5) == 0) {
		v->type = JSON_BOOL;
		r->p += 5;
	} else if (strncmp(r->p, "null", 4) == 0) {
		v->type = JSON_NULL;
		r->p += 4;
	} else if (*r->p == '-' || (*r->p >= '0' && *r->p <= '9')) {
		v->type = JSON_NUMBER;
		v->n = g_ascii_strtod(r->p, &end);
		if (end == r->p) {
			g_free(v);
			return NULL;
		}
		r->p = end;
	} else {
		g_free(v);
		return NULL;
	}
	return v;
}

struct json *json_parse(const char *text)
{
	struct reader r = { .p = text };
	struct json *v = parse_value(&r, 0);

	if (!v)
		return NULL;
	skip_ws(&r);
	if (*r.p) {
		json_free(v);
		return NULL;
	}
	return v;
}

void json_free(struct json *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->count; i++)
		json_free(v->items[i]);
	g_free(v->items);
	g_free(v->s);
	g_free(v->key);
	g_free(v);
}

const struct json *json_get(const struct json *obj, const char *key)
{
	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < obj->count; i++)
		if (strcmp(obj->items[i]->key, key) == 0)
			return obj->items[i];
	return NULL;
}

const char *json_text(const struct json *obj, const char *key, char *buf, size_t cap)
{
	const struct json *v = json_get(obj, key);

	if (!v)
		return "";
	switch (v->type) {
	case JSON_STRING:
		return v->s;
	case JSON_NUMBER:
		if (v->n == (double)(long long)v->n)
			g_snprintf(buf, cap, "%lld", (long long)v->n);
		else
			g_snprintf(buf, cap, "%.1f", v->n);
		return buf;
	case JSON_BOOL:
		return v->b ? "true" : "false";
	default:
		return "";
	}
}

double json_num(const struct json *obj, const char *key)
{
	const struct json *v = json_get(obj, key);

	return v && v->type == JSON_NUMBER ? v->n : 0;
}
