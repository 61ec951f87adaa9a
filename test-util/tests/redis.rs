//! Behaviour of `donjon_test::redis`, against real `redis-server` processes.
#![cfg(feature = "redis-server")]

use std::io::ErrorKind;
use std::net::{SocketAddr, TcpStream};

use donjon_test::redis::RedisServer;

/// Fails unless `addr` refuses connections.
fn refuses_connections(addr: SocketAddr) -> Result<(), String> {
    match TcpStream::connect(addr) {
        Err(err) if err.kind() == ErrorKind::ConnectionRefused => Ok(()),
        Err(err) => Err(format!(
            "connecting to {addr} failed, but not refused: {err}"
        )),
        Ok(_) => Err(format!("{addr} still accepts connections")),
    }
}

/// Fails unless `actual` is `expected`.
fn expect_eq(what: &str, actual: &str, expected: &str) -> Result<(), String> {
    if actual == expected {
        Ok(())
    } else {
        Err(format!("{what}: expected {expected:?}, got {actual:?}"))
    }
}

#[test]
fn start_answers_ping_on_loopback() -> Result<(), String> {
    let mut server = RedisServer::try_start()?;
    expect_eq("PING", &server.command(&["PING"])?, "PONG")?;
    assert!(server.is_running());
    assert!(server.addr().ip().is_loopback());
    assert_eq!(server.addr().port(), server.port());
    assert_eq!(
        server.url(),
        format!("redis://127.0.0.1:{}/", server.port())
    );
    Ok(())
}

#[test]
fn two_servers_get_different_ports_and_data() -> Result<(), String> {
    let first = RedisServer::start();
    let second = RedisServer::start();
    assert_ne!(first.port(), second.port());

    first.command(&["SET", "owner", "first"])?;
    expect_eq(
        "GET on the second",
        &second.command(&["GET", "owner"])?,
        "(nil)",
    )
}

#[test]
fn command_renders_each_reply_type() -> Result<(), String> {
    let server = RedisServer::start();

    // Simple string, bulk string (with a space and a CRLF), integer.
    expect_eq("SET", &server.command(&["SET", "key", "a b\r\nc"])?, "OK")?;
    expect_eq("GET", &server.command(&["GET", "key"])?, "a b\r\nc")?;
    expect_eq("INCR", &server.command(&["INCR", "counter"])?, "1")?;
    expect_eq(
        "INCRBY",
        &server.command(&["INCRBY", "counter", "-5"])?,
        "-4",
    )?;

    // Nil bulk string, empty bulk string.
    expect_eq(
        "GET missing",
        &server.command(&["GET", "missing"])?,
        "(nil)",
    )?;
    server.command(&["SET", "empty", ""])?;
    expect_eq("GET empty", &server.command(&["GET", "empty"])?, "")?;

    // Error replies are errors.
    let not_a_number = server.command(&["INCR", "key"]).unwrap_err();
    assert!(not_a_number.starts_with("ERR "), "{not_a_number}");
    let unknown = server.command(&["NO-SUCH-COMMAND"]).unwrap_err();
    assert!(unknown.starts_with("ERR unknown command"), "{unknown}");

    // Arrays: one line per element, recursively; nil elements.
    let time = server.command(&["TIME"])?;
    let lines: Vec<&str> = time.lines().collect();
    assert_eq!(lines.len(), 2, "TIME gave {time:?}");
    for line in lines {
        line.parse::<u64>()
            .map_err(|err| format!("TIME gave {time:?}: {err}"))?;
    }
    expect_eq(
        "MGET",
        &server.command(&["MGET", "empty", "missing", "counter"])?,
        "\n(nil)\n-4",
    )?;
    server.command(&["ZADD", "zset", "1", "one", "2", "two"])?;
    expect_eq(
        "ZRANGE WITHSCORES",
        &server.command(&["ZRANGE", "zset", "0", "-1", "WITHSCORES"])?,
        "one\n1\ntwo\n2",
    )?;
    expect_eq(
        "EVAL of a nested table",
        &server.command(&["EVAL", "return {1, {'a', 'b'}, 'c'}", "0"])?,
        "1\na\nb\nc",
    )?;
    expect_eq("ZCARD", &server.command(&["ZCARD", "zset"])?, "2")?;

    // The commands tests use for set-up.
    expect_eq("SCRIPT FLUSH", &server.command(&["SCRIPT", "FLUSH"])?, "OK")?;
    expect_eq("FLUSHALL", &server.command(&["FLUSHALL"])?, "OK")?;
    expect_eq("DBSIZE", &server.command(&["DBSIZE"])?, "0")?;

    // No command at all.
    assert!(server.command(&[]).is_err());
    Ok(())
}

#[test]
fn stop_makes_the_port_refuse_connections() -> Result<(), String> {
    let mut server = RedisServer::start();
    let addr = server.addr();

    server.stop();
    assert!(!server.is_running());
    refuses_connections(addr)?;
    let error = server.command(&["PING"]).unwrap_err();
    assert!(error.contains("could not connect"), "{error}");

    // Stopping again does nothing.
    server.stop();
    assert!(!server.is_running());
    Ok(())
}

#[test]
fn restart_answers_on_the_same_port_without_the_old_data() -> Result<(), String> {
    let mut server = RedisServer::start();
    let port = server.port();
    server.command(&["SET", "key", "value"])?;

    server.stop();
    server.restart();
    assert_eq!(server.port(), port);
    assert!(server.is_running());
    expect_eq("PING", &server.command(&["PING"])?, "PONG")?;
    expect_eq(
        "GET after restart",
        &server.command(&["GET", "key"])?,
        "(nil)",
    )?;

    // Restarting a running server stops it first.
    server.command(&["SET", "key", "value"])?;
    server.restart();
    assert_eq!(server.port(), port);
    expect_eq(
        "GET after restart",
        &server.command(&["GET", "key"])?,
        "(nil)",
    )
}

#[test]
fn a_server_that_shut_down_is_not_running_and_restarts() -> Result<(), String> {
    let mut server = RedisServer::start();
    // SHUTDOWN closes the connection instead of replying.
    assert!(server.command(&["SHUTDOWN", "NOSAVE"]).is_err());

    server.stop();
    assert!(!server.is_running());
    server.restart();
    expect_eq("PING", &server.command(&["PING"])?, "PONG")
}

#[test]
fn drop_kills_the_server() -> Result<(), String> {
    let server = RedisServer::start();
    let addr = server.addr();
    expect_eq("PING", &server.command(&["PING"])?, "PONG")?;

    drop(server);
    refuses_connections(addr)
}

#[test]
fn drop_of_a_stopped_server_is_fine() {
    let mut server = RedisServer::start();
    server.stop();
    drop(server);
}
