//! A real `redis-server` for tests, started on loopback and killed on drop.
//!
//! Use it to test code that talks to Redis (a Redis-backed rate limiter, a
//! cache) against the server itself rather than a mock: scripts, expiry,
//! `CLIENT PAUSE` and a restart behave as they do in production.
//! [`RedisServer::start`] runs one `redis-server` process on `127.0.0.1`, on
//! a free port, with no persistence and a temporary directory of its own;
//! [`RedisServer::url`] is what the client under test connects to;
//! [`RedisServer::command`] sends one command for set-up and inspection;
//! [`RedisServer::stop`] and [`RedisServer::restart`] take the server down
//! and bring it back, empty, on the same port. Dropping the [`RedisServer`]
//! kills the process and removes its directory.
//!
//! Everything here is synchronous and uses only the standard library, so it
//! works from any test: a plain `#[test]`, or inside a runtime (where
//! [`RedisServer::start`] blocks the thread for the few milliseconds the
//! server takes to come up).
//!
//! # Getting a `redis-server`
//!
//! The binary is looked up on `PATH`, then as `/usr/bin/redis-server` and
//! `/usr/sbin/redis-server`. When there is none, the first start in the
//! process installs Debian's package, once for the whole process (other
//! threads wait for it):
//!
//! ```text
//! DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 install -y --no-install-recommends redis-server
//! ```
//!
//! running `apt-get update` first, then the install again, only when that
//! fails because the package lists are missing or stale. This needs root
//! (or a `redis-server` already installed) on Debian or a derivative.
//!
//! The tests never skip: when no server can be had,
//! [`RedisServer::start`] panics with a message saying that the tests need a
//! real `redis-server`, why the automatic install failed (with the end of
//! `apt-get`'s output) and how to install it by hand.
//! [`RedisServer::try_start`] returns that message instead, for callers who
//! report it themselves.
//!
//! # Processes left behind
//!
//! The server is killed when its [`RedisServer`] is dropped, including when
//! a test panics and unwinds. A test process killed from outside, or built
//! with `panic = "abort"`, leaves its servers running; they listen on
//! loopback only and keep nothing on disk.
//!
//! # Examples
//!
//! ```
//! use donjon_test::redis::RedisServer;
//!
//! let server = RedisServer::start();
//! assert_eq!(server.command(&["PING"]), Ok("PONG".to_string()));
//!
//! // The client under test connects to `server.url()`.
//! assert_eq!(server.url(), format!("redis://127.0.0.1:{}/", server.port()));
//!
//! server.command(&["SET", "greeting", "hello"]).unwrap();
//! assert_eq!(server.command(&["GET", "greeting"]).unwrap(), "hello");
//! assert_eq!(server.command(&["GET", "missing"]).unwrap(), "(nil)");
//! // Dropping the server kills it.
//! ```

use std::env;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{self, Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// How long a started server has to answer `PING`.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a killed server's port has to start refusing connections.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long [`RedisServer::restart`] keeps trying to bind the same port.
const RESTART_BIND_TIMEOUT: Duration = Duration::from_secs(5);
/// The pause between two polls of a server coming up or going down.
const POLL_INTERVAL: Duration = Duration::from_millis(10);
/// The connect, read and write timeout of a poll.
const POLL_TIMEOUT: Duration = Duration::from_secs(1);
/// The connect, read and write timeout of [`RedisServer::command`].
const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);
/// How many free ports [`RedisServer::try_start`] tries.
const PORT_ATTEMPTS: usize = 5;
/// How many lines of a log or of `apt-get`'s output a message quotes.
const TAIL_LINES: usize = 20;
/// Where the binary is looked for after `PATH`.
const WELL_KNOWN_PATHS: [&str; 2] = ["/usr/bin/redis-server", "/usr/sbin/redis-server"];
/// The install command, as a message shows it.
const INSTALL_COMMAND: &str = "DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 \
                               install -y --no-install-recommends redis-server";

