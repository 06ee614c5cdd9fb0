# A throw-away PostgreSQL server for the tests, from Debian's packages.
# Sourced by .ci/run: `start_postgres` installs the server if it is missing,
# initialises a cluster in a temporary directory, starts it on 127.0.0.1 on a
# free port, creates the database `skser_test`, exports its URL as
# SKSER_TEST_POSTGRES_URL (read by tests/test_tuning_postgres.py) and stops
# and removes it all when the shell exits. PostgreSQL refuses to run as root,
# so the server runs as the `postgres` user the package creates.

postgres_bindir() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

as_postgres() {  # runuser lives in /usr/sbin, which a CI PATH may lack
    "$(command -v runuser || echo /usr/sbin/runuser)" -u postgres -- "$@"
}

start_postgres() {
    PG_BIN=$(postgres_bindir)
    if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ] || ! id postgres >/dev/null 2>&1; then
        echo "installing PostgreSQL from Debian's packages"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
        PG_BIN=$(postgres_bindir)
    fi
    PG_DIR=$(mktemp -d /tmp/skser-postgres.XXXXXX)
    trap stop_postgres EXIT
    chown postgres: "$PG_DIR"
    local port
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_postgres "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust \
        --encoding=UTF8 --no-locale >"$PG_DIR/initdb.log" 2>&1 \
        || { cat "$PG_DIR/initdb.log"; return 1; }
    # fsync=off: a test database that is thrown away needs no durability.
    as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
        -o "-h 127.0.0.1 -p $port -k $PG_DIR -c fsync=off -c max_connections=100" start >/dev/null \
        || { cat "$PG_DIR/server.log"; return 1; }
    as_postgres "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres skser_test
    export SKSER_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$port/skser_test"
    echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($PG_DIR)"
}

stop_postgres() {
    if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR" ]; then
        as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
        rm -rf "$PG_DIR"
    fi
}
