/* The wire protocol spoken between nufw, nuauth and the clients (see
 * doc/protocol.md).  A message is an 8-byte header followed by attributes:
 *
 *   0      1      2             4                            8
 *   +------+------+-------------+----------------------------+
 *   | ver  | type | length (BE) | id (BE)                    |
 *   +------+------+-------------+----------------------------+
 *   | attr type (BE, 16) | attr length (BE, 16) | value ...  |  (repeated)
 *
 * length counts the whole message, header included.  An attribute's length
 * counts its value only; values are not padded.  Integers are big-endian.
 * Decoders take a buffer and its length and never read past it; encoders take
 * a capacity and refuse to write past it. */
#ifndef NU_PROTO_H
#define NU_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "flow.h"

#define NU_PROTO_VERSION	1	/* the only version this build speaks */
#define NU_MSG_HEADER_LEN	8
#define NU_MSG_MAX_LEN		16384	/* larger messages are refused */
#define NU_ATTR_HEADER_LEN	4

enum nu_msg_type {
	NU_MSG_HELLO		= 1,	/* both ways, first message on a link */
	NU_MSG_ERROR		= 2,	/* both ways: TEXT, then the sender closes */
	NU_MSG_KEEPALIVE	= 3,	/* peer -> nuauth, echoed back with its id */
	NU_MSG_PACKET_ASK	= 16,	/* nufw -> nuauth: id = packet id */
	NU_MSG_DECISION		= 17,	/* nuauth -> nufw: id = packet id */
	NU_MSG_CONN_END		= 18,	/* nufw -> nuauth: a connection ended (-C) */
	NU_MSG_CONN_DESTROY	= 19,	/* nuauth -> nufw: end this connection */
	NU_MSG_CONN_EXPIRES	= 20,	/* nuauth -> nufw: its end time moved */
	NU_MSG_SESSION_END	= 21,	/* nuauth -> nufw: end a session's connections */
	NU_MSG_GW_STATS		= 24,	/* nufw -> nuauth: a queue's counters */
	NU_MSG_AUTH_START	= 32,	/* client -> nuauth: MECH, optional SASL_DATA */
	NU_MSG_AUTH_STEP	= 33,	/* both ways during SASL: SASL_DATA */
	NU_MSG_AUTH_RESULT	= 34,	/* nuauth -> client: RESULT, TEXT, USER */
	NU_MSG_CLIENT_INFO	= 35,	/* client -> nuauth: OS_* */
	NU_MSG_LOGOUT		= 36,	/* client -> nuauth: the user logs out */
	NU_MSG_ANNOUNCE		= 48,	/* client -> nuauth: CONN... */
	NU_MSG_PUSH		= 49,	/* nuauth -> client: optional FLOW */
	NU_MSG_NOTICE		= 50,	/* nuauth -> client: FLOW, VERDICT, APP, TEXT */
	NU_MSG_NEEDS		= 51,	/* nuauth -> client: NEEDS (what to announce) */
};