/// One `redis-server` process on `127.0.0.1`, killed on drop.
///
/// Each [`start`](Self::start) runs a new process on a port of its own, so
/// tests running in parallel do not share data. The server keeps nothing on
/// disk (`--save ""`, `--appendonly no`): a [`restart`](Self::restart)
/// comes back empty.
///
/// Dropping it kills the process (`SIGKILL`), waits for it and removes its
/// temporary directory; errors while doing so are ignored.
///
/// See the [module documentation](self) for how the binary is found or
/// installed.
#[derive(Debug)]
pub struct RedisServer {
    binary: PathBuf,
    dir: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts a `redis-server` on `127.0.0.1` and a free port, and waits
    /// until it answers `PING`.
    ///
    /// Installs `redis-server` with `apt-get` first when it is missing (see
    /// the [module documentation](self)).
    ///
    /// # Panics
    ///
    /// Panics when no `redis-server` can be found or installed, with a
    /// message saying so and how to install it by hand, and when the server
    /// does not answer `PING` within 10 seconds, with the end of its log.
    /// [`try_start`](Self::try_start) returns these messages instead.
    #[track_caller]
    pub fn start() -> RedisServer {
        match RedisServer::try_start() {
            Ok(server) => server,
            Err(message) => panic!("{message}"),
        }
    }

