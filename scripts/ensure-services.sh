#!/usr/bin/env bash
# Makes sure the services the integration tests talk to answer on their loopback ports, starting
# any that is down (as root, the way the machine starts them). Prints one line per service.
set -uo pipefail

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() { # name port seconds
  for _ in $(seq 1 "$(($3 * 10))"); do up "$2" && { echo "service $1: up on $2"; return 0; }; sleep 0.1; done
  echo "service $1: NOT answering on $2" >&2
  return 1
}

ensure() { # name port seconds start-command...
  local name=$1 port=$2 seconds=$3
  shift 3
  if up "$port"; then echo "service $name: up on $port"; return 0; fi
  echo "service $name: down, starting it"
  "$@" >/dev/null 2>&1 || true
  wait_for "$name" "$port" "$seconds"
}

status=0
ensure postgres 5432 30 pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql 2>/dev/null | head -n1)" main start || status=1
ensure redis 6379 10 redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no || status=1
ensure rabbitmq 5672 90 rabbitmq-server -detached || status=1
ensure mosquitto 1883 10 mosquitto -d -c /etc/mosquitto/mosquitto.conf || status=1
ensure nats 4222 10 start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js || status=1
exit $status
