-- The tables the log_pgsql module of nuauth writes to (PostgreSQL 12 or
-- later).  Load it once into the database nuauth logs to, e.g.
--
--   createuser nufw && createdb -O nufw nufw
--   psql -U nufw -d nufw -f log_pgsql.sql
--
-- The names "users" and "ulog" are the defaults of pgsql_users_table_name
-- and pgsql_table_name; rename both here and in nuauth.conf if they clash.
-- Times are timestamptz; addresses are inet (IPv4 as a.b.c.d).

-- One row per user session on a client link.
CREATE TABLE IF NOT EXISTS users (
	id		bigserial PRIMARY KEY,
	username	text NOT NULL,
	user_id		bigint NOT NULL,	-- the uid of the user database
	ip_saddr	inet NOT NULL,		-- the client's address
	client		text,			-- client software and version (HELLO)
	os_sysname	text,			-- the client's OS: set at logout
	os_release	text,			-- (nuauth learns it after the login)
	os_version	text,
	start_time	timestamptz NOT NULL,	-- login (whole seconds)
	end_time	timestamptz,		-- logout; NULL while logged in
	end_reason	text			-- why the session ended
);
-- The logout finds its session by user, address and login time.
CREATE INDEX IF NOT EXISTS users_open ON users (username, ip_saddr, start_time)
	WHERE end_time IS NULL;
CREATE INDEX IF NOT EXISTS users_start ON users (start_time);

-- One row per decision about a user's connection.  An accepted connection
-- gets its end time and counters when its gateway reports the end (nufw
-- -C): until then they are NULL.  "out" is the original direction (from
-- the user), "in" the replies.
CREATE TABLE IF NOT EXISTS ulog (
	id		bigserial PRIMARY KEY,
	username	text NOT NULL,
	user_id		bigint,			-- NULL on a row made by its end alone
	ip_protocol	smallint NOT NULL,	-- 6 tcp, 17 udp, 1 icmp, 58 icmpv6
	ip_saddr	inet NOT NULL,
	ip_daddr	inet NOT NULL,
	sport		integer NOT NULL,	-- 0 for ICMP
	dport		integer NOT NULL,	-- 0 for ICMP
	icmp_type	smallint,		-- ICMP only
	client_app	text,			-- the program's full path
	client_os	text,			-- "sysname release version"
	decision	text NOT NULL CHECK (decision IN ('accept', 'drop', 'reject')),
	acl_name	text,			-- the ACL that decided; NULL: none matched
	start_time	timestamptz NOT NULL,	-- the decision
	end_time	timestamptz,
	packets_out	bigint,
	bytes_out	bigint,
	packets_in	bigint,
	bytes_in	bigint
);
-- A connection's end finds its row by tuple among the open ones.
CREATE INDEX IF NOT EXISTS ulog_open ON ulog (ip_saddr, sport, ip_daddr, dport, ip_protocol)
	WHERE end_time IS NULL AND decision = 'accept';
CREATE INDEX IF NOT EXISTS ulog_start ON ulog (start_time);
CREATE INDEX IF NOT EXISTS ulog_user ON ulog (username, start_time);