    /// Starts a `redis-server` like [`start`](Self::start), returning why
    /// it could not instead of panicking.
    ///
    /// # Errors
    ///
    /// Returns a message for people when no `redis-server` can be found or
    /// installed (saying that the tests need one, why the automatic install
    /// failed and how to install it by hand), and when the server does not
    /// answer `PING` within 10 seconds (with the end of its log).
    pub fn try_start() -> Result<RedisServer, String> {
        let binary = redis_server_binary()?;
        let dir = create_temp_dir()?;
        // From here on, dropping `server` removes the directory.
        let mut server = RedisServer {
            binary,
            dir,
            port: 0,
            child: None,
        };
        let mut taken = Vec::new();
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port()?;
            match server.spawn(port) {
                Ok(child) => {
                    server.port = port;
                    server.child = Some(child);
                    return Ok(server);
                }
                Err(SpawnError::PortTaken(_)) => taken.push(port.to_string()),
                Err(SpawnError::Failed(message)) => return Err(message),
            }
        }
        Err(format!(
            "could not start redis-server: each of the free ports {} was taken by another \
             process before redis-server could bind it",
            taken.join(", ")
        ))
    }

    /// The URL to connect to: `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The port the server listens on, the same after a
    /// [`restart`](Self::restart).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The address the server listens on: `127.0.0.1:PORT`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// Kills the server (`SIGKILL`), waits for the process to end, then
    /// until its port refuses connections.
    ///
    /// Does nothing when the server is already stopped. Clients connected
    /// to it see their connections reset; [`restart`](Self::restart) brings
    /// it back on the same port.
    ///
    /// # Panics
    ///
    /// Panics when the port still accepts connections 10 seconds after the
    /// process ended (another process listens on it), or when waiting for
    /// the process fails.
    #[track_caller]
    pub fn stop(&mut self) {
        if let Err(message) = self.shut_down() {
            panic!("{message}");
        }
    }

    /// Starts the server again on the same port and waits until it answers
    /// `PING`, [stopping](Self::stop) it first if it is running.
    ///
    /// The new server is empty: nothing was kept on disk. Use it to test a
    /// client reconnecting after Redis restarts.
    ///
    /// # Panics
    ///
    /// Panics when stopping the running server fails (see
    /// [`stop`](Self::stop)), when another process holds the port for 5
    /// seconds, and when the server does not answer `PING` within 10
    /// seconds, with the end of its log.
    #[track_caller]
    pub fn restart(&mut self) {
        if let Err(message) = self.shut_down().and_then(|()| self.start_again()) {
            panic!("{message}");
        }
    }

    /// Whether the server process is running: `false` after
    /// [`stop`](Self::stop), and when the process ended on its own (a
    /// `SHUTDOWN` command, a crash).
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// Sends one command on a fresh connection and returns the reply as
    /// text.
    ///
    /// A small synchronous client for setting up and inspecting the server
    /// in tests, not for the code under test. The command is sent as an
    /// array of bulk strings, one per argument, so arguments may hold
    /// spaces. The reply is rendered as:
    ///
    /// | reply | text |
    /// |---|---|
    /// | simple string | as is (`SET` gives `OK`) |
    /// | integer | its decimal text (`INCR` gives `1`) |
    /// | bulk string | its content, `(nil)` for a nil bulk string |
    /// | array | its elements rendered the same way and joined by `\n`, `(nil)` for a nil array |
    /// | error inside an array | `(error) ` and its text |
    ///
    /// ```
    /// use donjon_test::redis::RedisServer;
    ///
    /// let server = RedisServer::start();
    /// assert_eq!(server.command(&["INCR", "hits"]), Ok("1".to_string()));
    /// assert_eq!(server.command(&["RPUSH", "list", "a", "b c"]), Ok("2".to_string()));
    /// assert_eq!(server.command(&["LRANGE", "list", "0", "-1"]), Ok("a\nb c".to_string()));
    /// assert!(server.command(&["LPOP", "hits"]).unwrap_err().starts_with("WRONGTYPE"));
    /// ```
    ///
    /// # Errors
    ///
    /// Returns the text of an error reply (`ERR unknown command ...`), and a
    /// message saying what failed when `args` is empty, when the server
    /// cannot be reached (it is stopped) or does not answer within
    /// 5 seconds, or when the reply is not valid RESP.
    pub fn command(&self, args: &[&str]) -> Result<String, String> {
        if args.is_empty() {
            return Err("no command to send to redis-server: `args` is empty".to_string());
        }
        let addr = self.addr();
        let mut connection = Connection::open(addr, COMMAND_TIMEOUT)
            .map_err(|err| format!("could not connect to redis-server at {addr}: {err}"))?;
        let reply = connection.request(args).map_err(|err| {
            format!(
                "sending `{}` to redis-server at {addr} failed: {err}",
                args.join(" ")
            )
        })?;
        match reply {
            Reply::Error(message) => Err(message),
            reply => Ok(reply.render()),
        }
    }

    /// Kills the server, waits for it, then until its port refuses
    /// connections. Does nothing when it is not running.
    fn shut_down(&mut self) -> Result<(), String> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        // Fails only when the process has already ended, which is fine.
        let _ = child.kill();
        child
            .wait()
            .map_err(|err| format!("could not wait for redis-server to end: {err}"))?;
        wait_until_refused(self.addr())
    }

    /// Starts the server on its port again, retrying while the port is
    /// taken, for up to [`RESTART_BIND_TIMEOUT`].
    fn start_again(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + RESTART_BIND_TIMEOUT;
        loop {
            match self.spawn(self.port) {
                Ok(child) => {
                    self.child = Some(child);
                    return Ok(());
                }
                Err(SpawnError::PortTaken(output)) if Instant::now() >= deadline => {
                    return Err(format!(
                        "could not restart redis-server on 127.0.0.1:{}: the port was still \
                         taken after {} seconds.\n{output}",
                        self.port,
                        RESTART_BIND_TIMEOUT.as_secs()
                    ));
                }
                Err(SpawnError::PortTaken(_)) => thread::sleep(POLL_INTERVAL),
                Err(SpawnError::Failed(message)) => return Err(message),
            }
        }
    }

    /// Runs `redis-server` on `port` and waits until it answers `PING`;
    /// kills it if it does not.
    fn spawn(&self, port: u16) -> Result<Child, SpawnError> {
        let log = self.dir.join("redis.log");
        let stdio = self.dir.join("stdio.log");
        // Each run appends to the log: only what this run wrote is quoted.
        let log_start = fs::metadata(&log).map_or(0, |metadata| metadata.len());
        let out = File::create(&stdio).map_err(|err| {
            SpawnError::Failed(format!("could not create {}: {err}", stdio.display()))
        })?;
        let err = out.try_clone().map_err(|err| {
            SpawnError::Failed(format!("could not open {}: {err}", stdio.display()))
        })?;

        let mut child = Command::new(&self.binary)
            .arg("--port")
            .arg(port.to_string())
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .args(["--daemonize", "no", "--protected-mode", "yes"])
            .args(["--loglevel", "warning", "--logfile"])
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|err| {
                SpawnError::Failed(format!("could not run {}: {err}", self.binary.display()))
            })?;

        let failure = match wait_until_ready(&mut child, port) {
            Ok(()) => return Ok(child),
            Err(failure) => failure,
        };
        let _ = child.kill();
        let _ = child.wait();
        let output = format!("{}\n{}", quote_file(&log, log_start), quote_file(&stdio, 0));
        if output.contains("Address already in use") {
            Err(SpawnError::PortTaken(output))
        } else {
            Err(SpawnError::Failed(format!(
                "could not start redis-server ({}) on 127.0.0.1:{port}: {failure}.\n{output}",
                self.binary.display()
            )))
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.shut_down();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Why a `redis-server` run did not come up.
enum SpawnError {
    /// Another process held the port; the server's output.
    PortTaken(String),
    /// Anything else; the message for people.
    Failed(String),
}

/// Polls the server on `port` until it answers `PING` and is `child`
/// itself, not another server on the same port.
fn wait_until_ready(child: &mut Child, port: u16) -> Result<(), String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Err(format!("it exited ({status}) before answering PING")),
            Ok(None) => {}
            Err(err) => return Err(format!("could not check on the process: {err}")),
        }
        if answers_as(addr, child.id()) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "it did not answer PING within {} seconds",
                READY_TIMEOUT.as_secs()
            ));
        }
        thread::sleep(POLL_INTERVAL);
    }
}

