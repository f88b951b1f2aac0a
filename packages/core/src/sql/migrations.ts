import { walSources } from '../rules/parse-rules.js';
import { quoteIdent } from '../sources/postgres-connection.js';

/** One step of the `events` schema. Applied once, in version order, and recorded in `schema_version`. */
export interface Migration {
  /** Increases by one per migration. */
  readonly version: number;
  /** `001-events-schema`: the version and what it does, as the file of a migration tool would be named. */
  readonly name: string;
  /** The SQL for a given schema name. Every statement is safe to run again. */
  sql(names: SchemaNames): string;
}

/** The names a migration is rendered with. */
export interface SchemaNames {
  /** The schema, quoted as an identifier: `"events"`. */
  readonly schema: string;
  /** The schema as a string literal: `'events'`. */
  readonly schemaLiteral: string;
  /** The wake-up NOTIFY channel as a string literal: `'events_outbox'`. */
  readonly wakeChannelLiteral: string;
}

/** The schema pg-event-proxy's SQL helpers live in, and ours by default. */
export const defaultSchema = 'events';

/** The channel the outbox's writers NOTIFY so bridges wake up: `<schema>_outbox`, `events_outbox` by default. */
export function outboxWakeChannel(schema = defaultSchema): string {
  return `${schema}_outbox`;
}

/** Names for rendering the migrations into `schema`. */
export function schemaNames(schema = defaultSchema): SchemaNames {
  return { schema: quoteIdent(schema), schemaLiteral: quoteLiteral(schema), wakeChannelLiteral: quoteLiteral(outboxWakeChannel(schema)) };
}

/** `it's` as `'it''s'`. */
export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