enum nu_attr_type {
	NU_ATTR_VERSION_MIN	= 1,	/* u8 */
	NU_ATTR_VERSION_MAX	= 2,	/* u8 */
	NU_ATTR_ROLE		= 3,	/* u8, enum nu_role */
	NU_ATTR_SOFTWARE	= 4,	/* string */
	NU_ATTR_TEXT		= 5,	/* string */
	NU_ATTR_FLOW		= 6,	/* flow, see nu_msg_put_flow */
	NU_ATTR_MARK		= 7,	/* u32 */
	NU_ATTR_VERDICT		= 8,	/* u8, enum nu_verdict */
	NU_ATTR_INDEV		= 9,	/* string, interface name */
	NU_ATTR_OUTDEV		= 10,	/* string */
	NU_ATTR_MECH		= 11,	/* string, one SASL mechanism */
	NU_ATTR_MECH_LIST	= 12,	/* string, space separated */
	NU_ATTR_SASL_DATA	= 13,	/* bytes, may be empty */
	NU_ATTR_RESULT		= 14,	/* u8, enum nu_auth_code */
	NU_ATTR_USER		= 15,	/* string */
	NU_ATTR_CONN		= 16,	/* nested: FLOW, optional APP and APP_SHA256 */
	NU_ATTR_APP		= 17,	/* string, full path of the program */
	NU_ATTR_OS_SYSNAME	= 18,	/* string */
	NU_ATTR_OS_RELEASE	= 19,	/* string */
	NU_ATTR_OS_VERSION	= 20,	/* string */
	NU_ATTR_ICMP_TYPE	= 21,	/* u8 */
	NU_ATTR_PACKETS_OUT	= 22,	/* u64: client to server */
	NU_ATTR_BYTES_OUT	= 23,	/* u64 */
	NU_ATTR_PACKETS_IN	= 24,	/* u64: server to client */
	NU_ATTR_BYTES_IN	= 25,	/* u64 */
	NU_ATTR_PHYSINDEV	= 26,	/* string, bridge port the packet came in by */
	NU_ATTR_PHYSOUTDEV	= 27,	/* string, bridge port it goes out by */
	NU_ATTR_NEEDS		= 28,	/* u32, NU_NEEDS_* bits */
	NU_ATTR_APP_SHA256	= 29,	/* 32 bytes: SHA-256 of the program's file */
	NU_ATTR_EXPIRES		= 31,	/* u32: seconds until the connection must end */
	NU_ATTR_NOT_OWNER	= 32,	/* u8, 1: in DECISION, a cluster's node that
					 * holds no client owning the packet */
	NU_ATTR_SRC_MAC		= 33,	/* 6 bytes: the packet's source MAC address */
	NU_ATTR_RESUME		= 34,	/* 16 bytes: a client session's resume token */
	NU_ATTR_SESSION		= 35,	/* u64: a client session's tag (DECISION,
					 * SESSION_END), never 0 */
	NU_ATTR_NOT_MINE	= 40,	/* flow: in ANNOUNCE, a pushed flow that is
					 * none of the user's sockets */
	NU_ATTR_QUEUE		= 50,	/* u32: NFQUEUE number (GW_STATS) */
	NU_ATTR_STAT_ASKED	= 51,	/* u64: packets asked about */
	NU_ATTR_STAT_ACCEPTED	= 52,	/* u64: packets accepted */
	NU_ATTR_STAT_DROPPED	= 53,	/* u64: packets dropped (rejected included) */
	NU_ATTR_STAT_REJECTED	= 54,	/* u64: of which answered with RST/ICMP */
	NU_ATTR_STAT_TIMEOUTS	= 55,	/* u64: undecided in time (failure policy) */
	NU_ATTR_STAT_OVERRUNS	= 56,	/* u64: nufw's receive buffer overruns */
	NU_ATTR_STAT_KERNEL_QUEUE_FULL = 57,	/* u64: the kernel's queue_dropped */
	NU_ATTR_STAT_KERNEL_FAILED = 58,	/* u64: the kernel's user_dropped */
	/* Attribute types stay below 64: decoders keep a bitmask of those seen. */
};

enum nu_role { NU_ROLE_GATEWAY = 1, NU_ROLE_CLIENT = 2, NU_ROLE_SERVER = 3 };
/* Verdict values follow acls.nufw's decision= numbers. */
enum nu_verdict { NU_VERDICT_DROP = 0, NU_VERDICT_ACCEPT = 1, NU_VERDICT_REJECT = 3 };
/* NU_AUTH_OTHER_MECH: this mechanism cannot work for this user (SCRAM
 * without a stored verifier); the client may log in again on a new link
 * with another mechanism.  Not counted as a failed login. */
enum nu_auth_code { NU_AUTH_OK = 0, NU_AUTH_FAILED = 1, NU_AUTH_ERROR = 2,
		    NU_AUTH_OTHER_MECH = 3 };

enum nu_proto_status {
	NU_PROTO_OK = 0,
	NU_PROTO_TRUNCATED,	/* fewer bytes than the message needs: read more */
	NU_PROTO_BAD_VERSION,	/* header version is not NU_PROTO_VERSION */
	NU_PROTO_BAD_LEN,	/* a length field is impossible or too large */
	NU_PROTO_BAD_ATTR,	/* an attribute is malformed or of the wrong size */
	NU_PROTO_MISSING_ATTR,	/* a mandatory attribute is absent */
	NU_PROTO_NO_SPACE,	/* the encoder ran out of buffer */
};
const char *nu_proto_strerror(enum nu_proto_status status);
const char *nu_msg_type_name(uint8_t type);
/* Whether this version knows the type: a peer ignores a well-framed
 * message of a type it does not know, once the link is up, so that a newer
 * peer may send new kinds of message (GW_STATS was one). */