/// Whether the server at `addr` answers `PING` with `PONG` and has the
/// process id `pid`.
fn answers_as(addr: SocketAddr, pid: u32) -> bool {
    let Ok(mut connection) = Connection::open(addr, POLL_TIMEOUT) else {
        return false;
    };
    if !matches!(connection.request(&["PING"]), Ok(Reply::Text(pong)) if pong == "PONG") {
        return false;
    }
    let expected = format!("process_id:{pid}");
    matches!(
        connection.request(&["INFO", "server"]),
        Ok(Reply::Text(info)) if info.lines().any(|line| line.trim_end() == expected)
    )
}

/// Polls `addr` until it refuses connections.
fn wait_until_refused(addr: SocketAddr) -> Result<(), String> {
    let deadline = Instant::now() + STOP_TIMEOUT;
    loop {
        match TcpStream::connect_timeout(&addr, POLL_TIMEOUT) {
            Err(err) if err.kind() == io::ErrorKind::ConnectionRefused => return Ok(()),
            _ if Instant::now() >= deadline => {
                return Err(format!(
                    "redis-server was killed, but {addr} still accepted connections {} seconds \
                     later: another process listens on it",
                    STOP_TIMEOUT.as_secs()
                ));
            }
            _ => thread::sleep(POLL_INTERVAL),
        }
    }
}

/// A port on `127.0.0.1` that was free a moment ago.
fn free_port() -> Result<u16, String> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|err| format!("could not find a free port on 127.0.0.1: {err}"))
}

/// Creates a new directory under the system's temporary directory.
fn create_temp_dir() -> Result<PathBuf, String> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let parent = env::temp_dir();
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = parent.join(format!("donjon-redis-{}-{n}", process::id()));
        match fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            // Left over by an earlier process with the same id.
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists && n < 1000 => {}
            Err(err) => {
                return Err(format!(
                    "could not create a directory for redis-server in {}: {err}",
                    parent.display()
                ));
            }
        }
    }
}

