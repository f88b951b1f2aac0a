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
-- that were waiting for a proxy; queue them in the outbox, oldest first.
DO $do$
BEGIN
  IF EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = ${schemaLiteral} AND table_name = 'events' AND column_name = 'message') THEN
    INSERT INTO ${s}.outbox (channel, routing_key, payload, created_at)
    SELECT e.channel,
           CASE WHEN strpos(e.message, '|') > 0 THEN left(e.message, strpos(e.message, '|') - 1) ELSE '' END,
           CASE WHEN strpos(e.message, '|') > 0 THEN substr(e.message, strpos(e.message, '|') + 1) ELSE e.message END,
           e.created_on
      FROM ${s}.events AS e ORDER BY e.id;
    DELETE FROM ${s}.events;
  END IF;
END
$do$;

-- Applications use the functions; only the bridge's role reads and deletes queued rows (see docs/sql.md).
GRANT USAGE ON SCHEMA ${s} TO PUBLIC;
REVOKE ALL ON ${s}.outbox, ${s}.dead_letter FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION ${s}.replay_dead_letters(bigint[], text, text) FROM PUBLIC;
`,
};

/** Every migration of the `events` schema, oldest first. */
export const migrations: readonly Migration[] = [eventsSchema];