bool nu_msg_type_known(uint8_t type);

struct nu_msg_header {
	uint8_t version;
	uint8_t type;
	uint16_t length;	/* whole message, header included */
	uint32_t id;
};

/* Framing: reads the header at buf.  NU_PROTO_TRUNCATED when len < 8;
 * NU_PROTO_BAD_VERSION, or NU_PROTO_BAD_LEN when the length field is below
 * the header size or above NU_MSG_MAX_LEN.  Does not need the whole body. */
enum nu_proto_status nu_msg_peek_header(const uint8_t *buf, size_t len,
					struct nu_msg_header *hdr);

/* ---- Encoding --------------------------------------------------------- */

struct nu_msg_writer {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool overflow;		/* set once any put did not fit; sticky */
};

void nu_msg_begin(struct nu_msg_writer *w, uint8_t *buf, size_t cap,
		  uint8_t type, uint32_t id);
void nu_msg_put_u8(struct nu_msg_writer *w, uint16_t attr, uint8_t v);
void nu_msg_put_u32(struct nu_msg_writer *w, uint16_t attr, uint32_t v);
void nu_msg_put_u64(struct nu_msg_writer *w, uint16_t attr, uint64_t v);
void nu_msg_put_bytes(struct nu_msg_writer *w, uint16_t attr,
		      const void *data, size_t len);
void nu_msg_put_str(struct nu_msg_writer *w, uint16_t attr, const char *s);
/* FLOW value: family u8 (4 or 6), proto u8, sport u16, dport u16, then the
 * source and destination address (4 bytes each for 4, 16 for 6). */
void nu_msg_put_flow(struct nu_msg_writer *w, uint16_t attr,
		     const struct nu_flow *flow);
/* Nested attribute: returns a mark to give to nu_msg_nest_end. */
size_t nu_msg_nest_start(struct nu_msg_writer *w, uint16_t attr);
void nu_msg_nest_end(struct nu_msg_writer *w, size_t mark);
/* Writes the length into the header.  NU_PROTO_NO_SPACE if anything did not
 * fit (or the message would exceed NU_MSG_MAX_LEN); else *out_len = length. */
enum nu_proto_status nu_msg_finish(struct nu_msg_writer *w, size_t *out_len);

/* ---- Decoding ---------------------------------------------------------- */

struct nu_attr {
	uint16_t type;
	uint16_t len;
	const uint8_t *value;
};

struct nu_attr_iter {
	const uint8_t *pos;
	const uint8_t *end;
};

/* Iterates over the attributes in [data, data + len). */
void nu_attr_iter_init(struct nu_attr_iter *it, const uint8_t *data, size_t len);
/* 1: *attr holds the next attribute; 0: clean end; -1: malformed (an
 * attribute header or value runs past the end). */
int nu_attr_next(struct nu_attr_iter *it, struct nu_attr *attr);

/* Typed getters: false when the value has the wrong size or content. */
bool nu_attr_get_u8(const struct nu_attr *a, uint8_t *v);
bool nu_attr_get_u32(const struct nu_attr *a, uint32_t *v);
bool nu_attr_get_u64(const struct nu_attr *a, uint64_t *v);
bool nu_attr_get_flow(const struct nu_attr *a, struct nu_flow *flow);
/* Copies a string value into dst (NUL-terminated).  False when the value
 * holds a NUL byte or does not fit in cap - 1 bytes. */
bool nu_attr_get_str(const struct nu_attr *a, char *dst, size_t cap);