/// The `redis-server` binary, found or installed once per process.
fn redis_server_binary() -> Result<PathBuf, String> {
    static BINARY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BINARY
        .get_or_init(|| find_redis_server().map_or_else(install_redis_server, Ok))
        .clone()
}

/// `redis-server` on `PATH`, or at one of the [`WELL_KNOWN_PATHS`].
fn find_redis_server() -> Option<PathBuf> {
    let on_path = env::var_os("PATH")
        .map(|paths| env::split_paths(&paths).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|dir| dir.join("redis-server"));
    on_path
        .chain(WELL_KNOWN_PATHS.iter().map(PathBuf::from))
        .find(|path| path.is_file())
}

/// Installs Debian's `redis-server` package and finds the binary.
fn install_redis_server() -> Result<PathBuf, String> {
    let install = ["install", "-y", "--no-install-recommends", "redis-server"];
    let mut outcome = apt_get(&install);
    if outcome
        .as_ref()
        .is_err_and(|output| lists_are_stale(output))
    {
        outcome = apt_get(&["update"]).and_then(|()| apt_get(&install));
    }
    // Another process may have installed it meanwhile, even if this
    // install failed.
    if let Some(binary) = find_redis_server() {
        return Ok(binary);
    }
    let reason = match outcome {
        Ok(()) => "apt-get reported success, but still no redis-server is on PATH, at \
                   /usr/bin/redis-server or at /usr/sbin/redis-server"
            .to_string(),
        Err(output) => output,
    };
    Err(format!(
        "donjon_test::redis: these tests need a real redis-server, and none was found on PATH, at \
         /usr/bin/redis-server or at /usr/sbin/redis-server; they do not skip without one.\n\
         Installing it automatically with `{INSTALL_COMMAND}` failed:\n{reason}\n\
         Install it by hand, then run the tests again: on Debian or Ubuntu, as root, \
         `apt-get update && apt-get install -y redis-server`; elsewhere, with your package \
         manager (`brew install redis`, `dnf install redis`, ...), so that `redis-server` is on \
         PATH."
    ))
}

/// Whether `apt-get`'s output says the package lists are missing or out of
/// date, so that `apt-get update` may help.
fn lists_are_stale(output: &str) -> bool {
    [
        "Unable to locate package",
        "has no installation candidate",
        "Failed to fetch",
    ]
    .iter()
    .any(|sign| output.contains(sign))
}

/// Runs `apt-get` non-interactively, waiting up to 2 minutes for its lock;
/// on failure, returns the command and the end of its output.
fn apt_get(args: &[&str]) -> Result<(), String> {
    let shown = format!("apt-get {}", args.join(" "));
    let output = Command::new("apt-get")
        .args(["-o", "DPkg::Lock::Timeout=120"])
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(Stdio::null())
        .output()
        .map_err(|err| format!("could not run `{shown}`: {err}"))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let text = if stderr.trim().is_empty() {
        String::from_utf8_lossy(&output.stdout)
    } else {
        stderr
    };
    Err(format!(
        "`{shown}` exited with {}; its output ends with:\n{}",
        output.status,
        tail(&text)
    ))
}

/// The end of the file at `path` from byte `start`, introduced by its name.
fn quote_file(path: &Path, start: u64) -> String {
    let mut text = String::new();
    let read = File::open(path).and_then(|mut file| {
        file.seek(SeekFrom::Start(start))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        text = String::from_utf8_lossy(&bytes).into_owned();
        Ok(())
    });
    match read {
        Err(err) => format!("({} could not be read: {err})", path.display()),
        Ok(()) if text.trim().is_empty() => format!("({} is empty)", path.display()),
        Ok(()) => format!("{} ends with:\n{}", path.display(), tail(&text)),
    }
}

/// The last [`TAIL_LINES`] lines of `text`.
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n")
}

/// A connection speaking RESP, with timeouts.
struct Connection {
    reader: BufReader<TcpStream>,
}