const eventsSchema: Migration = {
  version: 1,
  name: '001-events-schema',
  sql: ({ schema: s, schemaLiteral, wakeChannelLiteral: wake }) => `
-- The durable queue. send_message(..., durable => true) and on_row_change() write here; bridges
-- read it in id order per channel and delete a row once every target accepted (or dead-lettered) it.
CREATE TABLE IF NOT EXISTS ${s}.outbox (
  id           bigserial   PRIMARY KEY,
  channel      text        NOT NULL,
  routing_key  text        NOT NULL DEFAULT '',
  payload      text        NOT NULL,
  headers      jsonb,
  content_type text,
  created_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS outbox_channel_id_idx ON ${s}.outbox (channel, id);
COMMENT ON TABLE ${s}.outbox IS 'pg-event-bridge: durable messages waiting for a bridge; rows are deleted once the broker accepted them';

-- Messages a broker refused for good (too large, unroutable...), one row per event and target.
CREATE TABLE IF NOT EXISTS ${s}.dead_letter (
  id              bigserial   PRIMARY KEY,
  event_id        text        NOT NULL,
  source          text        NOT NULL,
  channel         text        NOT NULL,
  upstream        text        NOT NULL,
  target          text        NOT NULL,
  routing_key     text        NOT NULL DEFAULT '',
  payload         text        NOT NULL,
  headers         jsonb,
  content_type    text,
  error_code      text        NOT NULL,
  error_message   text        NOT NULL,
  attempts        integer     NOT NULL DEFAULT 1,
  event_time      timestamptz,
  first_failed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  last_failed_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  CONSTRAINT dead_letter_event_target_key UNIQUE (event_id, upstream, target)
);
COMMENT ON TABLE ${s}.dead_letter IS 'pg-event-bridge: messages that failed permanently; replay with replay_dead_letters()';

-- pg-event-proxy's signature, minus skip_flush (kept below as an overload). Durable messages are
-- inserted into the outbox in the caller's transaction: a rollback sends nothing, a commit always
-- reaches a bridge eventually, whether one is connected or not (no pg_stat_activity check).
CREATE OR REPLACE FUNCTION ${s}.send_message(channel text, message text, routing_key text DEFAULT '', durable boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  IF durable THEN
    INSERT INTO ${s}.outbox (channel, routing_key, payload)
    VALUES (send_message.channel, coalesce(send_message.routing_key, ''), coalesce(send_message.message, ''));
    -- Delivered on commit only, once per channel and transaction: wakes the bridges.
    PERFORM pg_notify(${wake}, send_message.channel);
  ELSE
    PERFORM pg_notify(send_message.channel, send_message.routing_key || '|' || send_message.message);
  END IF;
END
$fn$;
COMMENT ON FUNCTION ${s}.send_message(text, text, text, boolean) IS 'pg-event-bridge: NOTIFY routing_key|message, or with durable => true queue it in the outbox';

-- pg-event-proxy's five-argument form had defaults on every optional argument, which would make a
-- call with two to four arguments ambiguous next to ours; replace it by one without defaults.
DROP FUNCTION IF EXISTS ${s}.send_message(text, text, text, boolean, boolean);
CREATE FUNCTION ${s}.send_message(channel text, message text, routing_key text, durable boolean, skip_flush boolean)
RETURNS void LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$ SELECT ${s}.send_message($1, $2, $3, $4) $fn$;
COMMENT ON FUNCTION ${s}.send_message(text, text, text, boolean, boolean) IS 'pg-event-bridge: pg-event-proxy compatibility; skip_flush is ignored';

-- pg-event-proxy replayed its buffer table when called; bridges drain the outbox by themselves.
CREATE OR REPLACE FUNCTION ${s}.flush() RETURNS void LANGUAGE plpgsql VOLATILE AS $fn$ BEGIN END $fn$;
COMMENT ON FUNCTION ${s}.flush() IS 'pg-event-bridge: pg-event-proxy compatibility; does nothing, bridges drain the outbox themselves';

-- AFTER INSERT OR UPDATE OR DELETE ... FOR EACH ROW EXECUTE FUNCTION on_row_change(args):
--   1st argument: the channel (default 'events'); then any of
--   include=col1,col2   only these columns        exclude=col1,col2   all but these columns
--   routing=legacy      pg-event-proxy's routing key row_change.table-<table>.event-<OP>
--   {"include": [...]} / {"exclude": [...]}      pg-event-proxy's form of the column lists
-- Body: JSON of the new row (the old one for DELETE), columns in table order. Routing key
-- <table>.<action> (orders.insert). Always durable: no 8000-byte NOTIFY limit.
CREATE OR REPLACE FUNCTION ${s}.on_row_change() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  v_channel text := 'events';
  v_include text[];
  v_exclude text[];
  v_legacy  boolean := false;
  v_arg     text;
  v_config  jsonb;
  v_action  text := lower(TG_OP);
  v_row     json;
  v_body    text;
  v_key     text;
BEGIN
  IF TG_LEVEL <> 'ROW' OR TG_OP NOT IN ('INSERT', 'UPDATE', 'DELETE') THEN
    RAISE EXCEPTION 'on_row_change() on %.% must be an AFTER INSERT OR UPDATE OR DELETE ... FOR EACH ROW trigger', TG_TABLE_SCHEMA, TG_TABLE_NAME;
  END IF;
  IF TG_NARGS > 0 AND TG_ARGV[0] <> '' THEN
    v_channel := TG_ARGV[0];
  END IF;
  FOR i IN 1 .. TG_NARGS - 1 LOOP
    v_arg := btrim(TG_ARGV[i]);
    IF v_arg LIKE 'include=%' THEN
      v_include := ARRAY(SELECT btrim(c) FROM unnest(string_to_array(substr(v_arg, 9), ',')) AS c);
    ELSIF v_arg LIKE 'exclude=%' THEN
      v_exclude := ARRAY(SELECT btrim(c) FROM unnest(string_to_array(substr(v_arg, 9), ',')) AS c);
    ELSIF v_arg = 'routing=legacy' THEN
      v_legacy := true;
    ELSIF left(v_arg, 1) = '{' THEN
      v_config := v_arg::jsonb;
      IF v_config ? 'include' THEN v_include := ARRAY(SELECT jsonb_array_elements_text(v_config -> 'include')); END IF;
      IF v_config ? 'exclude' THEN v_exclude := ARRAY(SELECT jsonb_array_elements_text(v_config -> 'exclude')); END IF;
    ELSE
      RAISE EXCEPTION 'on_row_change() on %.%: unknown trigger argument %', TG_TABLE_SCHEMA, TG_TABLE_NAME, quote_literal(TG_ARGV[i])
        USING HINT = 'Pass the channel first, then include=col1,col2, exclude=col1,col2 or routing=legacy.';
    END IF;
  END LOOP;

  v_row := CASE WHEN TG_OP = 'DELETE' THEN row_to_json(OLD) ELSE row_to_json(NEW) END;
  IF v_include IS NULL AND v_exclude IS NULL THEN
    v_body := v_row::text;
  ELSE
    SELECT '{' || coalesce(string_agg(to_json(e.key)::text || ':' || e.value::text, ',' ORDER BY e.n), '') || '}'
      INTO v_body
      FROM json_each(v_row) WITH ORDINALITY AS e(key, value, n)
     WHERE (v_include IS NULL OR e.key = ANY (v_include))
       AND (v_exclude IS NULL OR NOT e.key = ANY (v_exclude));
  END IF;
  v_key := CASE WHEN v_legacy THEN 'row_change.table-' || TG_TABLE_NAME || '.event-' || TG_OP ELSE TG_TABLE_NAME || '.' || v_action END;

  INSERT INTO ${s}.outbox (channel, routing_key, payload, headers, content_type)
  VALUES (v_channel, v_key, v_body, jsonb_build_object('x-table', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, 'x-action', v_action), 'application/json');
  PERFORM pg_notify(${wake}, v_channel);
  RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION ${s}.on_row_change() IS 'pg-event-bridge: row-change trigger; args: channel, include=a,b | exclude=a,b | routing=legacy';

-- Moves dead letters back into the outbox (all of them, or those selected), oldest first, once
-- per event even when several targets refused it. Returns how many messages were queued.
CREATE OR REPLACE FUNCTION ${s}.replay_dead_letters(ids bigint[] DEFAULT NULL, upstream text DEFAULT NULL, channel text DEFAULT NULL)
RETURNS integer LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  v_moved integer;
BEGIN
  WITH picked AS (
    DELETE FROM ${s}.dead_letter AS d
     WHERE (replay_dead_letters.ids IS NULL OR d.id = ANY (replay_dead_letters.ids))
       AND (replay_dead_letters.upstream IS NULL OR d.upstream = replay_dead_letters.upstream)
       AND (replay_dead_letters.channel IS NULL OR d.channel = replay_dead_letters.channel)
    RETURNING d.*
  ), once AS (
    SELECT DISTINCT ON (p.event_id) p.* FROM picked AS p ORDER BY p.event_id, p.id
  ), queued AS (
    INSERT INTO ${s}.outbox (channel, routing_key, payload, headers, content_type, created_at)
    SELECT o.channel, o.routing_key, o.payload, coalesce(o.headers, '{}'::jsonb) || jsonb_build_object('x-replay-of', o.event_id), o.content_type, clock_timestamp()
      FROM once AS o ORDER BY o.id
    RETURNING outbox.channel
  )
  SELECT count(*) INTO v_moved FROM queued;
  PERFORM pg_notify(${wake}, '');
  RETURN v_moved;
END
$fn$;
COMMENT ON FUNCTION ${s}.replay_dead_letters(bigint[], text, text) IS 'pg-event-bridge: move dead letters back into the outbox; returns the number queued';

-- Upgrading from pg-event-proxy's helpers: their buffer table holds 'routing_key|message' rows
-- that were waiting for a proxy; queue them in the outbox, oldest first. Reading and deleting them
-- runs as the installing role, so only a plain table of that role with builtin column types is
-- taken: a view, a table of another role (its triggers and policies would run as the installer),
-- a trigger or rule, or a column of a user type (its casts and operators) leaves it alone, warned.
DO $do$
DECLARE
  v_table regclass := pg_catalog.to_regclass(${schemaLiteral} || '.events');
BEGIN
  IF v_table IS NULL OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = v_table AND attname = 'message' AND NOT attisdropped) THEN
    RETURN;
  END IF;
  IF NOT EXISTS (
       SELECT 1 FROM pg_catalog.pg_class AS c
        WHERE c.oid = v_table AND c.relkind = 'r' AND NOT c.relrowsecurity
          AND c.relowner = (SELECT r.oid FROM pg_catalog.pg_roles AS r WHERE r.rolname = current_user))
     OR (SELECT pg_catalog.count(*) FROM pg_catalog.pg_attribute AS a
          WHERE a.attrelid = v_table AND NOT a.attisdropped
            AND ((a.attname = 'id' AND a.atttypid IN ('pg_catalog.int4'::pg_catalog.regtype, 'pg_catalog.int8'::pg_catalog.regtype))
              OR (a.attname IN ('channel', 'message') AND a.atttypid IN ('pg_catalog.text'::pg_catalog.regtype, 'pg_catalog.varchar'::pg_catalog.regtype))
              OR (a.attname = 'created_on' AND a.atttypid IN ('pg_catalog.timestamptz'::pg_catalog.regtype, 'pg_catalog.timestamp'::pg_catalog.regtype)))) <> 4
     OR EXISTS (SELECT 1 FROM pg_catalog.pg_trigger AS t WHERE t.tgrelid = v_table AND NOT t.tgisinternal)
     OR EXISTS (SELECT 1 FROM pg_catalog.pg_rewrite AS w WHERE w.ev_class = v_table) THEN
    RAISE WARNING 'pg-event-bridge: left the rows of %.events where they are: it is not a plain table of the installing role with columns id, channel, message and created_on of builtin types, without triggers, rules or row security', ${schemaLiteral}
      USING HINT = 'Install as the owner of that table, or queue its rows yourself with the schema''s enqueue() and delete them.';
    RETURN;
  END IF;
  INSERT INTO ${s}.outbox (channel, routing_key, payload, created_at)
  SELECT e.channel::text,
         CASE WHEN pg_catalog.strpos(e.message::text, '|') > 0 THEN pg_catalog.left(e.message::text, pg_catalog.strpos(e.message::text, '|') - 1) ELSE '' END,
         CASE WHEN pg_catalog.strpos(e.message::text, '|') > 0 THEN pg_catalog.substr(e.message::text, pg_catalog.strpos(e.message::text, '|') + 1) ELSE e.message::text END,
         e.created_on::timestamptz
    FROM ${s}.events AS e ORDER BY e.id;
  DELETE FROM ${s}.events;
END
$do$;

-- Applications use the functions; only the bridge's role reads and deletes queued rows (see docs/sql.md).
GRANT USAGE ON SCHEMA ${s} TO PUBLIC;
REVOKE ALL ON ${s}.outbox, ${s}.dead_letter FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION ${s}.replay_dead_letters(bigint[], text, text) FROM PUBLIC;
`,
};