/* ---- Typed messages ---------------------------------------------------- *
 * Each decoder takes the whole message (header included) as framed by
 * nu_msg_peek_header, checks that the type matches, skips unknown
 * attributes, and fails with NU_PROTO_BAD_ATTR / NU_PROTO_MISSING_ATTR.
 * Framing: len below the header's length is NU_PROTO_TRUNCATED, above it
 * NU_PROTO_BAD_LEN; a header type other than the decoder's is
 * NU_PROTO_BAD_ATTR.  A known attribute given twice, or an enum value out of
 * range (ROLE, VERDICT, RESULT), is NU_PROTO_BAD_ATTR too.
 * Each encoder writes the whole message; NU_PROTO_NO_SPACE when cap is too
 * small, NU_PROTO_BAD_ATTR when a field cannot be sent (unterminated string,
 * flow family other than AF_INET/AF_INET6, over-long MECH or SASL data). */

#define NU_NAME_MAX	64
#define NU_TEXT_MAX	256
#define NU_APP_MAX	1024
#define NU_MECH_LIST_MAX 512
#define NU_SASL_DATA_MAX 8192

struct nu_hello {
	uint8_t version_min;
	uint8_t version_max;
	uint8_t role;				/* enum nu_role */
	char software[NU_NAME_MAX];		/* optional, "" if absent */
	char mech_list[NU_MECH_LIST_MAX];	/* optional, server to client */
};
enum nu_proto_status nu_hello_encode(uint8_t *buf, size_t cap, const struct nu_hello *m, size_t *out_len);
enum nu_proto_status nu_hello_decode(const uint8_t *msg, size_t len, struct nu_hello *m);

/* ERROR: TEXT (mandatory). */
enum nu_proto_status nu_error_encode(uint8_t *buf, size_t cap, const char *text, size_t *out_len);
enum nu_proto_status nu_error_decode(const uint8_t *msg, size_t len, char *text, size_t cap);

/* KEEPALIVE: no attributes; the id is echoed. */
enum nu_proto_status nu_keepalive_encode(uint8_t *buf, size_t cap, uint32_t id, size_t *out_len);
/* LOGOUT: no attributes.  The user's session ends and nuauth has the
 * gateways end its connections; a link that merely drops keeps them. */
enum nu_proto_status nu_logout_encode(uint8_t *buf, size_t cap, size_t *out_len);

struct nu_packet_ask {
	uint32_t packet_id;	/* the message id */
	struct nu_flow flow;	/* FLOW, mandatory */
	uint32_t mark;		/* MARK, the packet's mark; 0 if absent */
	uint8_t icmp_type;	/* ICMP_TYPE, optional */
	char indev[16];		/* INDEV, optional */
	char outdev[16];	/* OUTDEV, optional */
	char physindev[16];	/* PHYSINDEV, optional: bridged packets only */
	char physoutdev[16];	/* PHYSOUTDEV, optional */
	bool has_src_mac;
	uint8_t src_mac[6];	/* SRC_MAC, optional: when the gateway sees it */
};
enum nu_proto_status nu_packet_ask_encode(uint8_t *buf, size_t cap, const struct nu_packet_ask *m, size_t *out_len);
enum nu_proto_status nu_packet_ask_decode(const uint8_t *msg, size_t len, struct nu_packet_ask *m);

struct nu_decision {
	uint32_t packet_id;	/* the message id */
	uint8_t verdict;	/* VERDICT, mandatory, enum nu_verdict */
	bool has_mark;
	uint32_t mark;		/* MARK, optional: the packet's new mark */
	bool has_expires;
	uint32_t expires_in;	/* EXPIRES, optional: seconds until the
				 * accepted connection must end */
	uint8_t not_owner;	/* NOT_OWNER, sent when 1: the verdict is the
				 * node's for a packet no node owns (cluster) */
	uint64_t session;	/* SESSION, sent when not 0: the tag of the
				 * client session the accepted connection is
				 * the user's by (nufw ends it on SESSION_END) */
};
enum nu_proto_status nu_decision_encode(uint8_t *buf, size_t cap, const struct nu_decision *m, size_t *out_len);
enum nu_proto_status nu_decision_decode(const uint8_t *msg, size_t len, struct nu_decision *m);

/* A client session's resume token (doc/protocol.md, "Resuming a session"):
 * nuauth gives it with a successful AUTH_RESULT, the client gives it back
 * with AUTH_START when it logs in again on a new link (to the same nuauth,
 * restarted, or to another node of a cluster). */
#define NU_RESUME_LEN	16