impl Connection {
    fn open(addr: SocketAddr, timeout: Duration) -> io::Result<Connection> {
        let stream = TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        Ok(Connection {
            reader: BufReader::new(stream),
        })
    }

    /// Sends `args` as an array of bulk strings and reads the reply.
    fn request(&mut self, args: &[&str]) -> io::Result<Reply> {
        let mut frame = format!("*{}\r\n", args.len()).into_bytes();
        for arg in args {
            frame.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            frame.extend_from_slice(arg.as_bytes());
            frame.extend_from_slice(b"\r\n");
        }
        self.reader.get_mut().write_all(&frame)?;
        read_reply(&mut self.reader)
    }
}

/// A reply, as far as [`RedisServer::command`] tells replies apart.
enum Reply {
    /// A simple string, an integer or a bulk string.
    Text(String),
    /// A nil bulk string or array.
    Nil,
    /// An error.
    Error(String),
    /// An array (or a RESP3 map or set, flattened).
    Array(Vec<Reply>),
}

impl Reply {
    fn render(&self) -> String {
        match self {
            Reply::Text(text) => text.clone(),
            Reply::Nil => "(nil)".to_string(),
            Reply::Error(message) => format!("(error) {message}"),
            Reply::Array(items) => items
                .iter()
                .map(Reply::render)
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }
}

/// Reads one RESP2 reply, or one of the common RESP3 ones.
fn read_reply(reader: &mut impl BufRead) -> io::Result<Reply> {
    let line = read_line(reader)?;
    let Some(kind) = line.chars().next() else {
        return Err(invalid("an empty line instead of a reply"));
    };
    let rest = &line[kind.len_utf8()..];
    match kind {
        // Simple string, integer, double, big number, boolean.
        '+' | ':' | ',' | '(' | '#' => Ok(Reply::Text(rest.to_string())),
        '-' => Ok(Reply::Error(rest.to_string())),
        '_' => Ok(Reply::Nil),
        // Bulk string, verbatim string, bulk error.
        '$' | '=' | '!' => {
            let Some(len) = length(rest)? else {
                return Ok(Reply::Nil);
            };
            let mut bytes = vec![0; len + 2];
            reader.read_exact(&mut bytes)?;
            if !bytes.ends_with(b"\r\n") {
                return Err(invalid("a bulk string not ended by CRLF"));
            }
            bytes.truncate(len);
            let mut text = String::from_utf8_lossy(&bytes).into_owned();
            if kind == '=' {
                // A verbatim string starts with its format, as in `txt:`.
                text = text.get(4..).unwrap_or_default().to_string();
            }
            Ok(if kind == '!' {
                Reply::Error(text)
            } else {
                Reply::Text(text)
            })
        }
        // Array, set, push; a map has two elements per entry.
        '*' | '~' | '>' | '%' => {
            let Some(len) = length(rest)? else {
                return Ok(Reply::Nil);
            };
            let count = if kind == '%' { len * 2 } else { len };
            let items = (0..count)
                .map(|_| read_reply(reader))
                .collect::<io::Result<_>>()?;
            Ok(Reply::Array(items))
        }
        _ => Err(invalid(&format!("an unknown reply type: {line:?}"))),
    }
}

/// A length, `None` for `-1` (nil).
fn length(text: &str) -> io::Result<Option<usize>> {
    if text == "-1" {
        return Ok(None);
    }
    text.parse()
        .map(Some)
        .map_err(|_| invalid(&format!("an invalid length: {text:?}")))
}

/// One line, without its CRLF.
fn read_line(reader: &mut impl BufRead) -> io::Result<String> {
    let mut bytes = Vec::new();
    if reader.read_until(b'\n', &mut bytes)? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the connection was closed before a reply",
        ));
    }
    if !bytes.ends_with(b"\r\n") {
        return Err(invalid("a line not ended by CRLF"));
    }
    bytes.truncate(bytes.len() - 2);
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("redis-server sent {what}"),
    )
}