/** The WAL source names: the outbox never delivers rows of these channels but replayed WAL dead letters. */
export const reservedChannels: readonly string[] = walSources;


/**
 * Header names the bridge sets itself (publishers' `x-event-*`, `x-pg-*`, `x-routing-key`, the WAL
 * source's `x-wal-*`, the outbox's `x-outbox-*` and `x-replay-of`): `enqueue()` refuses them and the
 * outbox source drops them from rows that are not replays, so a sender cannot pass for another
 * source. Compared in lower case.
 */
export const reservedHeaderPrefixes: readonly string[] = ['x-event-', 'x-pg-', 'x-routing-key', 'x-wal-', 'x-outbox-', 'x-replay-of'];

const reservedArray = `ARRAY[${reservedChannels.map(quoteLiteral).join(', ')}]`;
const reservedHeaderPatterns = `ARRAY[${reservedHeaderPrefixes.map((prefix) => quoteLiteral(`${prefix}%`)).join(', ')}]`;

const hardening: Migration = {
  version: 2,
  name: '002-least-privilege',
  sql: ({ schema: s, schemaLiteral, wakeChannelLiteral: wake }) => `
-- Set only by replay_dead_letters(), which PUBLIC cannot execute, and nobody but the owner may
-- INSERT or UPDATE the outbox: the mark that lets a row of a reserved channel (wal2json, pgoutput)
-- be delivered, and the x-replay-of header of every replay.
ALTER TABLE ${s}.outbox ADD COLUMN IF NOT EXISTS replay_of text;
COMMENT ON COLUMN ${s}.outbox.replay_of IS 'pg-event-bridge: the event id a replayed dead letter had; set by replay_dead_letters() only';
-- Where a poison event was read (LSN, outbox row) and its bytes when they are not text.
ALTER TABLE ${s}.dead_letter ADD COLUMN IF NOT EXISTS position text;
ALTER TABLE ${s}.dead_letter ADD COLUMN IF NOT EXISTS raw bytea;
-- Bridges deliver ids in order behind open transactions, which needs ids handed out in the order
-- they are taken: no per-session cache.
ALTER SEQUENCE ${s}.outbox_id_seq CACHE 1;

-- The one privileged step: insert already rendered values into the outbox. It evaluates nothing
-- of the caller's (arguments arrive as text and jsonb; every function and operator it uses is
-- pg_catalog's, under a pinned search_path), so it may run with the owner's rights.
CREATE OR REPLACE FUNCTION ${s}.enqueue(channel text, message text, routing_key text, headers jsonb, content_type text)
RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  v_id  bigint;
  v_key text := coalesce(enqueue.routing_key, '');
  v_bad text;
BEGIN
  IF enqueue.channel IS NULL OR enqueue.channel = '' THEN
    RAISE EXCEPTION 'pg-event-bridge: the channel of a durable message must not be %', coalesce(pg_catalog.quote_literal(enqueue.channel), 'NULL')
      USING ERRCODE = '22004', HINT = 'Pass the channel a bridge rule names, as in send_message(''orders'', ...).';
  END IF;
  IF enqueue.channel = ANY (${reservedArray}) THEN
    RAISE EXCEPTION 'pg-event-bridge: channel % is reserved for the WAL source of that name; the outbox does not deliver messages sent to it', pg_catalog.quote_literal(enqueue.channel)
      USING ERRCODE = '42501', HINT = 'Send on a channel of your own and add a rule for it; row changes reach WAL targets through replication only.';
  END IF;
  IF pg_catalog.octet_length(v_key) > 255 THEN
    RAISE EXCEPTION 'pg-event-bridge: routing key of % bytes is longer than 255 bytes (channel %)', pg_catalog.octet_length(v_key), pg_catalog.quote_literal(enqueue.channel)
      USING ERRCODE = '22001', HINT = 'Use a shorter routing key; put long data in the message.';
  END IF;
  IF pg_catalog.octet_length(enqueue.content_type) > 255 THEN
    RAISE EXCEPTION 'pg-event-bridge: content type of % bytes is longer than 255 bytes (channel %)', pg_catalog.octet_length(enqueue.content_type), pg_catalog.quote_literal(enqueue.channel)
      USING ERRCODE = '22001', HINT = 'Pass a MIME type such as application/json.';
  END IF;
  IF pg_catalog.octet_length(enqueue.headers::text) > 65536 THEN
    RAISE EXCEPTION 'pg-event-bridge: headers of % bytes are larger than 64 KiB (channel %)', pg_catalog.octet_length(enqueue.headers::text), pg_catalog.quote_literal(enqueue.channel)
      USING ERRCODE = '22001', HINT = 'Keep headers small; put data in the message.';
  END IF;
  IF enqueue.headers IS NOT NULL THEN
    IF pg_catalog.jsonb_typeof(enqueue.headers) <> 'object' THEN
      RAISE EXCEPTION 'pg-event-bridge: headers must be a JSON object of strings, not a JSON %', pg_catalog.jsonb_typeof(enqueue.headers) USING ERRCODE = '22023';
    END IF;
    SELECT k INTO v_bad FROM pg_catalog.jsonb_object_keys(enqueue.headers) AS k
     WHERE pg_catalog.lower(k) LIKE ANY (${reservedHeaderPatterns}) LIMIT 1;
    IF v_bad IS NOT NULL THEN
      RAISE EXCEPTION 'pg-event-bridge: header % is reserved for the bridge', pg_catalog.quote_literal(v_bad)
        USING ERRCODE = '42501', HINT = 'Use another name; x-event-*, x-pg-*, x-routing-key, x-wal-*, x-outbox-* and x-replay-of are set by the bridge.';
    END IF;
  END IF;
  INSERT INTO ${s}.outbox (channel, routing_key, payload, headers, content_type)
  VALUES (enqueue.channel, v_key, coalesce(enqueue.message, ''), enqueue.headers, enqueue.content_type)
  RETURNING id INTO v_id;
  -- Delivered on commit only, once per channel and transaction: wakes the bridges.
  PERFORM pg_catalog.pg_notify(${wake}, enqueue.channel);
  RETURN v_id;
END
$fn$;
COMMENT ON FUNCTION ${s}.enqueue(text, text, text, jsonb, text) IS 'pg-event-bridge: queue a durable message with headers and content type; returns its outbox id';

-- From here on nothing runs with the owner's rights but enqueue(): send_message and the trigger
-- run as their caller, so the caller's types, casts and operators run with the caller's rights.
CREATE OR REPLACE FUNCTION ${s}.send_message(channel text, message text, routing_key text DEFAULT '', durable boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  IF send_message.channel IS NULL THEN
    RAISE EXCEPTION 'pg-event-bridge: send_message() needs a channel, got NULL' USING ERRCODE = '22004', HINT = 'Pass the channel a bridge rule names.';
  END IF;
  IF send_message.durable IS NULL THEN
    RAISE EXCEPTION 'pg-event-bridge: send_message() on channel % needs durable true or false, got NULL', pg_catalog.quote_literal(send_message.channel) USING ERRCODE = '22004';
  END IF;
  IF send_message.channel = ANY (${reservedArray}) THEN
    RAISE EXCEPTION 'pg-event-bridge: channel % is reserved for the WAL source of that name; messages cannot be sent to it', pg_catalog.quote_literal(send_message.channel)
      USING ERRCODE = '42501', HINT = 'Send on a channel of your own and add a rule for it; row changes reach WAL targets through replication only.';
  END IF;
  IF send_message.durable THEN
    PERFORM ${s}.enqueue(send_message.channel, send_message.message, send_message.routing_key, NULL, NULL);
  ELSE
    -- A NULL key or message is sent as '' (pg-event-proxy sent nothing at all: NULL || '|').
    PERFORM pg_catalog.pg_notify(send_message.channel, coalesce(send_message.routing_key, '') || '|' || coalesce(send_message.message, ''));
  END IF;
END
$fn$;

CREATE OR REPLACE FUNCTION ${s}.send_message(channel text, message text, routing_key text, durable boolean, skip_flush boolean)
RETURNS void LANGUAGE sql VOLATILE SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $fn$ SELECT ${s}.send_message($1, $2, $3, $4) $fn$;

CREATE OR REPLACE FUNCTION ${s}.on_row_change() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  v_channel text := 'events';
  v_include text[];
  v_exclude text[];
  v_legacy  boolean := false;
  v_arg     text;
  v_config  jsonb;
  v_action  text := lower(TG_OP);
  v_row     json;
  v_body    text;
  v_key     text;
BEGIN
  IF TG_LEVEL <> 'ROW' OR TG_OP NOT IN ('INSERT', 'UPDATE', 'DELETE') THEN
    RAISE EXCEPTION 'on_row_change() on %.% must be an AFTER INSERT OR UPDATE OR DELETE ... FOR EACH ROW trigger', TG_TABLE_SCHEMA, TG_TABLE_NAME;
  END IF;
  IF TG_TABLE_SCHEMA = ${schemaLiteral} AND TG_TABLE_NAME IN ('outbox', 'dead_letter', 'schema_version') THEN
    RAISE EXCEPTION 'on_row_change() cannot forward changes of the bridge''s own table %.%', TG_TABLE_SCHEMA, TG_TABLE_NAME
      USING HINT = 'Drop this trigger; attach on_row_change() to application tables only.';
  END IF;
  IF TG_NARGS > 0 AND TG_ARGV[0] <> '' THEN
    v_channel := TG_ARGV[0];
  END IF;
  IF v_channel = ANY (${reservedArray}) THEN
    RAISE EXCEPTION 'on_row_change() on %.%: channel % is reserved for the WAL source of that name', TG_TABLE_SCHEMA, TG_TABLE_NAME, quote_literal(v_channel)
      USING HINT = 'Pass a channel of your own as the first trigger argument, or use a WAL rule for this table.';
  END IF;
  FOR i IN 1 .. TG_NARGS - 1 LOOP
    v_arg := btrim(TG_ARGV[i]);
    IF v_arg LIKE 'include=%' THEN
      v_include := ARRAY(SELECT btrim(c) FROM unnest(string_to_array(substr(v_arg, 9), ',')) AS c);
    ELSIF v_arg LIKE 'exclude=%' THEN
      v_exclude := ARRAY(SELECT btrim(c) FROM unnest(string_to_array(substr(v_arg, 9), ',')) AS c);
    ELSIF v_arg = 'routing=legacy' THEN
      v_legacy := true;
    ELSIF left(v_arg, 1) = '{' THEN
      v_config := v_arg::jsonb;
      IF v_config ? 'include' THEN v_include := ARRAY(SELECT jsonb_array_elements_text(v_config -> 'include')); END IF;
      IF v_config ? 'exclude' THEN v_exclude := ARRAY(SELECT jsonb_array_elements_text(v_config -> 'exclude')); END IF;
    ELSE
      RAISE EXCEPTION 'on_row_change() on %.%: unknown trigger argument %', TG_TABLE_SCHEMA, TG_TABLE_NAME, quote_literal(TG_ARGV[i])
        USING HINT = 'Pass the channel first, then include=col1,col2, exclude=col1,col2 or routing=legacy.';
    END IF;
  END LOOP;

  -- Runs as the role that changed the row: its types' casts to json run with its own rights.
  v_row := CASE WHEN TG_OP = 'DELETE' THEN row_to_json(OLD) ELSE row_to_json(NEW) END;
  IF v_include IS NULL AND v_exclude IS NULL THEN
    v_body := v_row::text;
  ELSE
    SELECT '{' || coalesce(string_agg(to_json(e.key)::text || ':' || e.value::text, ',' ORDER BY e.n), '') || '}'
      INTO v_body
      FROM json_each(v_row) WITH ORDINALITY AS e(key, value, n)
     WHERE (v_include IS NULL OR e.key = ANY (v_include))
       AND (v_exclude IS NULL OR NOT e.key = ANY (v_exclude));
  END IF;
  v_key := CASE WHEN v_legacy THEN 'row_change.table-' || TG_TABLE_NAME || '.event-' || TG_OP ELSE TG_TABLE_NAME || '.' || v_action END;
  PERFORM ${s}.enqueue(v_channel, v_body, v_key, jsonb_build_object('x-table', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, 'x-action', v_action), 'application/json');
  RETURN NULL;
END
$fn$;

-- Runs with the owner's rights so operators need no right on the outbox, and only for roles it is
-- granted to: a row it writes is a replay (replay_of), the only kind a reserved channel delivers.
-- Dead letters of events that could not be decoded (ERR_BRIDGE_DECODE, or raw bytes stored) are
-- not replayed: they stay in the table, counted in a NOTICE, until fixed or deleted by hand.
CREATE OR REPLACE FUNCTION ${s}.replay_dead_letters(ids bigint[] DEFAULT NULL, upstream text DEFAULT NULL, channel text DEFAULT NULL)
RETURNS integer LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  v_moved   integer;
  v_skipped integer;
BEGIN
  WITH chosen AS (
    SELECT d.id,
           d.error_code <> 'ERR_BRIDGE_DECODE' AND d.raw IS NULL AND (d.channel <> ALL (${reservedArray}) OR d.source = 'wal') AS replayable
      FROM ${s}.dead_letter AS d
     WHERE (replay_dead_letters.ids IS NULL OR d.id = ANY (replay_dead_letters.ids))
       AND (replay_dead_letters.upstream IS NULL OR d.upstream = replay_dead_letters.upstream)
       AND (replay_dead_letters.channel IS NULL OR d.channel = replay_dead_letters.channel)
       FOR UPDATE OF d
  ), picked AS (
    DELETE FROM ${s}.dead_letter AS d USING chosen AS c
     WHERE d.id = c.id AND c.replayable
    RETURNING d.*
  ), once AS (
    SELECT DISTINCT ON (p.event_id) p.* FROM picked AS p ORDER BY p.event_id, p.id
  ), queued AS (
    INSERT INTO ${s}.outbox (channel, routing_key, payload, headers, content_type, created_at, replay_of)
    SELECT o.channel, o.routing_key, o.payload, o.headers, o.content_type, clock_timestamp(), o.event_id
      FROM once AS o ORDER BY o.id
    RETURNING outbox.channel
  )
  SELECT (SELECT count(*) FROM queued), (SELECT count(*) FROM chosen AS c WHERE NOT c.replayable) INTO v_moved, v_skipped;
  IF v_skipped > 0 THEN
    RAISE NOTICE 'pg-event-bridge: % dead letter(s) were not replayed: they could not be decoded (ERR_BRIDGE_DECODE or raw bytes stored) or name a WAL channel without coming from WAL', v_skipped
      USING HINT = 'Inspect them in the dead_letter table; fix the cause and delete them, or queue a corrected message with enqueue().';
  END IF;
  PERFORM pg_notify(${wake}, '');
  RETURN v_moved;
END
$fn$;

-- v1 let any role queue rows on the reserved channels through send_message(): keep those that
-- replay_dead_letters() queued (they carry x-replay-of), move the others to the dead letters.
UPDATE ${s}.outbox AS o SET replay_of = o.headers ->> 'x-replay-of', headers = o.headers - 'x-replay-of'
 WHERE o.channel = ANY (${reservedArray}) AND o.replay_of IS NULL AND o.headers ? 'x-replay-of';
WITH forged AS (
  DELETE FROM ${s}.outbox AS o WHERE o.channel = ANY (${reservedArray}) AND o.replay_of IS NULL RETURNING o.*
)
INSERT INTO ${s}.dead_letter (event_id, source, channel, upstream, target, routing_key, payload, headers, content_type, error_code, error_message, event_time, position)
SELECT 'outbox:' || f.id, 'outbox', f.channel, 'outbox', '', f.routing_key, f.payload, f.headers, f.content_type, 'ERR_BRIDGE_DECODE',
       'queued with send_message() on the reserved WAL channel ' || quote_literal(f.channel) || ', so not a row change of the database; not delivered', f.created_at, 'outbox:' || f.id
  FROM forged AS f
ON CONFLICT (event_id, upstream, target) DO NOTHING;

-- Bridges now read the sequence (the ordering horizon): roles that drained with v1's grants
-- (DELETE on the outbox) keep draining after the upgrade.
DO $do$
DECLARE
  v_role text;
BEGIN
  FOR v_role IN
    SELECT DISTINCT pg_catalog.pg_get_userbyid(a.grantee) FROM pg_catalog.pg_class AS c, pg_catalog.aclexplode(c.relacl) AS a
     WHERE c.oid = pg_catalog.to_regclass(pg_catalog.quote_ident(${schemaLiteral}) || '.outbox') AND a.privilege_type = 'DELETE' AND a.grantee <> 0 AND a.grantee <> c.relowner
  LOOP
    EXECUTE 'GRANT SELECT ON SEQUENCE ' || pg_catalog.quote_ident(${schemaLiteral}) || '.outbox_id_seq TO ' || pg_catalog.quote_ident(v_role);
  END LOOP;
END
$do$;

GRANT EXECUTE ON FUNCTION ${s}.enqueue(text, text, text, jsonb, text) TO PUBLIC;
REVOKE EXECUTE ON FUNCTION ${s}.replay_dead_letters(bigint[], text, text) FROM PUBLIC;
REVOKE ALL ON SEQUENCE ${s}.outbox_id_seq, ${s}.dead_letter_id_seq FROM PUBLIC;
`,
};

/** Every migration of the `events` schema, oldest first. */
export const migrations: readonly Migration[] = [eventsSchema, hardening];