/* AUTH_START (MECH mandatory, SASL_DATA and RESUME optional) and AUTH_STEP
 * (SASL_DATA mandatory, may be empty).  data points into the decoded
 * message. */
struct nu_auth {
	char mech[NU_NAME_MAX];
	bool has_data;
	const uint8_t *data;
	size_t data_len;
	bool has_resume;			/* AUTH_START only */
	uint8_t resume[NU_RESUME_LEN];
};
/* resume: the token of the client's last session, or NULL. */
enum nu_proto_status nu_auth_start_encode(uint8_t *buf, size_t cap, const char *mech, const uint8_t *data, size_t data_len, bool has_data, const uint8_t *resume, size_t *out_len);
enum nu_proto_status nu_auth_step_encode(uint8_t *buf, size_t cap, const uint8_t *data, size_t data_len, size_t *out_len);
enum nu_proto_status nu_auth_decode(const uint8_t *msg, size_t len, struct nu_auth *m);

struct nu_auth_result {
	uint8_t result;			/* RESULT, mandatory, enum nu_auth_code */
	char user[NU_NAME_MAX];		/* USER, optional */
	char text[NU_TEXT_MAX];		/* TEXT, optional */
	bool has_resume;		/* RESUME, optional: with NU_AUTH_OK */
	uint8_t resume[NU_RESUME_LEN];
};
enum nu_proto_status nu_auth_result_encode(uint8_t *buf, size_t cap, const struct nu_auth_result *m, size_t *out_len);
enum nu_proto_status nu_auth_result_decode(const uint8_t *msg, size_t len, struct nu_auth_result *m);

struct nu_client_info {
	char sysname[NU_NAME_MAX];
	char release[NU_NAME_MAX];
	char version[NU_TEXT_MAX];
};
enum nu_proto_status nu_client_info_encode(uint8_t *buf, size_t cap, const struct nu_client_info *m, size_t *out_len);
enum nu_proto_status nu_client_info_decode(const uint8_t *msg, size_t len, struct nu_client_info *m);

/* NEEDS: what nuauth needs in each CONN beyond the flow, sent after a
 * login and again when a reload changes it.  A client that never got one
 * sends the path (what nuauth before NEEDS expected).  APP_SHA256 implies
 * APP; bits the receiver does not know mean nothing to it. */
#define NU_NEEDS_APP		0x1u	/* the program's full path */
#define NU_NEEDS_APP_SHA256	0x2u	/* ... and the SHA-256 of its file */
enum nu_proto_status nu_needs_encode(uint8_t *buf, size_t cap, uint32_t needs, size_t *out_len);
enum nu_proto_status nu_needs_decode(const uint8_t *msg, size_t len, uint32_t *needs);

#define NU_SHA256_LEN	32

/* ANNOUNCE: one CONN attribute per connection.  Encode with
 * nu_announce_begin / nu_announce_add / nu_msg_finish; decode by
 * iterating with nu_announce_next. */
struct nu_announce_conn {
	struct nu_flow flow;
	char app[NU_APP_MAX];		/* "" when absent */
	bool has_app_sha256;		/* APP_SHA256 present */
	uint8_t app_sha256[NU_SHA256_LEN];
};
void nu_announce_begin(struct nu_msg_writer *w, uint8_t *buf, size_t cap);
/* False (and nothing written) when the connection does not fit: send the
 * message and begin another. */
bool nu_announce_add(struct nu_msg_writer *w, const struct nu_announce_conn *c);
/* The answer to a PUSH whose flow is none of the user's sockets: a
 * NOT_MINE attribute (the flow alone) in the same ANNOUNCE as the claims.
 * False (nothing written) when it does not fit, as nu_announce_add. */
bool nu_announce_add_not_mine(struct nu_msg_writer *w, const struct nu_flow *flow);
struct nu_announce_iter {
	struct nu_attr_iter attrs;
};
enum nu_proto_status nu_announce_iter_init(struct nu_announce_iter *it, const uint8_t *msg, size_t len);
/* 1: *c is the next connection; 0: end; -1: malformed message.  NOT_MINE
 * items are checked (a malformed one is -1) and skipped. */
int nu_announce_next(struct nu_announce_iter *it, struct nu_announce_conn *c);
/* Both kinds of items, in message order: 1 with *not_mine false, *c a
 * claimed connection; 1 with *not_mine true, only c->flow set (the rest
 * zero); 0: end; -1: malformed message (and -1 from then on). */
