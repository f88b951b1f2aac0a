-- The demo table, as in pg-event-proxy-example's postgres/2_schema.sql.
create table if not exists foo (id serial primary key, name text not null);