int nu_announce_next_item(struct nu_announce_iter *it, struct nu_announce_conn *c,
			  bool *not_mine);

/* CONN_END: a connection nufw accepted has ended (conntrack destroyed it);
 * FLOW mandatory (as first seen: client to server), the rest optional. */
struct nu_conn_end {
	struct nu_flow flow;
	uint32_t mark;
	uint64_t packets_out;
	uint64_t bytes_out;
	uint64_t packets_in;
	uint64_t bytes_in;
};
enum nu_proto_status nu_conn_end_encode(uint8_t *buf, size_t cap, const struct nu_conn_end *m, size_t *out_len);
enum nu_proto_status nu_conn_end_decode(const uint8_t *msg, size_t len, struct nu_conn_end *m);

/* CONN_DESTROY: nufw deletes the connection's conntrack entry; FLOW
 * mandatory. */
enum nu_proto_status nu_conn_destroy_encode(uint8_t *buf, size_t cap, const struct nu_flow *flow, size_t *out_len);
enum nu_proto_status nu_conn_destroy_decode(const uint8_t *msg, size_t len, struct nu_flow *flow);

/* SESSION_END: nufw ends every connection it accepted with this SESSION
 * tag (mandatory, not 0): the session's user logged out or was
 * disconnected, on whichever node of a cluster holds the session now. */
enum nu_proto_status nu_session_end_encode(uint8_t *buf, size_t cap, uint64_t session, size_t *out_len);
enum nu_proto_status nu_session_end_decode(const uint8_t *msg, size_t len, uint64_t *session);

/* CONN_EXPIRES: the end time of an accepted connection changed (a reload
 * moved its ACL's period): FLOW mandatory; EXPIRES, seconds from now, or
 * absent when the connection has no end time any more. */
struct nu_conn_expires {
	struct nu_flow flow;
	bool has_expires;
	uint32_t expires_in;
};
enum nu_proto_status nu_conn_expires_encode(uint8_t *buf, size_t cap, const struct nu_conn_expires *m, size_t *out_len);
enum nu_proto_status nu_conn_expires_decode(const uint8_t *msg, size_t len, struct nu_conn_expires *m);

/* GW_STATS: one queue's counters since nufw started (nufw -> nuauth, every
 * few seconds): QUEUE mandatory, each counter optional (absent: 0). */
struct nu_gw_stats {
	uint32_t queue;
	uint64_t asked;
	uint64_t accepted;
	uint64_t dropped;
	uint64_t rejected;
	uint64_t timeouts;
	uint64_t overruns;
	uint64_t kernel_queue_full;
	uint64_t kernel_failed;
};
enum nu_proto_status nu_gw_stats_encode(uint8_t *buf, size_t cap, const struct nu_gw_stats *m, size_t *out_len);
enum nu_proto_status nu_gw_stats_decode(const uint8_t *msg, size_t len, struct nu_gw_stats *m);

/* PUSH: optional FLOW (the flow nuauth is asking about). */
enum nu_proto_status nu_push_encode(uint8_t *buf, size_t cap, const struct nu_flow *flow_or_null, size_t *out_len);
enum nu_proto_status nu_push_decode(const uint8_t *msg, size_t len, bool *has_flow, struct nu_flow *flow);

/* NOTICE: nuauth tells a client that one of its user's connections was not
 * accepted.  FLOW and VERDICT (drop or reject; accept is BAD_ATTR) are
 * mandatory; APP (the program, as announced) and TEXT (which rule decided,
 * e.g. "acl web only") are optional. */
struct nu_notice {
	struct nu_flow flow;
	uint8_t verdict;		/* NU_VERDICT_DROP or NU_VERDICT_REJECT */
	char app[NU_APP_MAX];		/* "" when absent */
	char text[NU_TEXT_MAX];		/* "" when absent */
};
enum nu_proto_status nu_notice_encode(uint8_t *buf, size_t cap, const struct nu_notice *m, size_t *out_len);
enum nu_proto_status nu_notice_decode(const uint8_t *msg, size_t len, struct nu_notice *m);

#endif
